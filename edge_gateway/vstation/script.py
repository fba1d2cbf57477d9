"""The tag script a virtual station reads on standard input, one command a line:

    place <uid> [tool kind color]   a tag enters the reader's field (optionally a smart label)
    remove <uid>                    it leaves the field
    wait <seconds>                  let the station run that long before the next line
    hold <seconds>                  the same as wait (a cycle's hold at temperature reads better)
    heat <°C> [seconds]             the probe's temperature goes to °C, in a straight line over
    cool <°C> [seconds]             that many seconds (default 0: at once); the next line waits
    temp <°C> [seconds]             until it is there (heat, cool and temp are the same step)
    probe ok|absent|crc|stuck85     the probe answers, or fails: no presence pulse, a CRC error
                                    on the wire, 85 °C stuck in the scratchpad
    # a comment; blank lines are skipped

The probe steps need a station whose config.json has "probe".

A bad line raises :class:`ScriptError` naming its line number; the caller
reports it and goes on with the next line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sebiao_common.domain import COLORS, TOOL_KINDS
from sebiao_common.ids import normalize_tag

MAX_WAIT_S = 24 * 3600.0
MIN_C, MAX_C = -55.0, 125.0  # the DS18B20's rated range
PROBE_FAULTS = ("ok", "absent", "crc", "stuck85")


class ScriptError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        self.line, self.reason = line, reason
        super().__init__(f"line {line}: {reason}")


@dataclass(frozen=True, kw_only=True)
class Place:
    uid: str
    label: dict[str, str] | None = None  # {"tool", "kind", "color"}


@dataclass(frozen=True, kw_only=True)
class Remove:
    uid: str


@dataclass(frozen=True, kw_only=True)
class Wait:
    seconds: float


@dataclass(frozen=True, kw_only=True)
class Temp:
    celsius: float
    seconds: float = 0.0  # the ramp's length


@dataclass(frozen=True, kw_only=True)
class ProbeFault:
    fault: str  # one of PROBE_FAULTS


Command = Place | Remove | Wait | Temp | ProbeFault
PROBE_COMMANDS = (Temp, ProbeFault)

USAGE = ("place <uid> [tool kind color] | remove <uid> | wait <seconds> | heat|cool|temp <°C> [seconds] | "
         "hold <seconds> | probe ok|absent|crc|stuck85")


def parse_line(text: str, line: int) -> Command | None:
    """One command, or None for a blank line or a comment."""
    words = text.split("#", 1)[0].split()
    if not words:
        return None
    verb, args = words[0].lower(), words[1:]
    if verb == "place":
        if len(args) not in (1, 4):
            raise ScriptError(line, f"'place' takes a UID, optionally followed by tool, kind and colour: {USAGE}")
        return Place(uid=_uid(args[0], line), label=_label(args[1:], line) if len(args) == 4 else None)
    if verb == "remove":
        if len(args) != 1:
            raise ScriptError(line, "'remove' takes exactly one UID")
        return Remove(uid=_uid(args[0], line))
    if verb in ("wait", "hold"):
        if len(args) != 1:
            raise ScriptError(line, f"'{verb}' takes a number of seconds")
        return Wait(seconds=_seconds(verb, args[0], line))
    if verb in ("heat", "cool", "temp"):
        if len(args) not in (1, 2):
            raise ScriptError(line, f"'{verb}' takes a temperature in °C, optionally followed by seconds")
        return Temp(celsius=_celsius(verb, args[0], line),
                    seconds=_seconds(verb, args[1], line) if len(args) == 2 else 0.0)
    if verb == "probe":
        if len(args) != 1 or args[0].lower() not in PROBE_FAULTS:
            raise ScriptError(line, f"'probe' takes one of {', '.join(PROBE_FAULTS)}")
        return ProbeFault(fault=args[0].lower())
    raise ScriptError(line, f"unknown command '{words[0]}' (use {USAGE})")


def _seconds(verb: str, text: str, line: int) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise ScriptError(line, f"'{verb} {text}': not a number of seconds") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT_S:
        raise ScriptError(line, f"'{verb} {text}': use 0 to {MAX_WAIT_S:g} seconds")
    return seconds


def _celsius(verb: str, text: str, line: int) -> float:
    try:
        celsius = float(text)
    except ValueError:
        raise ScriptError(line, f"'{verb} {text}': not a temperature in °C") from None
    if not math.isfinite(celsius) or not MIN_C <= celsius <= MAX_C:
        raise ScriptError(line, f"'{verb} {text}': the probe reads {MIN_C:g} to {MAX_C:g} °C")
    return celsius


def _uid(text: str, line: int) -> str:
    try:
        return normalize_tag(text)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")  # normalize_tag speaks Chinese, then English
        raise ScriptError(line, f"UID：{zh} / UID: {en}" if en else f"UID: {exc}") from None


def _label(fields: list[str], line: int) -> dict[str, str]:
    tool, kind, color = fields
    if kind not in TOOL_KINDS:
        raise ScriptError(line, f"kind '{kind}' is not one of {', '.join(TOOL_KINDS)}")
    if color not in COLORS:
        raise ScriptError(line, f"colour '{color}' is not one of {', '.join(COLORS)}")
    if len(tool) > 32 or "|" in tool:
        raise ScriptError(line, f"tool id '{tool}': at most 32 characters, no '|'")
    return {"tool": tool, "kind": kind, "color": color}
