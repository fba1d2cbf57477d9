"""Washes by their dwell, and the disinfection cycles, in a workshop's report: the pure count by a table, then
a known day pushed through the real ingest path and read back as JSON, CSV, PDF (its text) and the report page,
on SQLite and PostgreSQL.

The day is 2025-11-26 in Asia/Shanghai (S to S + 24 h). Workshop ws-a: the red knife stays 60 s at the red sink
(a wash) and 5 s (too short); the white knife 30 s at the red sink (another colour); a pan whose id names no
colour 60 s at the white sink. Cycles: the cabinet dis-1 two passed and one failed, the probed white sink one hot
wash passed, and a cabinet cycle on the day before (not in the report).
"""

from __future__ import annotations

import csv
import io

import pdfplumber
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import batch
from test_cloud_pages import Browserless
from test_cloud_reports import DAY, E, H, S, told
from test_cloud_setups import setup_item

from cloud_ingest.reports.disinfection import WASH_DWELL_MS, ToolEvent, count_washes, tool_colour
from cloud_ingest.reports.figures import StationInfo
from cloud_ingest.reports.text import CYCLES_TEXT, NO_CYCLES, TOOL_COLOUR_NOTE

RED_SINK = {"sink-red-1": StationInfo.of("sink-red-1", "sink", "red")}


@pytest.mark.parametrize("tool, colour", [
    ("KN-R-01", "red"), ("BR-G-02", "green"), ("CT-W-01", "white"), ("CB-B-11", "blue"), ("CT-Y-01", "yellow"),
    ("PAN-7", None), ("KN-X-01", None), ("kn-r-01", None), ("KN-R", None), ("A-R-1-2", None), ("-R-1", None),
])
def test_a_tools_colour_is_read_from_its_id(tool: str, colour: str | None) -> None:
    assert tool_colour(tool) == colour


def _stay(tool: str, at: int, seconds: float, station: str = "sink-red-1") -> list[ToolEvent]:
    return [ToolEvent(tool=tool, station=station, ts=at, action="placed"),
            ToolEvent(tool=tool, station=station, ts=at + int(seconds * 1000), action="removed")]


@pytest.mark.parametrize("rows, counted, short, other, unknown", [
    (_stay("KN-R-01", S, 15), 1, 0, 0, 0),  # exactly the dwell: a wash
    (_stay("KN-R-01", S, 14.999), 0, 1, 0, 0),
    (_stay("KN-W-01", S, 60), 0, 0, 1, 0),  # a white knife at the red sink
    (_stay("PAN-7", S, 60), 0, 0, 0, 1),
    (_stay("KN-R-01", S - 10_000, 30), 1, 0, 0, 0),  # placed before the period, taken out in it
    (_stay("KN-R-01", S - 60_000, 30), 0, 0, 0, 0),  # ended before the period
    (_stay("KN-R-01", E - 10_000, 30), 0, 0, 0, 0),  # ends after it
    (_stay("KN-R-01", S, 600, station="dis-1"), 0, 0, 0, 0),  # a disinfection station is no sink
    # placed at the sink, then seen taken from a rack and back at the sink: the stay is not the sink's
    ([ToolEvent(tool="KN-R-01", station="sink-red-1", ts=S, action="placed"),
      ToolEvent(tool="KN-R-01", station="rack-red-1", ts=S + 20_000, action="removed"),
      ToolEvent(tool="KN-R-01", station="sink-red-1", ts=S + 40_000, action="removed")], 0, 0, 0, 0),
    # in any order: sorted by time per tool
    (list(reversed(_stay("KN-R-01", S, 20) + _stay("KN-R-01", S + H, 20))), 2, 0, 0, 0),
])
def test_a_wash_is_a_stay_of_the_dwell_at_a_sink_of_the_tools_colour(rows, counted, short, other, unknown) -> None:  # type: ignore[no-untyped-def]
    washes = count_washes(rows, RED_SINK, S, E)
    assert (washes.counted, washes.short, washes.other_colour, washes.unknown_colour) == (counted, short, other,
                                                                                        unknown)
    assert washes.unknown_tools == (("PAN-7",) if unknown else ())
    assert WASH_DWELL_MS == 15_000  # the gateway's default rules.wash_min_seconds


def _items() -> list[dict]:
    seq = iter(range(1000))

    def ev(station: str, ts: int, action: str, tool: str) -> dict:
        return {"kind": "event", "station": station, "boot": "1a2b3c4d", "seq": next(seq), "ts": ts,
                "tag": "04A224E2C65E80", "action": action, "tool": tool}

    def cycle(station: str, n: int, end: int, passed: bool, method: str = "cabinet") -> dict:
        hot = method == "hot_wash"
        return {"kind": "cycle", "station": station, "station_kind": "sink" if hot else "disinfect",
                "boot": "0a0b0c0d", "seq": n, "start": end - 600_000, "ts": end, "method": method,
                "temp_c": 82.0 if hot else 120.0, "hold_required_s": 30 if hot else 600,
                "max_temp_dc": 860 if hot else 1210 if passed else 1000, "hold_s": 60 if hot else 600 if passed else 0,
                "passed": passed, "tools": ["KN-W-01"]}

    t = S + 9 * H
    return [
        told("rack-red-1", S, True, "rack", "red"), told("sink-red-1", S, True, "sink", "red"),
        told("sink-white-1", S, True, "sink", "white"), told("dis-1", S, True, "disinfect", "white"),
        ev("rack-red-1", t, "removed", "KN-R-01"),
        ev("sink-red-1", t + 60_000, "placed", "KN-R-01"), ev("sink-red-1", t + 120_000, "removed", "KN-R-01"),
        ev("sink-red-1", t + 180_000, "placed", "KN-R-01"), ev("sink-red-1", t + 185_000, "removed", "KN-R-01"),
        ev("sink-red-1", t + 200_000, "placed", "KN-W-01"), ev("sink-red-1", t + 230_000, "removed", "KN-W-01"),
        ev("sink-white-1", t + 300_000, "placed", "PAN-7"), ev("sink-white-1", t + 360_000, "removed", "PAN-7"),
        cycle("dis-1", 1, t + H, True), cycle("dis-1", 2, t + 2 * H, False), cycle("dis-1", 3, t + 3 * H, True),
        cycle("sink-white-1", 1, t + 4 * H, True, "hot_wash"), cycle("dis-1", 0, S - H, False),  # the day before
    ]


def test_the_report_counts_washes_by_dwell_and_lists_the_cycles(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", _items())).status_code == 200
    cloud.now = E + H
    path = f"/api/v1/workshops/ws-a/report?from={DAY}&to={DAY}"
    doc = cloud.get(tokens["insp1"], path).json()
    assert doc["washes"] == 1 and [z for z in doc["zones"] if z["washes"]] == [{"zone": "red", "uses": 1,
                                                                                "washes": 1}]
    rule = doc["wash_rule"]
    assert rule["min_dwell_s"] == 15 and "at least 15 s later" in rule["text"] and rule["counted"] == 1
    assert rule["not_counted"] == {"too_short": 1, "other_colour": 1, "colour_unknown": 1}
    assert rule["tools_colour_unknown"] == ["PAN-7"]
    cycles = doc["disinfection"]
    assert (cycles["passed"], cycles["total"], cycles["text"]) == (3, 4, CYCLES_TEXT)
    assert [(c["station"], c["kind"], c["zone"], c["method"], c["passed"], c["total"]) for c in cycles["by_station"]
            ] == [("dis-1", "disinfect", "white", "cabinet", 2, 3), ("sink-white-1", "sink", "white", "hot_wash", 1, 1)]

    rows = list(csv.reader(io.StringIO(cloud.get(tokens["insp1"], path + "&format=csv").content.decode("utf-8-sig"))))
    cells = {(figure, subject): (value, unit) for figure, subject, value, unit in rows}
    cycle_rows = {subject: value for (figure, subject), (value, _) in cells.items() if figure.startswith("消毒周期")}
    assert cycle_rows == {"⬢ 白色消毒设备 dis-1 / white disinfection station · 消毒柜 disinfection cabinet": "2/3",
                          "⬢ 白色清洗池 sink-white-1 / white sink · 热水清洗 hot wash": "1/1",
                          "合计 / total": "3/4"}
    assert cells[("清洗次数 / washes", "合计 / total")] == ("1", "次 / times")
    assert cells[("清洗的计数规则 / what counts as a wash", rule["text"])] == ("15", "秒 / s")
    not_washed = {s: v for (f, s), (v, _) in cells.items() if f.startswith("未计为清洗")}
    assert not_washed == {"停留不足 15 秒 / shorter than 15 s": "1", "在他色清洗池 / at a sink of another colour": "1",
                          "器具颜色未知 / the tool's colour is unknown": "1"}
    assert cells[("说明 / note", TOOL_COLOUR_NOTE)] == ("PAN-7", "")

    with pdfplumber.open(io.BytesIO(cloud.get(tokens["insp1"], path + "&format=pdf").content)) as pdf:
        text = "".join((page.extract_text() or "") for page in pdf.pages).replace("\n", "")
    for expected in ("消毒周期 合格/全部", "dis-1", "2/3", "1/1", "3/4", "hot wash", "停留不足 15 秒",
                     "at least 15 s later", "the tool id names no colour", "PAN-7", "as the gateway judged"):
        assert expected in text, expected

    page = Browserless(cloud, "insp1").get(f"/reports?workshop=ws-a&from={DAY}&to={DAY}").text
    assert "消毒柜" in page and "disinfection cabinet" in page and "3/4" in page and 'id="report-counts"' in page
    # each language in its own span: the page shows the reader's (the CSV and the PDF keep both, as above)
    assert '<span class="zh" lang="zh-CN">⬢ 白色消毒设备 dis-1 · 消毒柜</span>' in page
    assert "by their end; passed as the gateway judged" in page and "停留不足 15 秒" in page


def test_a_report_without_cycles_says_none_was_reported(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    cloud.now = E + H
    doc = cloud.get(tokens["insp1"], f"/api/v1/workshops/ws-b/report?from={DAY}&to={DAY}").json()
    assert doc["disinfection"]["by_station"] == [] and (doc["disinfection"]["passed"], doc["disinfection"]["total"]) \
        == (0, 0)
    body = cloud.get(tokens["insp1"], f"/api/v1/workshops/ws-b/report?from={DAY}&to={DAY}&format=csv").content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row for row in rows if row[0].startswith("消毒周期")] == [
        ["消毒周期 合格/全部 / disinfection cycles passed/all", NO_CYCLES, "0/0", "合格/全部 / passed/all"]]


def test_the_workshops_setup_gives_the_tools_colours_and_the_dwell(cloud) -> None:  # type: ignore[no-untyped-def]
    """Once the gateway has sent its setup, the report reads each tool's colour and ``rules.wash_min_seconds`` from
    it, not from the tool ids and the default: the pan is white there, and the workshop asks for 45 s."""
    tokens = cloud.tenants()
    setup = {"stations": [], "rules": {"wash_min_seconds": 45},
             "tools": [{"id": "PAN-7", "kind": "container", "color": "white", "tag": None, "home": "rack-white-1"}]}
    items = [*_items(), setup_item(1, setup, at=S)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items)).status_code == 200
    cloud.now = E + H
    doc = cloud.get(tokens["insp1"], f"/api/v1/workshops/ws-a/report?from={DAY}&to={DAY}").json()
    rule = doc["wash_rule"]
    assert rule["min_dwell_s"] == 45 and "at least 45 s later" in rule["text"], rule
    # the red knife's 60 s and the pan's 60 s count; the knife's 5 s and the white knife's 30 s are short of 45 s
    assert rule["counted"] == 2 and rule["not_counted"] == {"too_short": 2, "other_colour": 0, "colour_unknown": 0}
    assert rule["tools_colour_unknown"] == []
