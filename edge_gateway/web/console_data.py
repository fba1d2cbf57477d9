"""The owner's console snapshot: the regulator's grade, active alarms with evidence, tools, station health,
label health.

Private (behind the console login): it carries alarm texts, comments and the
names of who acknowledged or cleared. Its shape: ``snapshot_json.ConsoleSnapshot``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping

from edge_gateway.errors import PayloadError
from edge_gateway.model.alarms import alarm_json
from edge_gateway.model.protocol import decode_event
from edge_gateway.model.station_health import reader_errors, settings_error
from edge_gateway.model.workshop import Tool, WorkshopConfig
from edge_gateway.store.reads import StoreReader
from edge_gateway.store.writer import ALARM_COLUMNS, alarm_from_row
from edge_gateway.web.display_data import (
    EventTally,
    coverage_today,
    day_start_ms,
    disinfection_today,
    published_grade,
)
from edge_gateway.web.settings import DisplaySettings
from edge_gateway.web.snapshot_json import (
    ConsoleAlarm,
    ConsoleSnapshot,
    ConsoleTool,
    CycleJson,
    Evidence,
    GatewayClockJson,
    HandledJson,
    HistoryJson,
    LabelHealth,
    NoteText,
    StaleLabel,
    StationHealth,
    StationRefJson,
    StationUpdate,
    TagErrors,
    TodayJson,
    ToolRef,
)
from sebiao_common import strict_json
from sebiao_common.clock import Clock
from sebiao_common.domain import COLORS, KINDS

DAY_MS = 24 * 3600 * 1000
EVIDENCE_EVENTS = 10
ACTIVE_LIMIT = 200
CYCLES_LIMIT = 100
TRAINING_LIMIT = 100  # the newest records; GET /api/training has them all
HANDLED_LIMIT = 100  # today's cleared alarms shown under 今日已处理
# a station's own last events are looked for among this many newest events only (events has no station index:
# an offline station's alarm shows when it was last heard from the stations table either way)
STATION_SCAN = 20_000
# alarms about a station itself: their evidence is the station's last messages, not a tool's history
STATION_ALARMS = frozenset({"station_offline", "station_clock", "station_flood", "station_resets", "reader_fault"})
# a tool state's repair notes (model/toolstate.py, stored in English): their prefix, in Chinese and in English
MISSED = (("missed: placed on ", "漏读：放上", "missed: put on"),
          ("missed: placed at ", "漏读：放入", "missed: put in"),
          ("missed: removed from ", "漏读：取自", "missed: taken from"))


def _flag(value: object) -> bool | None:
    """A reported true/false, or None when absent or not a boolean."""
    return value if isinstance(value, bool) else None


def update_of(health: Mapping[str, object]) -> StationUpdate | None:
    """The station's last update attempt (``docs/fleet.md``, status ``update``), its fields checked one by one."""
    raw = health.get("update")
    if not isinstance(raw, dict):
        return None
    texts = {k: raw.get(k) if isinstance(raw.get(k), str) else None for k in ("version", "state", "error")}
    counts = {k: raw.get(k) if isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool) else None
              for k in ("done", "of")}
    return {"version": texts["version"], "state": texts["state"], "error": texts["error"], "done": counts["done"],
            "of": counts["of"]}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def tag_errors(health: Mapping[str, object]) -> dict[str, int]:
    """Per-tag read errors, when a station's status reports them as ``tag_errors: {UID: count}``."""
    raw = health.get("tag_errors")
    if not isinstance(raw, dict):
        return {}
    return {str(k).upper(): v for k, v in raw.items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0}


class ConsoleData:
    def __init__(self, reads: StoreReader, config: WorkshopConfig, settings: DisplaySettings, *,
                 clock: Clock, gateway_clock: Callable[[], Mapping[str, object]] = dict) -> None:
        self.reads = reads
        self.clock = clock
        self.gateway_clock = gateway_clock  # the gateway's /healthz "clock" block
        self.config = config
        self.settings = settings
        self.tally = EventTally(wash_min_ms=config.rules.wash_min_seconds * 1000)  # real washes, as displayed

    def snapshot(self) -> ConsoleSnapshot:
        now = self.clock()
        stations = self._stations()
        return {
            "v": 1,
            "generated_at": now,
            "workshop": {"id": self.config.workshop.id, "name": self.config.workshop.name,
                         "district": self.config.workshop.district},
            "grade": published_grade(self.reads, self.config.workshop.id, now, self.settings.grade_max_age_hours),
            "alarms": self._alarms(stations),
            "handled_today": self._handled(day_start_ms(now)),
            "day_start": day_start_ms(now),
            "tools": self._tools(),
            "stations": stations,
            "labels": self._labels(now, stations),
            **self._disinfection(now),
            "clock": self._clock(),
            "day": self._day(),
            "training": self._training(),
        }

    def _clock(self) -> GatewayClockJson:
        health = self.gateway_clock()
        synced, offset = health.get("synchronised"), health.get("offset_ms")
        serving = health.get("time_server")
        serving = serving if isinstance(serving, Mapping) else {}
        stratum, error = serving.get("stratum"), serving.get("error")
        return {"synchronised": synced if isinstance(synced, bool) else None,
                "offset_ms": offset if isinstance(offset, (int, float)) else None,
                "serving": serving.get("listening") is not None, "usable": serving.get("usable") is True,
                "stratum": stratum if isinstance(stratum, int) else None,
                "error": error if isinstance(error, str) else None}

    # -- the owner's day: the newest day's opening check and roll call, the training records ------------------

    def _day(self) -> dict[str, object] | None:
        rows = self.reads.rows("SELECT day, kind, result FROM day_checks WHERE day = "
                               "(SELECT max(day) FROM day_checks)")
        if not rows:
            return None
        checks = {r["kind"]: strict_json.loads(r["result"]) for r in rows}
        return {"day": rows[0]["day"], "opening": checks.get("opening"), "roll_call": checks.get("roll_call")}

    def _training(self) -> list[dict[str, object]]:
        return [{"day": r["day"], "who": r["who"], "topic": r["topic"], "by": r["trainer"]}
                for r in self.reads.rows("SELECT day, who, topic, trainer FROM training "
                                         "ORDER BY day DESC, id DESC LIMIT ?", (TRAINING_LIMIT,))]

    # -- what the display claims, and the disinfection cycles ----------------------------

    def _disinfection(self, now: int) -> dict[str, object]:
        self.tally.update(self.reads, self.config, now)
        day = self.tally.day_start
        today: TodayJson = {"washes": sum(self.tally.washes.values()),
                            "disinfection": disinfection_today(self.reads, self.config, day),
                            "coverage": coverage_today(self.reads, self.config, day, now)}
        cycles: list[CycleJson] = [
            {"station": self._station_ref(r["station"]), "start": r["start"], "ts": r["ts"], "method": r["method"],
             "temp_c": r["temp_c"], "hold_required_s": r["hold_required"], "max_temp_c": r["max_temp_dc"] / 10,
             "hold_s": r["hold_seconds"], "passed": bool(r["passed"]), "tools": strict_json.loads(r["tools"])}
            for r in self.reads.rows("SELECT station, start, ts, method, temp_c, hold_required, max_temp_dc, "
                                     "hold_seconds, passed, tools FROM cycles WHERE ts >= ? ORDER BY ts DESC "
                                     "LIMIT ?", (now - DAY_MS, CYCLES_LIMIT))]
        return {"today": today, "cycles": cycles}

    # -- alarms -------------------------------------------------------------------

    def _alarms(self, stations: list[StationHealth]) -> list[ConsoleAlarm]:
        heard = {s["id"]: s["last_seen"] for s in stations}
        rows = self.reads.rows(f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE state = 'active' "
                               "ORDER BY id DESC LIMIT ?", (ACTIVE_LIMIT,))
        out: list[ConsoleAlarm] = []
        for row in rows:
            alarm = alarm_from_row(row)
            of_station = alarm.type in STATION_ALARMS and alarm.station is not None and not alarm.tool
            evidence = (self._station_evidence(alarm.station or "") if of_station
                        else self._evidence(alarm.tool, alarm.tag, alarm.last_ts))
            _mark_trigger(evidence, alarm.station, alarm.last_ts, of_station)
            involved = {e["station"] for e in evidence} | ({alarm.station} if alarm.station else set())
            tool = self.config.tool(alarm.tool) if alarm.tool else None
            out.append({**alarm_json(alarm, self.config.workshop.id), "evidence": evidence,
                        "evidence_of": ("station" if of_station else "tool" if alarm.tool
                                        else "tag" if alarm.tag else "none"),
                        "station_info": self._station_ref(alarm.station) if alarm.station else None,
                        "last_heard": heard.get(alarm.station) if alarm.station else None,
                        "stations_involved": [self._station_ref(s) for s in sorted(involved)],
                        "history": self._history(alarm.id), "tool_info": self._tool_ref(tool) if tool else None,
                        "label": self._label(alarm.tag) if alarm.type == "unknown_tag" and alarm.tag else None})
        return out

    def _history(self, alarm_id: int) -> list[HistoryJson]:
        return [{"at": r["at"], "action": r["action"], "state": r["state"], "acked": bool(r["acked"]),
                 "by": r["by"], "comment": r["comment"]}
                for r in self.reads.rows("SELECT at, action, state, acked, by, comment FROM alarm_history "
                                         "WHERE alarm_id = ? ORDER BY id", (alarm_id,))]

    def _handled(self, day_start: int) -> list[HandledJson]:
        """Today's cleared alarms, newest first, each with who cleared it (``system``: it ended by itself) and
        the comment: the console's 今日已处理."""
        out: list[HandledJson] = []
        for row in self.reads.rows(f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE state = 'cleared' "
                                   "AND updated_at >= ? ORDER BY updated_at DESC LIMIT ?",
                                   (day_start, HANDLED_LIMIT)):
            alarm = alarm_from_row(row)
            history = self._history(alarm.id)
            cleared = next((h for h in reversed(history) if h["action"] == "cleared"), None)
            acked = next((h for h in reversed(history) if h["action"] == "acknowledged"), None)
            out.append({**alarm_json(alarm, self.config.workshop.id),
                        "cleared_at": cleared["at"] if cleared else alarm.updated_at,
                        "cleared_by": cleared["by"] if cleared else None,
                        "comment": cleared["comment"] if cleared else None,
                        "acked_by": acked["by"] if acked else None})
        return out

    def _label(self, tag: str) -> dict[str, str | None] | None:
        """The smart label an unknown tag carried when last read: the enrol form's kind and colour."""
        rows = self.reads.rows("SELECT station, payload FROM events WHERE tag = ? AND tool IS NULL "
                               "ORDER BY id DESC LIMIT 1", (tag,))
        try:
            label = decode_event(rows[0]["station"], rows[0]["payload"]).label if rows else None
        except PayloadError:  # stored as received and decoded then: not expected
            return None
        return dict(vars(label)) if label else None

    def _evidence(self, tool: str | None, tag: str | None, until: int) -> list[Evidence]:
        if tool:
            rows = self.reads.rows("SELECT ts, received_at, station, action, late, note FROM events "
                                   "WHERE tool = ? AND ts <= ? ORDER BY ts DESC LIMIT ?",
                                   (tool, until, EVIDENCE_EVENTS))
        elif tag:
            rows = self.reads.rows("SELECT ts, received_at, station, action, late, note FROM events "
                                   "WHERE tag = ? ORDER BY id DESC LIMIT ?", (tag, EVIDENCE_EVENTS))
        else:
            return []
        return [self._evidence_row(r) for r in reversed(rows)]

    def _station_evidence(self, station: str) -> list[Evidence]:
        """The station's own last events (what it was last heard saying), among the newest ``STATION_SCAN``."""
        rows = self.reads.rows("SELECT ts, received_at, station, action, late, note FROM events WHERE station = ? "
                               "AND id > (SELECT coalesce(max(id), 0) FROM events) - ? ORDER BY id DESC LIMIT ?",
                               (station, STATION_SCAN, EVIDENCE_EVENTS))
        return [self._evidence_row(r) for r in reversed(rows)]

    def _evidence_row(self, r: sqlite3.Row) -> Evidence:
        note = r["note"] if isinstance(r["note"], str) else None
        return {"ts": r["ts"], "received_at": r["received_at"], "action": r["action"], "late": bool(r["late"]),
                "note": note, "note_text": note_words(note, self.config), "trigger": False,
                **self._station_ref(r["station"])}


    def _station_ref(self, station_id: str) -> StationRefJson:
        station = self.config.station(station_id)
        if station is None:
            return {"station": station_id, "station_name": None, "station_kind": None, "zone": None}
        return {"station": station.id, "station_name": station.name, "station_kind": station.kind.value,
                "zone": station.zone}

    @staticmethod
    def _tool_ref(tool: Tool) -> ToolRef:
        return {"id": tool.id, "kind": tool.kind, "kind_zh": KINDS[tool.kind].zh, "kind_en": KINDS[tool.kind].en,
                "color": tool.color, "home": tool.home, "tag": tool.tag}

    # -- tools and stations ----------------------------------------------------------

    def _tools(self) -> list[ConsoleTool]:
        rows = {r["id"]: r for r in self.reads.rows("SELECT id, location, station, since, washed, last_seen "
                                                    "FROM tools")}
        out: list[ConsoleTool] = []
        for tool in self.config.tools:
            row = rows.get(tool.id)
            station = self.config.station(row["station"]) if row and row["station"] else None
            out.append({
                **self._tool_ref(tool),
                "state": row["location"] if row else "unknown",
                "station": row["station"] if row else None,
                "station_name": station.name if station else None,
                "station_zone": station.zone if station else None,
                "since": row["since"] if row and row["since"] else None,
                "washed": bool(row["washed"]) if row else False,
                "last_seen": row["last_seen"] if row and row["last_seen"] else None,
                "away_from_home": bool(row and row["location"] == "on_rack" and row["station"] != tool.home),
            })
        return out

    def _stations(self) -> list[StationHealth]:
        rows = {r["id"]: r for r in self.reads.rows("SELECT * FROM stations")}
        resets: dict[str, dict[str, int]] = {}
        for r in self.reads.rows("SELECT station, reset_cause, count(*) AS n FROM station_boots WHERE seen_at >= ? "
                                 "GROUP BY station, reset_cause ORDER BY station, n DESC", (self.clock() - DAY_MS,)):
            resets.setdefault(r["station"], {})[r["reset_cause"]] = r["n"]
        out: list[StationHealth] = []
        for station in self.config.stations:
            row = rows.get(station.id)
            health = _health(row["health"]) if row else {}
            reader_ok, fw, reset_cause = health.get("reader_ok"), health.get("fw"), health.get("reset_cause")
            out.append({
                "id": station.id, "name": station.name, "kind": station.kind.value, "zone": station.zone,
                "online": bool(row["online"]) if row else False,
                "last_seen": row["last_seen"] if row and row["last_seen"] else None,
                "buffer_depth": row["buffer_depth"] if row else None,
                "heap_free": _number(health.get("heap_free")),
                "rssi": _number(health.get("rssi")),
                "reader_ok": reader_ok if isinstance(reader_ok, bool) else None,
                "reader_errors": reader_errors(health),
                "buffer_dropped": _number(health.get("buffer_dropped")),
                "fw": fw if isinstance(fw, str) else None,
                "uptime_s": _number(health.get("uptime_s")),
                "reset_cause": reset_cause if isinstance(reset_cause, str) else None,
                "tag_errors": tag_errors(health),
                "reported": bool(health),
                "clock_synced": _flag(health.get("clock_synced")),
                "boot": _text(health.get("boot")),
                "settings": _text(health.get("settings")),
                "settings_error": settings_error(health),
                "update": update_of(health),
                "resets_24h": resets.get(station.id, {}),
            })
        return out

    # -- labels -----------------------------------------------------------------

    def _labels(self, now: int, stations: list[StationHealth]) -> LabelHealth:
        stale_ms = self.settings.label_stale_days * DAY_MS
        seen = {r["id"]: r["last_seen"] for r in self.reads.rows("SELECT id, last_seen FROM tools")}
        stale: list[StaleLabel] = []
        for tool in self.config.tools:
            if tool.tag is None:  # no tag fitted: nothing to read, listed as not tracked instead
                continue
            last = seen.get(tool.id) or None
            if last is None or now - last > stale_ms:
                stale.append({"tool": tool.id, "id": tool.id, "tag": tool.tag, "kind": tool.kind,
                              "kind_zh": KINDS[tool.kind].zh, "kind_en": KINDS[tool.kind].en, "color": tool.color,
                              "last_seen": last, "days": (now - last) // DAY_MS if last else None})
        errors: list[TagErrors] = []
        for station in stations:
            for tag, count in station["tag_errors"].items():
                by_tag = self.config.tool_by_tag(tag)
                errors.append({"tag": tag, "tool": by_tag.id if by_tag else None,
                               "color": by_tag.color if by_tag else None,
                               "station": station["id"], "station_name": station["name"], "count": count})
        return {"stale_days": self.settings.label_stale_days, "stale": stale,
                "errors": sorted(errors, key=lambda e: -e["count"]),
                "colors": {k: {"zh": c.zh, "en": c.en} for k, c in COLORS.items()}}


def note_words(note: str | None, config: WorkshopConfig) -> NoteText | None:
    """A stored note in the owner's words, Chinese first: the tool state's repair (``missed: placed on rack-red-1``,
    written in English when a reader missed a step) with the station's name; any other note as it is."""
    if not note:
        return None
    for prefix, zh, en in MISSED:
        if note.startswith(prefix):
            sid = note[len(prefix):]
            station = config.station(sid)
            name = (station.name or station.id) if station else sid
            return {"zh": f"{zh} {name}（读卡站漏读了这一步，网关已补记）",
                    "en": f"{en} {name} (the reader missed this step; the gateway filled it in)"}
    return {"zh": note, "en": note}


def _mark_trigger(evidence: list[Evidence], station: str | None, last_ts: int, of_station: bool) -> None:
    """Marks the event that raised the alarm (its latest occurrence): the newest one at the alarm's station up to
    its time. A station's own alarm has none: its silence or its clock raised it."""
    if of_station or station is None:
        return
    for entry in reversed(evidence):
        if entry["station"] == station and entry["ts"] <= last_ts:
            entry["trigger"] = True
            return


def _health(text: str) -> Mapping[str, object]:
    try:
        value = strict_json.loads(text or "{}")
    except ValueError:  # stored as received; a status the gateway took before it read strictly (a NaN): no figures
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: object) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
