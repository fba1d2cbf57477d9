"""The firmware logic tests again, under real MicroPython (the WebAssembly port
from npm, in Node). Fails if any of them fails there."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WASM = Path(__file__).parent / "wasm"
PACKAGE = WASM / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


def _node_ready():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed to run the firmware tests under MicroPython")
    if not PACKAGE.exists():  # clean clone (CI): install exactly what package-lock.json says
        subprocess.run(["npm", "ci", "--prefix", str(WASM), "--no-audit", "--no-fund"],
                       check=True, capture_output=True, timeout=300)


def test_firmware_logic_tests_pass_under_micropython():
    _node_ready()
    run = subprocess.run(["node", str(WASM / "run.mjs")], capture_output=True, text=True,
                         timeout=240, cwd=WASM, env=dict(os.environ))
    tail = (run.stdout + run.stderr)[-6000:]
    assert run.returncode == 0, tail
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("micropython 1.") and last.endswith(" 0 failed"), tail
    passed = int(last.split(": ")[1].split(" passed")[0])
    modules = sorted(Path(__file__).parent.glob("test_fw_*.py"))
    assert passed >= len(modules) * 3, last  # every module ran, not just one
