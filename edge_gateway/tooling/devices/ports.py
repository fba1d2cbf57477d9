"""Serial ports: fail at once, naming the port, when no device is there."""

from __future__ import annotations

import os
from pathlib import Path

from sebiao_common.errors import SebiaoError


class DeviceError(SebiaoError):
    """A device could not be reached or refused what we asked (names the port)."""


def require_port(port: str) -> str:
    """The port if something is there; DeviceError naming it otherwise (no waiting, no retries)."""
    if os.name == "posix" and port.startswith("/"):
        if not Path(port).exists():
            raise DeviceError(f"{port}: no such serial port: is the station plugged in (USB), and is this its "
                              f"port? Try `ls /dev/ttyUSB* /dev/ttyACM*` / 串口 {port} 不存在，请检查 USB 连接")
        return port
    from serial.tools import list_ports

    known = [p.device for p in list_ports.comports()]
    if port not in known:
        raise DeviceError(f"{port}: no such serial port (ports here: {', '.join(known) or 'none'}) / 串口不存在")
    return port
