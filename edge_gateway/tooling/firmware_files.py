"""Where the station firmware (MicroPython, ``firmware/`` in the repository) is.

``firmware/`` stays the one source, laid out as on the device's flash
(``main.py``, ``sebiao_station/``; ``sebiao_sim/`` for host runs). Two ways to
have it:

* a source checkout or ``pip install -e .``: the ``firmware/`` folder next to
  ``edge_gateway/``;
* a normal install (wheel): ``setup.py``'s ``build_py`` copies it into the
  package as ``edge_gateway/_firmware/``.

``SEBIAO_FIRMWARE=DIR`` overrides both. ``use_firmware()`` puts the folder on
``sys.path`` so ``import sebiao_station`` and ``import sebiao_sim`` work, as
they do on the device and in the firmware's own tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sebiao_common.errors import SebiaoError

_PACKAGE = Path(__file__).resolve().parents[1]  # edge_gateway/
PACKAGE_COPY = _PACKAGE / "_firmware"
CHECKOUT = _PACKAGE.parent / "firmware"
FLASHED = ("main.py", "sebiao_boot.py", "sebiao_station")  # what goes onto the device (sebiao_sim is host-only)


class FirmwareNotFound(SebiaoError):
    pass


def firmware_dir() -> Path:
    override = os.environ.get("SEBIAO_FIRMWARE")
    candidates = [Path(override)] if override else [PACKAGE_COPY, CHECKOUT]
    for folder in candidates:
        if (folder / "sebiao_station" / "app.py").is_file():
            return folder
    where = ", ".join(str(c) for c in candidates)
    raise FirmwareNotFound(f"the station firmware is not installed: no sebiao_station/app.py in {where} "
                           "(reinstall sebiao, or set SEBIAO_FIRMWARE to the firmware folder) / 未找到读卡站固件")


def use_firmware() -> Path:
    """Make ``sebiao_station`` and ``sebiao_sim`` importable; returns the firmware folder."""
    folder = firmware_dir()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return folder
