"""One board, as ``sebiao firmware install`` sees it through mpremote: who it is (its chip id, the station
its ``config.json`` names) and a deploy that reads every file's SHA-256 back from the flash before the reset.

The code sent to the board is plain MicroPython (``machine``, ``binascii``, ``hashlib``, ``json``); its
answers are lines starting with ``SEBIAO-``, so REPL noise around them is ignored.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edge_gateway.tooling.devices.bundle import load_manifest
from edge_gateway.tooling.devices.deploy import TIMEOUT_S, mpremote_args
from edge_gateway.tooling.devices.ports import DeviceError

PROBE_TIMEOUT_S = 30
# machine.unique_id() is the ESP32's factory MAC; config.json is read with the firmware's own json module.
PROBE = """import machine, binascii
w = s = '-'
try:
    import json
    with open('config.json') as f:
        c = json.load(f)
    w, s = c.get('workshop') or '-', c.get('station') or '-'
except Exception:
    pass
print('SEBIAO-BOARD', binascii.hexlify(machine.unique_id()).decode(), w, s)
"""
VERIFY = """import hashlib, binascii
def _h(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            h.update(b)
    return binascii.hexlify(h.digest()).decode()
for p in %r:
    try:
        print('SEBIAO-HASH', p, _h(p))
    except OSError:
        print('SEBIAO-HASH', p, '-')
"""


@dataclass(frozen=True, kw_only=True)
class BoardInfo:
    board_id: str | None  # the chip's id (its MAC, aa:bb:…); None when the board did not answer
    workshop: str | None = None  # from the config.json on its flash, None without one
    station: str | None = None


def mac_text(raw_hex: str) -> str:
    return ":".join(raw_hex[i:i + 2] for i in range(0, len(raw_hex), 2)).lower()


def run_mpremote(args: list[str], port: str, timeout: float = TIMEOUT_S) -> str:
    """mpremote's standard output; DeviceError naming the port, with mpremote's last words, when it fails."""
    try:
        run = subprocess.run([sys.executable, "-m", "mpremote", *args], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeviceError(f"{port}: no answer within {timeout:.0f} s / 板卡无应答") from None
    if run.returncode != 0:
        said = (run.stderr.strip() or run.stdout.strip())[-400:]
        raise DeviceError(f"{port}: mpremote failed ({run.returncode}): {said}")
    return run.stdout


def probe(port: str) -> BoardInfo:
    """The board's chip id and the station it carries (DeviceError when no MicroPython answers)."""
    out = run_mpremote(["connect", port, "exec", PROBE], port, PROBE_TIMEOUT_S)
    for line in out.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == "SEBIAO-BOARD":
            return BoardInfo(board_id=mac_text(words[1]), workshop=None if words[2] == "-" else words[2],
                             station=None if words[3] == "-" else words[3])
    raise DeviceError(f"{port}: the board did not say who it is (is MicroPython on it? --image writes it): "
                      f"{out.strip()[-200:]}")


def deploy_verified(port: str, bundle: Path, config: Path, release_key: Path | None = None) -> BoardInfo:
    """Copy the bundle and ``config`` (one mpremote session), read back every file's SHA-256 and the chip id,
    then reset. DeviceError naming the first file whose copy differs."""
    manifest = load_manifest(bundle)
    expected = {f["path"]: f["sha256"] for f in manifest["files"]}
    expected["config.json"] = hashlib.sha256(config.read_bytes()).hexdigest()
    if release_key is not None:
        expected["release_key.json"] = hashlib.sha256(release_key.read_bytes()).hexdigest()
    args = mpremote_args(port, bundle, config, verify=VERIFY % (sorted(expected),) + PROBE, release_key=release_key)
    out = run_mpremote(args, port)
    seen = {w[1]: w[2] for w in (line.split() for line in out.splitlines()) if len(w) == 3 and w[0] == "SEBIAO-HASH"}
    for path, digest in sorted(expected.items()):
        if seen.get(path) != digest:
            what = "missing" if seen.get(path) in (None, "-") else "differs"
            raise DeviceError(f"{port}: {path} on the board {what} after the copy / 校验失败：{path}")
    ids = [w for w in (line.split() for line in out.splitlines()) if len(w) == 4 and w[0] == "SEBIAO-BOARD"]
    return BoardInfo(board_id=mac_text(ids[0][1]) if ids else None,
                     workshop=ids[0][2] if ids else None, station=ids[0][3] if ids else None)
