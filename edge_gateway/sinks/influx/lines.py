"""InfluxDB line protocol for the gateway's points, built cheaply on the intake path.

The schema is documented in ``docs/influxdb.md``. Measurements:

- ``tool_event``: one point per accepted station event;
- ``alarm``: one point per alarm transition (raised, repeated, acknowledged, cleared);
- ``station_status``: one point per status message, per silence timeout and
  per periodic snapshot (``report`` tag);
- ``zone_summary``: per zone colour, tools on rack / out / at sink, periodically;
- ``disinfection_cycle``: one point per cycle of a probed station (method, passed,
  max temperature, hold, tools in it), at the cycle's end.

Tags are low-cardinality (workshop, district, station, zone, kinds, colours,
actions, alarm type and severity); ids that grow without bound are fields.
Tag prefixes are escaped once and cached: building an event's line is a few
string joins.

Timestamps are nanoseconds: the event time in ms with a per-source sequence
folded into the sub-millisecond digits (``ts_ms * 1_000_000 + seq % 1_000_000``),
so two events of one station in the same millisecond never collide and a point
sent twice overwrites itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.disinfection import Cycle, Verdict
from edge_gateway.model.station_health import Boot, reader_errors, settings_error
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import Station, Tool, WorkshopConfig
from sebiao_common.influx.lines import (
    NS_PER_MS,
    SUB_MS,
    AlarmPoint,
    alarm_line,
    head,
    string_field,
    tag,
    timestamp_ns,
)

_SAFE_HEALTH_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Health fields written with their own type (strings; 1/0 integers; integers), named as in the status;
# ``update`` (docs/fleet.md) becomes ``update_<key>``.
_STATUS_TEXTS = ("fw", "boot", "reset_cause", "settings")
_STATUS_FLAGS = ("reader_ok", "clock_synced")
_UPDATE_TEXTS, _UPDATE_COUNTS = ("version", "state", "error"), ("done", "of")
MAX_TEXT = 200
# Field names the schema uses itself, and the tags of station_status: health keys never take them.
_STATUS_RESERVED = frozenset({"online", "buffer_depth", "workshop", "district", "station", "station_kind",
                              "zone", "report", "time", "reader_errors", "settings_error", *_STATUS_TEXTS,
                              *_STATUS_FLAGS,
                              *(f"update_{k}" for k in _UPDATE_TEXTS + _UPDATE_COUNTS)})


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _health_fields(health: Mapping[str, object]) -> list[str]:
    """The status' texts, flags and counts, each with one type for good (``docs/influxdb.md``)."""
    fields = [f"{k}={string_field(v[:MAX_TEXT])}" for k in _STATUS_TEXTS if isinstance(v := health.get(k), str)]
    fields += [f"{k}={int(v)}i" for k in _STATUS_FLAGS if isinstance(v := health.get(k), bool)]
    refused = settings_error(health)
    if refused is not None:
        fields.append(f"settings_error={string_field(refused[:MAX_TEXT])}")
    errors = reader_errors(health)
    if errors is not None:
        fields.append(f"reader_errors={errors}i")
    update = health.get("update")
    if isinstance(update, dict):  # every text, "" when absent: last() of each then comes from one status
        fields += [f"update_{k}={string_field(_str(update.get(k))[:MAX_TEXT])}" for k in _UPDATE_TEXTS]
        fields += [f"update_{k}={update[k]}i" for k in _UPDATE_COUNTS if _integer(update.get(k))]
    return fields


class InfluxLines:
    """The line builder of one workshop; caches the escaped tag prefixes."""

    def __init__(self, config: WorkshopConfig) -> None:
        self.config = config
        ws = config.workshop
        self._base = [f"workshop={tag(ws.id)}", f"district={tag(ws.district)}"]
        self._stations = {s.id: self._station_tags(s) for s in config.stations}
        self._event_prefix: dict[tuple[str, str | None, str], str] = {}
        self._counter = 0  # sub-millisecond digits of points timed by the gateway clock

    @staticmethod
    def _station_tags(s: Station) -> list[str]:
        return [f"station={tag(s.id)}", f"station_kind={s.kind.value}", f"zone={tag(s.zone)}"]

    def _next(self) -> int:
        self._counter = (self._counter + 1) % SUB_MS
        return self._counter

    # -- tool_event ---------------------------------------------------------------

    def event(self, station: str, tool: Tool | None, action: str, ts: int, tag_uid: str, boot: str, seq: int,
              received_at: int, late: bool) -> str:
        key = (station, tool.id if tool else None, action)
        prefix = self._event_prefix.get(key)
        if prefix is None:
            kinds = [f"tool_color={tag(tool.color)}", f"tool_kind={tag(tool.kind)}"] if tool else []
            prefix = head("tool_event", self._base + self._stations[station] + kinds + [f"action={tag(action)}"])
            if len(self._event_prefix) < 65536:
                self._event_prefix[key] = prefix
        tool_field = f'tool={string_field(tool.id)},' if tool else ""
        return (f'{prefix}{tool_field}tag_uid="{tag_uid}",boot="{boot}",seq={seq}i,'
                f'late={"true" if late else "false"},delay_ms={received_at - ts}i '
                f"{ts * NS_PER_MS + seq % SUB_MS}")

    # -- alarm ------------------------------------------------------------------------

    def alarm(self, alarm: Alarm, entry: HistoryEntry, history_id: int) -> str:
        tags = list(self._base)
        if alarm.station in self._stations:
            tags += self._stations[alarm.station]
        tool = self.config.tool(alarm.tool) if alarm.tool else None
        if tool is not None:
            tags += [f"tool_color={tag(tool.color)}", f"tool_kind={tag(tool.kind)}"]
        return alarm_line(AlarmPoint(
            tags=tags, alarm_id=alarm.id, type=alarm.type, severity=alarm.severity, state=alarm.state,
            transition=entry.action, count=alarm.count, acked=alarm.acked, latched=alarm.latched,
            late=alarm.late, ts=alarm.ts, last_ts=alarm.last_ts, at=entry.at, seq=history_id, by=entry.by,
            text_zh=alarm.text_zh, text_en=alarm.text_en, tool=alarm.tool, tag_uid=alarm.tag,
            comment=entry.comment))

    # -- disinfection_cycle ------------------------------------------------------------------

    def cycle(self, station: str, cycle: Cycle, verdict: Verdict, tools: int) -> str:
        tags = self._base + self._stations[station] + [f"method={tag(verdict.method)}",
                                                       f"passed={'true' if verdict.passed else 'false'}"]
        return (head("disinfection_cycle", tags)
                + f"max_temp_c={verdict.max_temp_dc / 10!r},hold_s={verdict.hold_seconds}i,"
                  f"required_temp_c={float(verdict.threshold.temp_c)!r},"
                  f"required_hold_s={verdict.threshold.hold_seconds}i,tools={tools}i,"
                  f'duration_s={(cycle.ts - cycle.start) // 1000}i,boot="{cycle.boot}",seq={cycle.seq}i '
                  f"{cycle.ts * NS_PER_MS + cycle.seq % SUB_MS}")

    # -- station_status -------------------------------------------------------------------

    def station_status(self, state: StationState, report: str, now: int,
                       health: Mapping[str, object] | None = None) -> str | None:
        tags = self._stations.get(state.id)
        if tags is None:
            return None
        fields = [f"online={int(state.online)}i", f"buffer_depth={state.buffer_depth}i"]
        for key, value in (health or {}).items():
            if (isinstance(value, (int, float)) and not isinstance(value, bool) and key not in _STATUS_RESERVED
                    and _SAFE_HEALTH_KEY.fullmatch(key) and value == value and abs(value) < 1e300):
                fields.append(f"{key}={float(value)!r}")  # always float: no type conflict between stations
        fields += _health_fields(health or {})
        return (head("station_status", self._base + tags + [f"report={tag(report)}"]) + ",".join(fields)
                + f" {timestamp_ns(now, self._next())}")

    def station_boot(self, station: str, boot: Boot) -> str | None:
        """``station_boot``: one point per new boot the gateway saw, its reset cause a tag (a handful of values,
        counted per cause), at the gateway's time it first heard of it."""
        tags = self._stations.get(station)
        if tags is None:
            return None
        fw = f",fw={string_field(boot.fw)}" if boot.fw else ""
        return (head("station_boot", self._base + tags + [f"reset_cause={tag(boot.cause)}"])
                + f"boot={string_field(boot.boot)}{fw},resets=1i {timestamp_ns(boot.at, self._next())}")

    # -- zone_summary ---------------------------------------------------------------------

    def zone_summaries(self, tools: Iterable[ToolState], now: int) -> list[str]:
        zones: dict[str, dict[str, int]] = {}
        out_tools: dict[str, list[str]] = {}
        for state in tools:
            z = zones.setdefault(state.color, {"on_rack": 0, "out": 0, "at_sink": 0, "unknown": 0})
            z[state.location.value] = z.get(state.location.value, 0) + 1
            ids = out_tools.setdefault(state.color, [])
            if state.location.value == "out":
                ids.append(state.tool)
        lines = []
        for zone in sorted(zones):
            z = zones[zone]
            total = z["on_rack"] + z["out"] + z["at_sink"] + z["unknown"]
            lines.append(head("zone_summary", self._base + [f"zone={tag(zone)}"]) +
                         f"tools={total}i,on_rack={z['on_rack']}i,"
                         f"out={z['out']}i,at_sink={z['at_sink']}i,unknown={z['unknown']}i,"
                         f"out_tools={string_field(','.join(sorted(out_tools[zone])))} "
                         f"{timestamp_ns(now, self._next())}")
        return lines
