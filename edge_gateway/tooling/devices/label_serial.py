"""``sebiao label write``: ask a station in provisioning mode, over its USB serial
port, to write a tool's smart label onto the next tag held to its reader.

The line protocol is firmware/sebiao_station/serial_cmd.py's (documented in
docs/device-tooling.md): ``SEBIAO LABEL <tool> <kind> <color>`` answered by
``SEBIAO ARMED``, then ``SEBIAO OK <uid> <tool>`` or ``SEBIAO ERR <reason>``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.tooling.devices.ports import DeviceError, require_port
from sebiao_common.errors import ConfigError

PREFIX = "SEBIAO "
ARM_TIMEOUT_S = 5.0
TAG_TIMEOUT_S = 65.0  # the station waits 60 s for a tag


class Line(Protocol):
    def write(self, data: bytes) -> int | None: ...
    def readline(self) -> bytes: ...


@dataclass(frozen=True, kw_only=True)
class Written:
    uid: str
    tool: str


def label_command(config: WorkshopConfig, tool_id: str) -> str:
    tool = config.tool(tool_id)
    if tool is None:
        raise ConfigError(config.file, "tools", f"no tool '{tool_id}' in the workshop")
    return f"{PREFIX}LABEL {tool.id} {tool.kind} {tool.color}\n"


def write_label(link: Line, command: str, port: str, clock=time.monotonic) -> Written:
    """Send the command and follow the station's replies (``link``: a pyserial Serial with a timeout)."""
    link.write(command.encode("ascii"))
    tool = command.split()[2]
    reply = _reply(link, port, clock() + ARM_TIMEOUT_S, clock)
    if reply != ["ARMED", tool]:
        raise DeviceError(f"{port}: the station did not arm for {tool}: {' '.join(reply)}")
    reply = _reply(link, port, clock() + TAG_TIMEOUT_S, clock)
    if reply[0] == "OK" and len(reply) == 3:
        return Written(uid=reply[1], tool=reply[2])
    raise DeviceError(f"{port}: writing {tool}'s label failed: {' '.join(reply[1:]) or reply[0]} / 写标签失败")


def _reply(link: Line, port: str, deadline: float, clock) -> list[str]:
    while clock() < deadline:
        raw = link.readline()
        text = raw.decode("utf-8", "replace").strip()
        if text.startswith(PREFIX):
            words = text[len(PREFIX):].split()
            if words and words[0] == "ERR":
                raise DeviceError(f"{port}: the station refused: {' '.join(words[1:])}")
            if words:
                return words
    raise DeviceError(f"{port}: no answer from the station; is it running the sebiao firmware "
                      "(not the REPL prompt)? / 读卡站无应答")


def write_over_serial(port: str, command: str, baud: int = 115200) -> Written:
    require_port(port)
    import serial

    try:
        with serial.Serial(port, baud, timeout=0.5) as link:
            return write_label(link, command, port)
    except serial.SerialException as exc:
        raise DeviceError(f"{port}: cannot open the serial port: {exc}") from None
