"""Every panel's InfluxQL returns data from a real InfluxDB 1.6 filled by the real gateway.

The demo's working day (edge_gateway/demo/day.py, with its four mistakes) is
published through Mosquitto by one scripted station per reader; the gateway
(a subprocess, ``influx: api: v1``) writes InfluxDB through its outbox. An
owner acknowledges the cross-zone alarm and a sink station drops offline. The workshop
also has a disinfection cabinet, which reports one passing cycle (no tool of the day was
in it: each return is an undisinfected one).
Then every panel target and template variable of every dashboard runs, with
Grafana's macros and variables replaced the way Grafana replaces them.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
import yaml
from gateway_proc import GatewayProcess, write_config
from servers import EXAMPLE_CONFIG, example_config
from stations_mqtt import ScriptedStation

from cloud_ingest.influx.points import overview_line
from dashboards.generator.catalog import DASHBOARDS
from dashboards.generator.render import dashboard_json
from edge_gateway.demo.day import (
    END,
    EXPECTED_ALARMS,
    OPENING,
    START,
    minutes,
    tag_of,
    timeline,
)
from edge_gateway.model.workshop import parse_config

pytestmark = pytest.mark.slow
DB = "sebiao"


def _play_day(broker, config) -> int:
    """Publish the demo day so that it ends a minute ago; returns the number of events sent."""
    stations = {s.id: ScriptedStation(broker, config, s.id) for s in config.stations}
    for i, station in enumerate(stations.values()):  # the station-health panels' figures; one reader failing
        station.status(True, buffer_depth=0, rssi=-50.0 - i, fw="0.2.0", settings="s-1", boot=station.boot,
                       reset_cause="power_on", heap_free=80_000 - i, reader_ok=station.id != "rack-green-1",
                       reader={"type": "mfrc522", "ok": True, "rf_errors": i, "chip_faults": 0},
                       update={"version": "0.2.0", "state": "confirmed"})
    end = int(time.time() * 1000) - 60_000
    start = end - (minutes(END) - minutes(START)) * 60_000

    def at(hhmm: str) -> int:
        return start + (minutes(hhmm) - minutes(START)) * 60_000

    sent = 0
    for station_id, tool in OPENING:
        stations[station_id].event(tool, "placed", ts=at(START))
        sent += 1
    for step in timeline():
        if step.action == "hot_wash":  # the demo's probe steps: this day ends with its own cycle (below)
            continue
        stations[step.station].event(tag_of(config, step.tool), step.action + "d", ts=at(step.at))
        sent += 1
        time.sleep(0.02)  # the stations are separate connections: keep the day's order at the gateway
    stations["dis-1"].cycle(start=at(END) - 11 * 60_000, temps_c=[121.0] * 11)  # the closing cycle
    return sent


def _cloud_gauge(influx, workshop: str, district: str) -> None:  # type: ignore[no-untyped-def]
    """The cloud's ``workshop_overview`` gauge of the workshop (``cloud_ingest/gauges.py``), as its drain would
    write it: the district dashboard's freshness and ledger panels read it."""
    row = {"freshness": {"state": "silent", "last_received": int(time.time() * 1000) - 7_200_000},
           "ledger": {"open": 3, "overdue": 2}, "grade": {"grade": "bronze"},
           "progress": {"tools": 12, "marked": 9}, "alarms": {"7d": {"per_day": 0.57}, "30d": {"per_day": 0.4}}}
    line = overview_line(workshop, district, row, int(time.time() * 1000))
    r = httpx.post(f"{influx.url}/write", params={"db": DB}, content=line, auth=influx.ADMIN if influx.auth else None)
    assert r.status_code == 204, r.text


def _substitute(query: str, district: str, workshop: str) -> str:
    return (query.replace("$timeFilter", "time > now() - 2d").replace("$__interval", "5m")
            .replace("$district", district).replace("$workshop", workshop))


def _targets() -> list[tuple[str, str, str]]:
    out = []
    for stem in DASHBOARDS:
        model = dashboard_json(stem)
        for panel in model["panels"]:
            for target in panel["targets"]:
                out.append((model["title"], f"{panel['title']} [{target['refId']}]", target["query"]))
    return out


def _values(result: dict) -> list:
    return [v for series in result.get("series", []) for row in series["values"] for v in row[1:] if v is not None]


def test_every_panel_query_returns_data_from_a_day_written_by_the_gateway(tmp_path, mosquitto, influxd):
    example = example_config()
    cabinet = {"id": "dis-1", "kind": "disinfect", "zone": "white", "method": "cabinet", "name": "消毒柜"}
    stations = [{"id": s.id, "kind": s.kind.value, "zone": s.zone} for s in example.stations] + [cabinet]
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text("utf-8"))
    config = parse_config({**data, "stations": stations})
    broker, influx = mosquitto(config), influxd()
    cfg = write_config(tmp_path / "ws.yaml", broker, stations=stations, influx={
        "api": "v1", "url": influx.url, "database": DB, "retry_max_seconds": 0.5, "summary_every_seconds": 1})
    with GatewayProcess(cfg, tmp_path / "data") as gateway:
        sent = _play_day(broker, config)
        alarms = gateway.wait_for(lambda: (lambda a: a if set(EXPECTED_ALARMS) <= {x["type"] for x in a} else None)(
            gateway.get("/api/alarms?state=all").json()), 20, "the day's four mistakes")
        cross = next(a for a in alarms if a["type"] == "cross_zone")
        assert gateway.post(f"/api/alarms/{cross['id']}/ack",
                            {"by": "店主 owner", "comment": "生肉刀已送生肉清洗池重洗"}).status_code == 200
        offline = ScriptedStation(broker, config, "sink-white-1")
        offline.status(False)
        gateway.wait_for(lambda: influx.scalar("SELECT count(seq) FROM tool_event", DB) >= sent, 20, "every event")
        gateway.wait_for(lambda: influx.scalar("SELECT count(hold_s) FROM disinfection_cycle", DB), 20, "the cycle")
        gateway.wait_for(lambda: influx.scalar("SELECT count(alarm_id) FROM alarm WHERE \"type\" = 'station_offline'",
                                               DB), 20, "the station_offline alarm")
        gateway.wait_for(lambda: influx.scalar("SELECT count(alarm_id) FROM alarm WHERE \"type\" = 'reader_fault'",
                                               DB), 20, "the reader_fault alarm")
        gateway.wait_for(lambda: influx.scalar("SELECT count(alarm_id) FROM alarm WHERE transition = 'acknowledged'",
                                               DB), 20, "the acknowledgement")
        gateway.wait_for(lambda: influx.scalar("SELECT count(online) FROM station_status WHERE report = 'snapshot'",
                                               DB) >= 18, 20, "two rounds of station snapshots")
        offline.close()
    assert influx.scalar("SELECT count(seq) FROM tool_event", DB) == sent  # once each, nothing more
    _cloud_gauge(influx, config.workshop.id, config.workshop.district)

    targets = _targets()
    assert len(targets) >= 25, len(targets)
    empty = []
    # All districts and workshops (Grafana's allValue ".*"), then the one workshop, regex-escaped as Grafana does.
    for district, workshop in ((".*", ".*"), (re.escape(config.workshop.district), re.escape(config.workshop.id))):
        for dashboard, panel, query in targets:
            result = influx.query(_substitute(query, district, workshop), DB)["results"][0]  # raises on an error
            if not _values(result):
                empty.append(f"{dashboard} / {panel} ({workshop}): {query}")
    assert not empty, "queries without data:\n" + "\n".join(empty)

    # The template variables list what the data holds; another district has no workshops.
    variables = {v["name"]: v["query"] for v in dashboard_json("district-overview")["templating"]["list"]}
    districts = _values(influx.query(variables["district"], DB)["results"][0])
    assert districts == [config.workshop.district]
    assert _values(influx.query(_substitute(variables["workshop"], re.escape(districts[0]), ""), DB)["results"][0]) \
        == [config.workshop.id]
    assert _values(influx.query(_substitute(variables["workshop"], "nowhere", ""), DB)["results"][0]) == []
    # A concrete check beyond "has data": the day's washes and its cross-zone incident.
    washes = 'SELECT count("seq") FROM "tool_event" WHERE "station_kind" = \'sink\' AND "action" = \'placed\''
    assert influx.scalar(washes, DB) == sum(1 for s in timeline() if s.station.startswith("sink") and s.action == "place")
    critical = influx.rows("SELECT \"type\", tool FROM alarm WHERE severity = 'critical' AND transition = 'raised'", DB)
    assert [(r["type"], r["tool"]) for r in critical] == [("cross_zone", "KN-R-01")]
    gauge = influx.rows('SELECT last("silent") AS "silent", last("ledger_overdue") AS "overdue", '
                        'last("grade_rank") AS "grade", last("marked_pct") AS "marked" FROM "workshop_overview"', DB)
    assert [(g["silent"], g["overdue"], g["grade"], g["marked"]) for g in gauge] == [(1, 2, 3, 75.0)]
