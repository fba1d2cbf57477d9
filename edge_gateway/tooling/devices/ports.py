"""Serial ports: fail at once, naming the port, when no device is there; find the ESP32 boards plugged in
(by their USB bridge's VID:PID)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


# USB-serial bridges on ESP32 boards (VID, PID; PID None: any product of that vendor).
ESP32_USB_IDS: tuple[tuple[int, int | None, str], ...] = (
    (0x10C4, 0xEA60, "CP210x"),
    (0x1A86, 0x7523, "CH340"),
    (0x1A86, 0x55D4, "CH9102"),
    (0x0403, 0x6001, "FTDI"),
    (0x0403, 0x6015, "FTDI"),
    (0x303A, None, "ESP32 USB"),  # the S2/S3/C3's own USB (Espressif's vendor id)
)


@dataclass(frozen=True, kw_only=True)
class SerialPort:
    device: str
    vid: int | None = None
    pid: int | None = None


def system_ports() -> list[SerialPort]:
    """The serial ports here, with their USB ids (pyserial)."""
    from serial.tools import list_ports

    return [SerialPort(device=p.device, vid=p.vid, pid=p.pid) for p in list_ports.comports()]


def bridge_name(port: SerialPort) -> str | None:
    """The ESP32 USB bridge this port is ("CP210x"…), None when it is not one."""
    for vid, pid, name in ESP32_USB_IDS:
        if port.vid == vid and (pid is None or port.pid == pid):
            return name
    return None


def esp32_ports(explicit: Sequence[str] = (), lister: Callable[[], list[SerialPort]] = system_ports) -> list[str]:
    """The ports where an ESP32 board is plugged in now: those with a known bridge's VID:PID, then the
    ``explicit`` ones (``--port``) that exist. ``lister`` is injectable (tests present pseudo-terminals)."""
    found = [p.device for p in lister() if bridge_name(p) is not None]
    return found + [p for p in explicit if p not in found and _present(p, lister)]


def _present(port: str, lister: Callable[[], list[SerialPort]]) -> bool:
    if os.name == "posix" and port.startswith("/"):
        return Path(port).exists()
    return any(p.device == port for p in lister())
