"""The tag script a virtual station reads on standard input, one command a line:

    place <uid> [tool kind color]   a tag enters the reader's field (optionally a smart label)
    remove <uid>                    it leaves the field
    wait <seconds>                  let the station run that long before the next line
    # a comment; blank lines are skipped

A bad line raises :class:`ScriptError` naming its line number; the caller
reports it and goes on with the next line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sebiao_common.domain import COLORS, TOOL_KINDS
from sebiao_common.ids import normalize_tag

MAX_WAIT_S = 24 * 3600.0


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


Command = Place | Remove | Wait

USAGE = "place <uid> [tool kind color] | remove <uid> | wait <seconds>"


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
    if verb == "wait":
        if len(args) != 1:
            raise ScriptError(line, "'wait' takes a number of seconds")
        try:
            seconds = float(args[0])
        except ValueError:
            raise ScriptError(line, f"'wait {args[0]}': not a number of seconds") from None
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT_S:
            raise ScriptError(line, f"'wait {args[0]}': use 0 to {MAX_WAIT_S:g} seconds")
        return Wait(seconds=seconds)
    raise ScriptError(line, f"unknown command '{words[0]}' (use {USAGE})")


def _uid(text: str, line: int) -> str:
    try:
        return normalize_tag(text)
    except ValueError as exc:
        raise ScriptError(line, f"UID: {exc}") from None


def _label(fields: list[str], line: int) -> dict[str, str]:
    tool, kind, color = fields
    if kind not in TOOL_KINDS:
        raise ScriptError(line, f"kind '{kind}' is not one of {', '.join(TOOL_KINDS)}")
    if color not in COLORS:
        raise ScriptError(line, f"colour '{color}' is not one of {', '.join(COLORS)}")
    if len(tool) > 32 or "|" in tool:
        raise ScriptError(line, f"tool id '{tool}': at most 32 characters, no '|'")
    return {"tool": tool, "kind": kind, "color": color}
