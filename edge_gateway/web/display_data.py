"""The public display's snapshot: a reduced view, safe to show anyone.

It holds no token, no staff names (``by``), no alarm comments or texts, no tag
UIDs and no tool ids; misuse appears only as counts, or not at all
(``display.public_misuse: hidden``). Recent activity lists only tools used in
their own zone: a cross-zone move is counted, never narrated.

It claims only what the readers saw (``docs/display.md``): washes are real
washes (a tool of the sink's colour placed at it and removed from it at least
``rules.wash_min_seconds`` later), disinfection cycles are counted passed out
of all (or said to be unmonitored), and the coverage says how much of the
workshop the readers see: tools with a tag, stations heard from today, and
the time today during which every reader was online.

Events are tallied incrementally by row id (the primary key), so a year of
history costs nothing per update: the day's first row is found once by a
binary search on ``received_at``, then only new rows are read. Its shape:
``snapshot_json.DisplaySnapshot``.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge_gateway.core.engine import public_page_key
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store.reads import StoreReader
from edge_gateway.web.settings import DisplaySettings
from edge_gateway.web.snapshot_json import (
    Activity,
    Coverage,
    Disinfection,
    DisplayGrade,
    DisplayQr,
    DisplaySnapshot,
    DisplayWorkshop,
    Incident,
    Misuse,
    StationCount,
    ZoneJson,
)
from sebiao_common.clock import Clock
from sebiao_common.domain import COLOR_CLASSES, KINDS, StationKind
from sebiao_common.grade_statement import GRADE_WORDS

CROSS_ZONE = ("cross_zone", "cross_zone_wash")
LATE_MARGIN_MS = 24 * 3600 * 1000  # events buffered by a station arrive late: look back a day for them
SCAN_ROWS = 5000
MINUTE_MS = 60_000
CLOCK_SLACK_MS = 3600 * 1000  # a statement signed this far ahead of the clock is still fresh (clocks drift)
# Short zone names for a screen read from across the shop (the seed's full purposes are shown too).
ZONE_NAMES = {
    "red": ("生肉禽蛋区", "Raw meat & eggs"),
    "blue": ("水产区", "Aquatic"),
    "green": ("果蔬区", "Fruit & veg"),
    "yellow": ("半成品区", "Semi-finished"),
    "white": ("成品熟食区", "Cooked, ready to eat"),
}


def published_grade(reads: StoreReader, workshop: str, now: int, max_age_hours: int) -> DisplayGrade:
    """The grade the regulator published: the newest statement about this workshop the cloud signed and this
    gateway verified (``sinks/cloud/grade.py`` stores only those), while the cloud confirmed it within
    ``max_age_hours`` (``issued_at``: when it last signed it). Otherwise no grade, and the words say why: a
    gateway cut off from the cloud must not go on showing a grade the regulator may since have lowered."""
    rows = reads.rows("SELECT grade, effective, issued_at FROM grade_statements WHERE workshop = ? "
                      "ORDER BY seq DESC LIMIT 1", (workshop,))
    if not rows or rows[0]["grade"] not in GRADE_WORDS:
        return {"grade": None, "grade_zh": "等级由监管部门发布，暂无", "grade_en": "Grade published by the "
                "regulator: none yet", "grade_effective": None, "grade_state": "none", "grade_confirmed_at": None}
    row = rows[0]
    age = now - row["issued_at"]
    if age < -CLOCK_SLACK_MS:  # a clock set back makes an old statement look new: its freshness is unknown
        return {"grade": None, "grade_zh": "网关时钟有误，无法核实监管部门的等级，暂不显示",
                "grade_en": "The gateway's clock is wrong: the regulator's grade cannot be confirmed, not shown",
                "grade_effective": None, "grade_state": "unconfirmed", "grade_confirmed_at": row["issued_at"]}
    if age > max_age_hours * 3600 * 1000:
        day = datetime.fromtimestamp(row["issued_at"] / 1000).date().isoformat()
        return {"grade": None, "grade_zh": f"监管部门的等级自 {day} 起未能与云端核实，暂不显示",
                "grade_en": f"The regulator's grade has not been confirmed by the cloud since {day}: not shown",
                "grade_effective": None, "grade_state": "unconfirmed", "grade_confirmed_at": row["issued_at"]}
    zh, en = GRADE_WORDS[row["grade"]]
    return {"grade": row["grade"], "grade_zh": zh, "grade_en": en, "grade_effective": row["effective"],
            "grade_state": "verified", "grade_confirmed_at": row["issued_at"]}


def day_start_ms(now_ms: int) -> int:
    """Local midnight of the gateway's clock, in ms."""
    local = datetime.fromtimestamp(now_ms / 1000).astimezone()
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def public_action(station_kind: StationKind, action: str) -> str:
    if station_kind is StationKind.SINK:
        return "washing" if action == "placed" else "washed"
    if station_kind is StationKind.DISINFECT:
        return "disinfecting" if action == "placed" else "disinfected"
    return "returned" if action == "placed" else "taken"


@dataclass
class EventTally:
    """Real washes today per zone and the latest in-zone activity, kept up to date by row id."""

    day_start: int = -1
    last_id: int = 0
    washes: dict[str, int] = field(default_factory=dict)
    activity: deque[Activity] = field(default_factory=lambda: deque(maxlen=30))
    wash_min_ms: int = 0
    placed: dict[tuple[str, str], int] = field(default_factory=dict)  # (sink, tool) -> when it was put there

    def update(self, reads: StoreReader, config: WorkshopConfig, now_ms: int) -> None:
        today = day_start_ms(now_ms)
        if today != self.day_start:
            self.day_start = today
            self.washes = {}
            self.placed = {}
            self.activity.clear()
            self.last_id = self._first_id_since(reads, today - LATE_MARGIN_MS) - 1
        while True:
            rows = reads.rows("SELECT id, ts, station, action, tool FROM events WHERE id > ? ORDER BY id LIMIT ?",
                              (self.last_id, SCAN_ROWS))
            for row in rows:
                self._count(row, config)
            if len(rows) < SCAN_ROWS:
                return
            self.last_id = rows[-1]["id"]

    def _count(self, row: sqlite3.Row, config: WorkshopConfig) -> None:
        self.last_id = row["id"]
        station = config.station(row["station"])
        tool = config.tool(row["tool"]) if row["tool"] else None
        if station is None:
            return
        if station.kind is StationKind.SINK and tool is not None:
            self._wash(station.id, station.zone, tool.id, tool.color, row["action"], row["ts"])
        if row["ts"] < self.day_start:
            return
        if tool is not None and tool.color == station.zone:
            self.activity.append({"ts": row["ts"], "kind": tool.kind, "color": tool.color,
                                  "action": public_action(station.kind, row["action"])})

    def _wash(self, sink: str, zone: str, tool: str, color: str, action: str, ts: int) -> None:
        """A wash counts when the tool leaves the sink of its colour after the dwell (a tag passing is none)."""
        if action == "placed":
            if len(self.placed) < 10_000:
                self.placed[(sink, tool)] = ts
            return
        since = self.placed.pop((sink, tool), None)
        if since is not None and color == zone and ts - since >= self.wash_min_ms and ts >= self.day_start:
            self.washes[zone] = self.washes.get(zone, 0) + 1

    @staticmethod
    def _first_id_since(reads: StoreReader, since_ms: int) -> int:
        """The first event row received at or after ``since_ms`` (ids grow with arrival)."""
        low = reads.value("SELECT MIN(id) FROM events")
        high = reads.value("SELECT MAX(id) FROM events")
        if low is None:
            return 1
        if reads.value("SELECT received_at FROM events WHERE id = ?", (high,)) < since_ms:
            return high + 1
        while low < high:
            mid = (low + high) // 2
            at = reads.value("SELECT received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1", (mid,))
            if at < since_ms:
                low = mid + 1
            else:
                high = mid
        return low


def disinfection_today(reads: StoreReader, config: WorkshopConfig, day: int) -> Disinfection:
    """Today's cycles, passed out of all; ``monitored`` False when nothing can prove a disinfection."""
    row = reads.rows("SELECT COUNT(*), COALESCE(SUM(passed), 0) FROM cycles WHERE ts >= ?", (day,))[0]
    return {"monitored": config.disinfection_monitored, "passed": row[1], "total": row[0]}


def coverage_today(reads: StoreReader, config: WorkshopConfig, day: int, now: int) -> Coverage:
    """How much of the workshop the readers see: the display's claims hold for this and no more."""
    heard = {r["id"] for r in reads.rows("SELECT id FROM stations WHERE online = 1 OR last_seen >= ?", (day,))}
    covered = reads.value("SELECT covered_ms FROM coverage_days WHERE day_start = ?", (day,))
    return {"tools_tagged": sum(1 for t in config.tools if getattr(t, "tag", None)),  # a tag may not be fitted yet
            "tools_total": len(config.tools),
            "stations_today": sum(1 for s in config.stations if s.id in heard),
            "stations_total": len(config.stations),
            # whole minutes: the live feed pushes a snapshot only when it changed, not at every refresh
            "covered_ms": min(covered or 0, max(0, now - day)) // MINUTE_MS * MINUTE_MS,
            "day_ms": max(0, now - day) // MINUTE_MS * MINUTE_MS}


class DisplayData:
    def __init__(self, reads: StoreReader, config: WorkshopConfig, settings: DisplaySettings, *,
                 clock: Clock) -> None:
        self.reads = reads
        self.clock = clock
        self.config = config
        self.settings = settings
        self.tally = EventTally(wash_min_ms=config.rules.wash_min_seconds * 1000)

    def snapshot(self) -> DisplaySnapshot:
        now = self.clock()
        self.tally.update(self.reads, self.config, now)
        body: DisplaySnapshot = {
            "v": 1,
            "generated_at": now,
            "day_start": self.tally.day_start,
            "workshop": self._workshop(),
            "zones": self._zones(),
            "washes_today": sum(self.tally.washes.values()),
            "incident": self._incident(now),
            "misuse": self._misuse(now) if self.settings.show_misuse else None,
            "stations": self._stations(),
            "disinfection": disinfection_today(self.reads, self.config, self.tally.day_start),
            "coverage": coverage_today(self.reads, self.config, self.tally.day_start, now),
            "activity": list(self.tally.activity)[-self.settings.activity_items:][::-1]
            if self.settings.activity_items else [],
            "qr": self.qr(),
        }
        return body

    def qr(self) -> DisplayQr:
        """What the QR code carries: with a ``cloud:`` section, the workshop's public page on the cloud once the
        gateway learnt it (a phone on mobile data opens it); else ``display.public_url``; else (``lan``) the
        address the screen used, which only a phone on the shop's network can open."""
        if self.config.section("cloud") is not None:
            url = self.reads.value("SELECT value FROM meta WHERE key = ?", (public_page_key(self.config.workshop.id),))
            if url:
                return {"source": "cloud", "url": url}
        if self.settings.public_url:
            return {"source": "configured", "url": self.settings.public_url}
        return {"source": "lan", "url": None}

    def _workshop(self) -> DisplayWorkshop:
        info = self.config.workshop
        return {"name": info.name, "district": info.district, **self._grade(),
                "title_zh": self.settings.title, "title_en": self.settings.title_en}

    def _grade(self) -> DisplayGrade:
        return published_grade(self.reads, self.config.workshop.id, self.clock(),
                               self.settings.grade_max_age_hours)

    def _zones(self) -> list[ZoneJson]:
        where = {r["id"]: r["location"] for r in self.reads.rows("SELECT id, location FROM tools")}
        zones: list[ZoneJson] = []
        for color in COLOR_CLASSES:
            tools = [t for t in self.config.tools if t.color == color.key]
            stations = [s for s in self.config.stations if s.zone == color.key]
            counts = {"on_rack": 0, "out": 0, "at_sink": 0, "unknown": 0, "untagged": 0}
            for tool in tools:  # a tool without a tag no reader can see: said as such, never "not yet seen"
                counts[where.get(tool.id, "unknown") if tool.tag is not None else "untagged"] += 1
            kinds: dict[str, int] = {}
            for tool in tools:
                kinds[tool.kind] = kinds.get(tool.kind, 0) + 1
            zones.append({
                "key": color.key, "zh": color.zh, "en": color.en,
                "name_zh": ZONE_NAMES[color.key][0], "name_en": ZONE_NAMES[color.key][1], "hex": color.hex, "shape": color.shape,
                "symbol": color.symbol, "shape_zh": color.shape_zh, "purpose_zh": color.purpose_zh,
                "purpose_en": color.purpose_en, "raw": color.raw, "used": bool(tools or stations),
                "tools": counts, "total": len(tools), "washes_today": self.tally.washes.get(color.key, 0),
                "kinds": [{"kind": k, "zh": KINDS[k].zh, "en": KINDS[k].en, "n": n} for k, n in kinds.items()],
            })
        return zones

    def _incident(self, now: int) -> Incident:
        marks = ",".join("?" * len(CROSS_ZONE))
        last = self.reads.value(f"SELECT MAX(ts) FROM alarms WHERE type IN ({marks})", CROSS_ZONE)
        first = self.reads.value("SELECT received_at FROM events ORDER BY id LIMIT 1")
        since = last if last is not None else first
        if since is None:
            return {"days": None, "since": None, "none_recorded": True, "records_since": None}
        today = datetime.fromtimestamp(now / 1000).date()
        days = max(0, (today - datetime.fromtimestamp(since / 1000).date()).days)
        return {"days": days, "since": since, "none_recorded": last is None, "records_since": first}

    def _misuse(self, now: int) -> Misuse:
        marks = ",".join("?" * len(CROSS_ZONE))
        week = day_start_ms(now) - int(timedelta(days=6).total_seconds() * 1000)
        rows = self.reads.rows(
            f"SELECT COUNT(*) FILTER (WHERE ts >= ?), COUNT(*) FILTER (WHERE ts >= ?), "
            f"COUNT(*) FILTER (WHERE ts >= ? AND state = 'cleared') FROM alarms WHERE type IN ({marks})",
            (self.tally.day_start, week, week) + CROSS_ZONE)
        today, this_week, handled = rows[0]
        return {"today": today, "week": this_week, "week_handled": handled}

    def _stations(self) -> StationCount:
        online = {r["id"]: bool(r["online"]) for r in self.reads.rows("SELECT id, online FROM stations")}
        return {"total": len(self.config.stations),
                "online": sum(1 for s in self.config.stations if online.get(s.id))}
