"""The InfluxQL answers of docs/influxdb.md, run against a real InfluxDB 1.6 on points built by
the gateway's own line builder (InfluxLines) and written by its v1 sink."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from servers import ROOT, example_config

from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.disinfection import DEFAULT_DISINFECT, Cycle, judge_cycle
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import Station
from edge_gateway.sinks.influx.lines import InfluxLines
from sebiao_common.domain import Location, StationKind
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.influx.writer import V1Sink

pytestmark = pytest.mark.slow
SHANGHAI = timezone(timedelta(hours=8))


def doc_queries() -> dict[str, str]:
    text = (ROOT / "docs" / "influxdb.md").read_text("utf-8")
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"```sql\n-- ([a-z-]+)\n(.*?)```", text, re.S)}


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def alarm(lines: InfluxLines, alarm_id: int, kind: str, at: int, hid: int, tool: str = "KN-R-01",
          station: str | None = "rack-white-1", action: str = "raised") -> str:
    a = Alarm(id=alarm_id, type=kind, severity="major", subject=tool, tool=tool, tag="04A224E2C65E80",
              station=station, ts=at, last_ts=at, raised_at=at, updated_at=at, text_zh="文本", text_en="text")
    return lines.alarm(a, HistoryEntry(alarm_id=alarm_id, at=at, action=action, state="active", acked=False,
                                       by="system", comment=None), hid)


@pytest.fixture(scope="module")
def influx(tmp_path_factory):
    from tsdb_servers import InfluxServer

    server = InfluxServer(tmp_path_factory.mktemp("influxd")).start()
    server.create_database("sebiao")
    yield server
    server.kill()


def test_documented_queries_answer_the_questions(influx):
    config = example_config()
    lines = InfluxLines(config)
    today = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    d1, d2 = today - timedelta(days=2), today - timedelta(days=1)
    tool = config.tool("KN-R-01")
    out: list[str] = []
    # Washes: red sink twice on d1 (same millisecond: the sequence keeps them apart), white once on d2.
    for seq in (1, 2):
        out.append(lines.event("sink-red-1", tool, "placed", ms(d1 + timedelta(hours=10)), tool.tag, "b0", seq,
                               ms(d1 + timedelta(hours=10)), False))
    white = config.tool("KN-W-01")
    out.append(lines.event("sink-white-1", white, "placed", ms(d2 + timedelta(hours=9)), white.tag, "b1", 7,
                           ms(d2 + timedelta(hours=9)), False))
    out.append(lines.event("sink-white-1", white, "removed", ms(d2 + timedelta(hours=9, minutes=5)), white.tag,
                           "b1", 8, ms(d2 + timedelta(hours=9, minutes=5)), False))
    # Disinfection cycles: one passed and one failed on d1, one passed on d2 (the cabinet's 120 °C for 10 min).
    cabinet = Station(id="dis-1", kind=StationKind.DISINFECT, zone="white", probe=True, method="cabinet")
    lines._stations["dis-1"] = lines._station_tags(cabinet)
    runs = ((d1 + timedelta(hours=14), [121] * 11), (d1 + timedelta(hours=15), [118] * 11),
            (d2 + timedelta(hours=14), [125] * 12))
    for seq, (when, temps) in enumerate(runs, start=20):
        cycle = Cycle(station="dis-1", boot="0a0b0c0d", seq=seq, start=ms(when),
                      ts=ms(when) + (len(temps) - 1) * 60_000, interval_s=60, temps_dc=tuple(t * 10 for t in temps))
        out.append(lines.cycle("dis-1", cycle, judge_cycle(cycle, "cabinet", DEFAULT_DISINFECT["cabinet"]), 2))
    # Alarms: a cross_zone on d1 (and its acknowledgement, not counted), a cross_zone_wash and an overdue on d2.
    out.append(alarm(lines, 1, "cross_zone", ms(d1 + timedelta(hours=11)), 1))
    out.append(alarm(lines, 1, "cross_zone", ms(d1 + timedelta(hours=12)), 2, action="acknowledged"))
    out.append(alarm(lines, 2, "cross_zone_wash", ms(d2 + timedelta(hours=8)), 3, station="sink-white-1"))
    out.append(alarm(lines, 3, "overdue", ms(d2 + timedelta(hours=8)), 4, station=None))
    # Station snapshots: rack-red-1 online in 3 of 4, sink-red-1 in all.
    now = int(time.time() * 1000)
    for i, online in enumerate((True, True, False, True)):
        at = now - (4 - i) * 60_000
        out.append(lines.station_status(StationState(id="rack-red-1", online=online), "snapshot", at))
        out.append(lines.station_status(StationState(id="sink-red-1", online=True), "snapshot", at))
    # A status message with health fields is not a snapshot: it does not count for uptime.
    out.append(lines.station_status(StationState(id="rack-red-1", online=False), "status", now - 1000,
                                    {"rssi": -61, "fw": "1.2", "online": 5}))
    # Zone summaries: an older one with two red tools out, the latest with one.
    states = [ToolState(tool="KN-R-01", color="red", location=Location.OUT),
              ToolState(tool="CB-R-01", color="red", location=Location.ON_RACK),
              ToolState(tool="CL-R-01", color="red", location=Location.AT_SINK),
              ToolState(tool="KN-W-01", color="white", location=Location.ON_RACK)]
    out += lines.zone_summaries([replace(states[1], location=Location.OUT)] + states[:1], now - 20 * 60_000)
    out += lines.zone_summaries(states, now - 60_000)

    sink = V1Sink(InfluxSettings(url=influx.url, api="v1", database="sebiao"))
    result = sink.write("\n".join(out))
    sink.close()
    assert result.status == 204, result

    q = doc_queries()
    assert set(q) == {"tools-out-now", "washes-per-zone-per-day", "alarms-per-day-by-type",
                      "cross-zone-incidents-per-week", "station-uptime", "disinfection-cycles-per-day"}


    rows = {r["zone"]: r for r in influx.rows(q["tools-out-now"], "sebiao")}
    assert rows["red"]["out"] == 1 and rows["red"]["tools"] == "KN-R-01"
    assert rows["white"]["out"] == 0 and rows["white"]["tools"] == ""

    def day(r):  # the bucket's start, local time
        return datetime.fromtimestamp(r["time"] / 1e9, SHANGHAI)

    cycles = {(r["passed"], day(r)): r["cycles"] for r in influx.rows(q["disinfection-cycles-per-day"], "sebiao")}
    assert cycles == {("true", d1): 1, ("false", d1): 1, ("true", d2): 1}
    (point,) = influx.rows("SELECT * FROM disinfection_cycle WHERE passed = 'true' AND method = 'cabinet' "
                           "AND max_temp_c = 121", "sebiao")
    assert (point["hold_s"], point["required_temp_c"], point["required_hold_s"], point["tools"]) == (600, 120, 600, 2)

    washes = {(r["zone"], day(r)): r["washes"] for r in influx.rows(q["washes-per-zone-per-day"], "sebiao")}
    assert washes == {("red", d1): 2, ("white", d2): 1}

    alarms = {(r["type"], day(r)): r["alarms"] for r in influx.rows(q["alarms-per-day-by-type"], "sebiao")}
    assert alarms == {("cross_zone", d1): 1, ("cross_zone_wash", d2): 1, ("overdue", d2): 1}

    weeks = influx.rows(q["cross-zone-incidents-per-week"], "sebiao")
    assert sum(r["incidents"] for r in weeks) == 2
    for r in weeks:
        start = day(r)
        assert start.weekday() == 0 and start.hour == 0  # local Monday 00:00
    monday = (d1 - timedelta(days=d1.weekday()))
    assert {day(r): r["incidents"] for r in weeks} == (
        {monday: 2} if d1.weekday() < 6 else {monday: 1, monday + timedelta(days=7): 1})

    uptime = {r["station"]: r["uptime_percent"] for r in influx.rows(q["station-uptime"], "sebiao")}
    assert uptime == {"rack-red-1": 75.0, "sink-red-1": 100.0}

    # Health fields are floats; a health key that is one of our own fields is left out.
    status = influx.rows("SELECT online, rssi FROM station_status WHERE report = 'status'", "sebiao")
    assert status[0]["online"] == 0 and status[0]["rssi"] == -61.0
    # The two red washes in the same millisecond are two points, one nanosecond apart.
    times = [r["time"] for r in influx.rows("SELECT seq FROM tool_event WHERE station = 'sink-red-1'", "sebiao")]
    assert times == [ms(d1 + timedelta(hours=10)) * 1_000_000 + 1, ms(d1 + timedelta(hours=10)) * 1_000_000 + 2]
