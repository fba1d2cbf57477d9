"""Washes that were washes, and the disinfection cycles, for a workshop's report.

Definitions (also in ``docs/cloud-ingest.md``, "Reports"):

- A **wash** is a tool's stay at a sink of its colour of at least
  ``WASH_DWELL_MS``: the tool's ``placed`` event at a sink followed, as its
  very next event, by its ``removed`` at the same sink, at least the dwell
  later (the gateway's rule ``rules.wash_min_seconds``; its default is used
  until the cloud knows the workshop's own setting). It counts in the period
  of its ``removed``; the ``placed`` is looked up to ``LOOKBACK_MS`` before the
  period. A stay that is shorter, at a sink of another colour, or of a tool
  whose colour is unknown is not a wash; the report counts each apart.
- A tool's **colour** is read from its id by the convention of the workshop
  configs (``KN-R-01``: kind, colour letter, number; R red, B blue, G green,
  Y yellow, W white). The cloud has no other word for it yet; a tool whose id
  does not follow the convention has no known colour, and the report names it.
- A **disinfection cycle** is one the gateway judged (``cycles``), in the
  period of its end (``ts``): per station and method, how many passed of all.

Pure functions over rows (``count_washes``, ``cycle_lines``) and the two
queries that give them rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from sqlalchemy import Connection, case, func, select

from cloud_ingest.reports.figures import StationInfo
from cloud_ingest.store.schema import cycles, events
from sebiao_common.domain import COLORS, DISINFECT_METHODS, HOT_WASH

WASH_DWELL_MS = 15_000  # the gateway's default rules.wash_min_seconds (15 s)
LOOKBACK_MS = 86_400_000  # a wash ending in the period may have begun up to a day before it
COLOUR_LETTERS = {"R": "red", "B": "blue", "G": "green", "Y": "yellow", "W": "white"}
METHOD_WORDS = {**DISINFECT_METHODS, HOT_WASH: ("热水清洗", "hot wash")}


def tool_colour(tool: str) -> str | None:
    """The colour a tool id names by the convention ``KIND-LETTER-NUMBER``; None when it names none."""
    parts = tool.split("-")
    colour = COLOUR_LETTERS.get(parts[1]) if len(parts) == 3 and parts[0] and parts[2] else None
    return colour if colour in COLORS else None


@dataclass(frozen=True, kw_only=True)
class ToolEvent:
    tool: str
    station: str
    ts: int
    action: str  # placed | removed


@dataclass(frozen=True, kw_only=True)
class Washes:
    by_zone: Mapping[str | None, int] = field(default_factory=dict)  # counted washes by the sink's zone
    short: int = 0  # stays at a sink shorter than the dwell
    other_colour: int = 0  # stays at a sink of another colour than the tool's
    unknown_colour: int = 0  # stays of tools whose colour is unknown
    unknown_tools: tuple[str, ...] = ()  # those tools, sorted

    @property
    def counted(self) -> int:
        return sum(self.by_zone.values())


def count_washes(rows: Iterable[ToolEvent], sinks: Mapping[str, StationInfo], start: int, end: int,
                 dwell_ms: int = WASH_DWELL_MS, colours: Mapping[str, str] | None = None) -> Washes:
    """The washes ending in [start, end). ``rows``: every event of known tools from ``start - LOOKBACK_MS``
    on, in any order; ``sinks``: the sinks by id (a disinfection station is none); ``colours``: each tool's
    colour as the workshop's setup gives it (a tool it does not name: its id's colour letter, ``tool_colour``)."""
    colours = colours or {}
    by_tool: dict[str, list[ToolEvent]] = {}
    for r in rows:
        by_tool.setdefault(r.tool, []).append(r)
    zones: dict[str | None, int] = {}
    short = other = unknown = 0
    unknown_tools: set[str] = set()
    for tool, seen in by_tool.items():
        seen.sort(key=lambda e: e.ts)
        for before, now in zip(seen, seen[1:]):
            sink = sinks.get(now.station)
            if (sink is None or not start <= now.ts < end or (before.action, now.action) != ("placed", "removed")
                    or before.station != now.station):
                continue
            colour = colours.get(tool) or tool_colour(tool)
            if now.ts - before.ts < dwell_ms:
                short += 1
            elif colour is None:
                unknown += 1
                unknown_tools.add(tool)
            elif sink.zone != colour:
                other += 1
            else:
                zones[sink.zone] = zones.get(sink.zone, 0) + 1
    return Washes(by_zone=zones, short=short, other_colour=other, unknown_colour=unknown,
                  unknown_tools=tuple(sorted(unknown_tools)))


def tool_events(conn: Connection, ws: str, start: int, end: int) -> list[ToolEvent]:
    """The events of known tools that ``count_washes`` needs for [start, end)."""
    rows = conn.execute(select(events.c.tool, events.c.station, events.c.ts, events.c.action)
                        .where(events.c.workshop_id == ws, events.c.ts >= start - LOOKBACK_MS, events.c.ts < end,
                               events.c.tool.is_not(None))
                        .order_by(events.c.tool, events.c.ts, events.c.id))
    return [ToolEvent(tool=r.tool, station=r.station, ts=r.ts, action=r.action) for r in rows]


@dataclass(frozen=True, kw_only=True)
class CycleLine:
    station: str
    method: str
    passed: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.passed <= self.total or self.method not in METHOD_WORDS:
            raise ValueError(f"not a cycle line: {self}")


def cycle_lines(conn: Connection, ws: str, start: int, end: int) -> tuple[CycleLine, ...]:
    """The cycles that ended in [start, end), passed of all, per station and method (sorted)."""
    rows = conn.execute(select(cycles.c.station, cycles.c.method, func.count().label("n"),
                               func.sum(case((cycles.c.passed, 1), else_=0)).label("ok"))
                        .where(cycles.c.workshop_id == ws, cycles.c.ts >= start, cycles.c.ts < end)
                        .group_by(cycles.c.station, cycles.c.method)
                        .order_by(cycles.c.station, cycles.c.method))
    return tuple(CycleLine(station=r.station, method=r.method, passed=int(r.ok or 0), total=int(r.n)) for r in rows)


def method_text(method: str) -> str:
    zh, en = METHOD_WORDS[method]
    return f"{zh} {en}"
