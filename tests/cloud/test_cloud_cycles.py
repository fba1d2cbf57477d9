"""Disinfection cycles reach the cloud: the gateway's cycle item is stored once, on SQLite and PostgreSQL, a
disinfect station keeps its kind, the undisinfected_return alarm is accepted, and a bad item names its field."""

from __future__ import annotations

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch
from sqlalchemy import select

from cloud_ingest.store.schema import cycles, stations
from edge_gateway.model.disinfection import Cycle, Threshold, judge_cycle
from edge_gateway.model.workshop import Station
from edge_gateway.sinks.cloud.items import CloudItems
from sebiao_common import strict_json
from sebiao_common.domain import StationKind

CABINET = Station(id="dis-1", kind=StationKind.DISINFECT, zone="white", probe=True, method="cabinet")


def cycle_item(seq: int = 1, temps_c: tuple[float, ...] = (120.0,) * 11, tools=("KN-R-01", "CT-W-01")) -> dict:
    """The item exactly as the gateway's cloud outbox holds it."""
    cycle = Cycle(station="dis-1", boot="0a0b0c0d", seq=seq, ts=T0 + (len(temps_c) - 1) * 60_000, start=T0,
                  interval_s=60, temps_dc=tuple(round(t * 10) for t in temps_c))
    verdict = judge_cycle(cycle, "cabinet", Threshold(temp_c=120, hold_seconds=600))
    return strict_json.loads(CloudItems("ws-a").cycle(CABINET, cycle, verdict, tuple(tools)))


def test_a_cycle_is_stored_once_with_its_verdict(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [cycle_item(1), cycle_item(2, (100.0,) * 5, ())]
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-1", items))
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-2", [cycle_item(1)]))  # sent again in a new batch
    assert r.status_code == 200 and r.json()["duplicates"] == 1, r.text
    with cloud.engine.connect() as conn:
        rows = [(r.seq, r.method, r.passed, r.hold_s, r.max_temp_dc, r.temp_c, r.hold_required_s,
                 strict_json.loads(r.tools)) for r in conn.execute(select(cycles).order_by(cycles.c.seq))]
        kind = conn.execute(select(stations.c.kind).where(stations.c.station == "dis-1")).scalar_one()
    assert rows == [(1, "cabinet", True, 600, 1200, 120.0, 600, ["KN-R-01", "CT-W-01"]),
                    (2, "cabinet", False, 0, 1000, 120.0, 600, [])]
    assert kind == "disinfect"


def test_the_undisinfected_return_alarm_is_accepted(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    item = alarm(21, 1, severity="major")
    item["alarm"]["type"] = "undisinfected_return"
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-1", [item]))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


@pytest.mark.parametrize("field, value, words", [
    ("method", "oven", "must be one of: cabinet, boiling, dishwasher, hot_wash"),
    ("station_kind", "rack", "must be one of: disinfect, sink"),
    ("passed", "yes", "must be true or false"),
    ("temp_c", "hot", "must be a temperature"),
    ("tools", ["KN R 01"], "is not a tool id"),
    ("max_temp_dc", 9999, "must be an integer"),
    ("ts", T0 - 1, "the end is before the start"),
])
def test_a_bad_cycle_item_is_refused_naming_its_field(cloud, field, value, words) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    item = cycle_item()
    item[field] = value
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-1", [item]))
    assert r.status_code == 400, r.text
    body = r.json()
    path = f"items[0].{field}" + ("[0]" if field == "tools" else "")
    assert body["path"] == path and words in body["error"], body


def test_the_workshops_page_and_figures_show_the_cycles(cloud) -> None:  # type: ignore[no-untyped-def]
    from test_cloud_pages import Browserless

    tokens = cloud.tenants()
    items = [cycle_item(1), cycle_item(2, (100.0,) * 5, ()), cycle_item(3)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-1", items)).status_code == 200
    cloud.now = T0 + 3_600_000
    figures = {w["id"]: w for w in cloud.get(tokens["insp1"], "/api/v1/workshops").json()}
    assert figures["ws-a"]["disinfection_30d"]["passed"] == 2 and figures["ws-a"]["disinfection_30d"]["total"] == 3
    assert figures["ws-b"]["disinfection_30d"]["total"] == 0
    page = Browserless(cloud, "insp1").get("/workshops").text
    row = page[page.index('data-workshop="ws-a"'):]
    row = row[:row.index("</tr>")]
    assert 'data-cycles="3"' in row and "合格 2/3" in row and "passed 2 of 3" in row and "✕" in row
    other = page[page.index('data-workshop="ws-b"'):]
    assert "无消毒周期" in other[:other.index("</tr>")] and "no cycles reported" in other[:other.index("</tr>")]


def test_the_central_influxdb_gets_the_gateways_cycle_point() -> None:
    """The cloud's disinfection_cycle line carries the gateway's fields and timestamp, so a point sent by both
    overwrites itself and the dashboards' queries read either."""
    from servers import example_config

    from cloud_ingest.influx.points import batch_lines
    from cloud_ingest.wire.batch import Batch, _cycle
    from edge_gateway.sinks.influx.lines import InfluxLines

    item = cycle_item()
    (line,) = batch_lines(Batch("ws-a", "b", "0" * 64, (_cycle("items[0]", item),)), "d1", T0)
    cycle = Cycle(station="dis-1", boot="0a0b0c0d", seq=1, ts=T0 + 600_000, start=T0, interval_s=60,
                  temps_dc=(1200,) * 11)
    lines = InfluxLines(example_config())
    lines._stations["dis-1"] = lines._station_tags(CABINET)
    gateway = lines.cycle("dis-1", cycle, judge_cycle(cycle, "cabinet", Threshold(temp_c=120, hold_seconds=600)), 2)
    assert line.startswith("disinfection_cycle,") and "method=cabinet" in line and "passed=true" in line
    assert line.split(" ", 1)[1] == gateway.split(" ", 1)[1]  # the same fields and timestamp
