"""The owner's console snapshot: active alarms with evidence, tools, station health, label health.

Private (behind the console login): it carries alarm texts, comments and the
names of who acknowledged or cleared.
"""

from __future__ import annotations

import json
from typing import Any

from edge_gateway.model.alarms import alarm_json
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store.reads import StoreReader
from edge_gateway.store.writer import ALARM_COLUMNS, alarm_from_row
from edge_gateway.web.settings import DisplaySettings
from sebiao_common.clock import Clock
from sebiao_common.domain import COLORS, KINDS

DAY_MS = 24 * 3600 * 1000
EVIDENCE_EVENTS = 10
ACTIVE_LIMIT = 200


def reader_errors(health: dict[str, Any]) -> int | None:
    """RF errors and chip faults the reader reported (firmware ``reader`` health), if any."""
    reader = health.get("reader")
    if not isinstance(reader, dict):
        return None
    counts = [reader.get(k) for k in ("rf_errors", "chip_faults")]
    numbers = [c for c in counts if isinstance(c, int) and not isinstance(c, bool)]
    return sum(numbers) if numbers else None


def tag_errors(health: dict[str, Any]) -> dict[str, int]:
    """Per-tag read errors, when a station's status reports them as ``tag_errors: {UID: count}``."""
    raw = health.get("tag_errors")
    if not isinstance(raw, dict):
        return {}
    return {str(k).upper(): v for k, v in raw.items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0}


class ConsoleData:
    def __init__(self, reader: StoreReader, config: WorkshopConfig, settings: DisplaySettings, *,
                 clock: Clock) -> None:
        self.reader = reader
        self.clock = clock
        self.config = config
        self.settings = settings

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        stations = self._stations()
        return {
            "v": 1,
            "generated_at": now,
            "workshop": {"id": self.config.workshop.id, "name": self.config.workshop.name,
                         "district": self.config.workshop.district},
            "alarms": self._alarms(),
            "tools": self._tools(),
            "stations": stations,
            "labels": self._labels(now, stations),
        }

    # -- alarms -------------------------------------------------------------------

    def _alarms(self) -> list[dict[str, Any]]:
        rows = self.reader.rows(f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE state = 'active' "
                                "ORDER BY id DESC LIMIT ?", (ACTIVE_LIMIT,))
        out = []
        for row in rows:
            alarm = alarm_from_row(row)
            body = alarm_json(alarm, self.config.workshop.id)
            evidence = self._evidence(alarm.tool, alarm.tag, alarm.last_ts)
            involved = {e["station"] for e in evidence} | ({alarm.station} if alarm.station else set())
            body["evidence"] = evidence
            body["stations_involved"] = [self._station_ref(s) for s in sorted(involved)]
            body["history"] = [dict(r) | {"acked": bool(r["acked"])} for r in self.reader.rows(
                "SELECT at, action, state, acked, by, comment FROM alarm_history WHERE alarm_id = ? ORDER BY id",
                (alarm.id,))]
            body["tool_info"] = self._tool_ref(alarm.tool) if alarm.tool else None
            out.append(body)
        return out

    def _evidence(self, tool: str | None, tag: str | None, until: int) -> list[dict[str, Any]]:
        if tool:
            rows = self.reader.rows("SELECT ts, received_at, station, action, late, note FROM events "
                                    "WHERE tool = ? AND ts <= ? ORDER BY ts DESC LIMIT ?",
                                    (tool, until, EVIDENCE_EVENTS))
        elif tag:
            rows = self.reader.rows("SELECT ts, received_at, station, action, late, note FROM events "
                                    "WHERE tag = ? ORDER BY id DESC LIMIT ?", (tag, EVIDENCE_EVENTS))
        else:
            return []
        return [dict(r) | {"late": bool(r["late"]), **self._station_ref(r["station"])} for r in reversed(rows)]

    def _station_ref(self, station_id: str) -> dict[str, Any]:
        station = self.config.station(station_id)
        if station is None:
            return {"station": station_id, "station_name": None, "station_kind": None, "zone": None}
        return {"station": station.id, "station_name": station.name, "station_kind": station.kind.value,
                "zone": station.zone}

    def _tool_ref(self, tool_id: str) -> dict[str, Any] | None:
        tool = self.config.tool(tool_id)
        if tool is None:
            return None
        return {"id": tool.id, "kind": tool.kind, "kind_zh": KINDS[tool.kind].zh, "kind_en": KINDS[tool.kind].en,
                "color": tool.color, "home": tool.home, "tag": tool.tag}

    # -- tools and stations ----------------------------------------------------------

    def _tools(self) -> list[dict[str, Any]]:
        rows = {r["id"]: r for r in self.reader.rows("SELECT id, location, station, since, washed, last_seen "
                                                     "FROM tools")}
        out = []
        for tool in self.config.tools:
            row = rows.get(tool.id)
            station = self.config.station(row["station"]) if row and row["station"] else None
            out.append(self._tool_ref(tool.id) | {
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

    def _stations(self) -> list[dict[str, Any]]:
        rows = {r["id"]: r for r in self.reader.rows("SELECT * FROM stations")}
        out = []
        for station in self.config.stations:
            row = rows.get(station.id)
            health = _health(row["health"]) if row else {}
            out.append({
                "id": station.id, "name": station.name, "kind": station.kind.value, "zone": station.zone,
                "online": bool(row["online"]) if row else False,
                "last_seen": row["last_seen"] if row and row["last_seen"] else None,
                "buffer_depth": row["buffer_depth"] if row else None,
                "heap_free": _number(health.get("heap_free")),
                "rssi": _number(health.get("rssi")),
                "reader_ok": health.get("reader_ok") if isinstance(health.get("reader_ok"), bool) else None,
                "reader_errors": reader_errors(health),
                "buffer_dropped": _number(health.get("buffer_dropped")),
                "fw": health.get("fw") if isinstance(health.get("fw"), str) else None,
                "uptime_s": _number(health.get("uptime_s")),
                "reset_cause": health.get("reset_cause") if isinstance(health.get("reset_cause"), str) else None,
                "tag_errors": tag_errors(health),
                "reported": bool(health),
            })
        return out

    # -- labels -----------------------------------------------------------------

    def _labels(self, now: int, stations: list[dict[str, Any]]) -> dict[str, Any]:
        stale_ms = self.settings.label_stale_days * DAY_MS
        seen = {r["id"]: r["last_seen"] for r in self.reader.rows("SELECT id, last_seen FROM tools")}
        stale = []
        for tool in self.config.tools:
            last = seen.get(tool.id) or None
            if last is None or now - last > stale_ms:
                stale.append({"tool": tool.id, "id": tool.id, "tag": tool.tag, "kind": tool.kind, "kind_zh": KINDS[tool.kind].zh,
                              "kind_en": KINDS[tool.kind].en, "color": tool.color, "last_seen": last,
                              "days": (now - last) // DAY_MS if last else None})
        errors = []
        for station in stations:
            for tag, count in station["tag_errors"].items():
                tool = self.config.tool_by_tag(tag)
                errors.append({"tag": tag, "tool": tool.id if tool else None, "color": tool.color if tool else None,
                               "station": station["id"], "station_name": station["name"], "count": count})
        return {"stale_days": self.settings.label_stale_days, "stale": stale,
                "errors": sorted(errors, key=lambda e: -e["count"]),
                "colors": {k: {"zh": c.zh, "en": c.en} for k, c in COLORS.items()}}


def _health(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:  # stored as received; a station sent something odd: show no figures
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
