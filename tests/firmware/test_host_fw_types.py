"""mypy over the firmware against micropython-esp32-stubs (MicroPython's own
stdlib stubs as typeshed, the ESP32 modules on MYPYPATH). The stubs go into
tests/artifacts/mpy-stubs, not the venv: they shadow CPython's stdlib stubs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "tests" / "artifacts" / "mpy-stubs"
STUBS_VERSION = "1.29.0.post1"


def _stubs():
    marker = STUBS / (".installed-" + STUBS_VERSION)
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(STUBS), "--upgrade", "micropython-esp32-stubs==" + STUBS_VERSION],
                       check=True, capture_output=True, timeout=300)
        marker.write_text("ok")
    return STUBS


def test_firmware_type_checks_against_micropython_esp32_stubs():
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is missing: it is in pyproject's [test] extras (scripts/setup --test)")
    stubs = _stubs()
    env = dict(os.environ, MYPYPATH=str(stubs))
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini",
                          "--custom-typeshed-dir", str(stubs), "--cache-dir", str(stubs.parent / "mypy-cache"),
                          "-p", "sebiao_station", "-p", "sebiao_sim", "-m", "sebiao_boot", "-m", "main"],
                         cwd=ROOT / "firmware", env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Success" in run.stdout
