"""The owner's day, driven by the engine's tick: the opening check and the closing roll call (``model/day.py``),
each once a local day, its result and the day's summary kept in the store (``store/days.py``).

The result JSON (``GET /api/days/{day}``, the console; ``docs/owner-day.md``):
``opening``: ``{"at", "ready", "stations": [{"id", "online", "clock_ok"}], "missing": [...]}``;
``roll_call``: ``{"at", "missing": [...], "counts": {"uses", "washes", "cycles", "cycles_passed",
"alarms_raised", "alarms_handled"}}``; a missing tool is ``{"tool", "color", "home", "where", "not_home",
"unwashed", "undisinfected"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

from edge_gateway.model import day as owner_day
from edge_gateway.model.day import DaySettings, Missing
from edge_gateway.model.rules import Decision
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store import days
from edge_gateway.store.writer import Store
from sebiao_common import strict_json

OPENING, ROLL_CALL = "opening", "roll_call"


class OwnerDay:
    def __init__(self, config: WorkshopConfig, settings: DaySettings, store: Store) -> None:
        self.config = config
        self.settings = settings
        self.store = store
        self._done: dict[str, str | None] = {}  # kind -> the last day done, read from the store once

    def _last(self, kind: str) -> str | None:
        if kind not in self._done:
            self._done[kind] = days.last_day(self.store.conn, kind)
        return self._done[kind]

    def forget(self) -> None:
        """After a rolled-back batch: read the days done from the store again."""
        self._done.clear()

    def tick(self, now: int, tools: Mapping[str, ToolState], stations: Mapping[str, StationState],
             active: frozenset[tuple[str, str]]) -> tuple[Decision, ...]:
        opening, roll_call = owner_day.due(self.settings, now, self._last(OPENING), self._last(ROLL_CALL))
        decisions: tuple[Decision, ...] = ()
        if opening is not None:
            decisions += self._opening(opening, now, tools, stations, active)
        if roll_call is not None:
            decisions += self._roll_call(roll_call, now, tools)
        return decisions

    def _opening(self, day: str, now: int, tools: Mapping[str, ToolState], stations: Mapping[str, StationState],
                 active: frozenset[tuple[str, str]]) -> tuple[Decision, ...]:
        # A clock is wrong (its alarm is active) or not set (its newest event came with ts 0).
        wrong = {subject for kind, subject in active if kind == "station_clock"} | days.unset_clocks(self.store.conn)
        checks, missing, decisions = owner_day.opening_check(
            self.config, tools, {sid: s.online for sid, s in stations.items()}, wrong)
        result = {"at": now, "ready": not missing and all(c.online and c.clock_ok for c in checks),
                  "stations": [asdict(c) for c in checks], "missing": [_missing(m) for m in missing]}
        self._save(day, OPENING, now, result)
        return decisions

    def _roll_call(self, day: str, now: int, tools: Mapping[str, ToolState]) -> tuple[Decision, ...]:
        missing, decisions = owner_day.roll_call(self.config, tools, now)
        counts = days.day_counts(self.store.conn, self.config, self.settings, day)
        result = {"at": now, "missing": [_missing(m) for m in missing], "counts": asdict(counts)}
        self._save(day, ROLL_CALL, now, result)
        return decisions

    def _save(self, day: str, kind: str, now: int, result: dict[str, object]) -> None:
        text = strict_json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        days.save_check(self.store.conn, day=day, kind=kind, at=now, result=text)
        self._done[kind] = day


def _missing(m: Missing) -> dict[str, object]:
    return asdict(m)
