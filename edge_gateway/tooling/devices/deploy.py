"""``sebiao firmware deploy``: copy the bundle (and a station's config.json, and the release key's public half
``release_key.json`` for updates over Wi-Fi, docs/fleet.md) to the station's flash with mpremote, then reset it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from edge_gateway.tooling.devices.bundle import load_manifest
from edge_gateway.tooling.devices.ports import DeviceError, require_port
from edge_gateway.tooling.station_config import load_station_config
from sebiao_common import strict_json

TIMEOUT_S = 120


def mpremote_args(port: str, bundle: Path, config: Path | None, verify: str | None = None,
                  release_key: Path | None = None) -> list[str]:
    """The mpremote command line (one connection, commands chained with '+'); ``verify``: code run on the
    board after the copies, before the reset (the read-back of ``sebiao firmware install``)."""
    manifest = load_manifest(bundle)
    args = ["connect", port]
    for folder in sorted({str(Path(f["path"]).parent) for f in manifest["files"]} - {"."}):
        args += ["+", "exec", f"import os\ntry:\n os.mkdir('{folder}')\nexcept OSError:\n pass"]
    for entry in manifest["files"]:
        args += ["+", "fs", "cp", str(bundle / entry["path"]), ":" + entry["path"]]
    if config is not None:
        args += ["+", "fs", "cp", str(config), ":config.json"]
    if release_key is not None:
        args += ["+", "fs", "cp", str(release_key), ":release_key.json"]
    if verify is not None:
        args += ["+", "exec", verify]
    return args + ["+", "reset"]


def deploy(port: str, bundle: str | Path, config: str | Path | None = None,
           release_key: str | Path | None = None) -> list[str]:
    bundle = Path(bundle)
    load_manifest(bundle)  # a bundle, before touching the device
    checked = None
    if config is not None:
        cfg = load_station_config(config)  # the firmware's own validation, before copying
        checked = Path(tempfile.mkdtemp(prefix="sebiao-deploy-")) / "config.json"
        checked.write_text(strict_json.dumps(cfg), "utf-8")
    require_port(port)
    args = mpremote_args(port, bundle, checked, release_key=Path(release_key) if release_key else None)
    run = subprocess.run([sys.executable, "-m", "mpremote", *args], capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    if run.returncode != 0:
        raise DeviceError(f"{port}: mpremote failed ({run.returncode}): {(run.stderr or run.stdout).strip()[-500:]}")
    return args
