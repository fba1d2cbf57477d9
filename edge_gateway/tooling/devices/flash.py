"""``sebiao firmware flash``: erase the ESP32 and write a MicroPython image, through
esptool's Python API (esptool 5: ``esptool.cmds``)."""

from __future__ import annotations

from pathlib import Path

from edge_gateway.tooling.devices.ports import DeviceError, require_port
from sebiao_common.errors import ConfigError

ESP32_ADDRESS = 0x1000  # classic ESP32; ESP32-S3/C3 images start at 0x0


def flash(port: str, image: str | Path, address: int = ESP32_ADDRESS, baud: int = 460800,
          quiet: bool = False) -> str | None:
    """Erase and write ``image``; the chip's MAC (aa:bb:…), None if it would not say. ``quiet``: esptool
    says nothing (``sebiao firmware install`` prints one line per board)."""
    image = Path(image)
    if not image.is_file():
        raise ConfigError("--image", "", f"{image}: no such file (download the ESP32 MicroPython .bin first)")
    require_port(port)
    from esptool.cmds import (
        attach_flash,
        detect_chip,
        erase_flash,
        reset_chip,
        run_stub,
        write_flash,
    )
    from esptool.logger import log
    from esptool.util import FatalError

    log.set_verbosity("silent" if quiet else "auto")
    try:
        with detect_chip(port, baud=115200) as esp:
            esp = run_stub(esp)
            mac = _mac(esp)
            if baud != 115200:
                esp.change_baud(baud)
            attach_flash(esp)
            erase_flash(esp)
            write_flash(esp, [(address, str(image))])
            reset_chip(esp, "hard-reset")
    except (FatalError, OSError) as exc:
        raise DeviceError(f"{port}: flashing {image.name} failed: {exc} / 烧录失败") from None
    finally:
        log.set_verbosity("auto")
    return mac


def _mac(esp) -> str | None:
    try:
        return ":".join(f"{b:02x}" for b in esp.read_mac())
    except Exception:  # a chip or ROM that does not tell its MAC: the id is only for the summary
        return None
