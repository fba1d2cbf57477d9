"""Reports and compliance figures: the pure figures by tables, then a known day pushed through the real
ingest path and read back as JSON, CSV (parsed) and PDF (its text extracted), on SQLite and PostgreSQL.

The day is 2025-11-26 in Asia/Shanghai: S = 2025-11-25T16:00Z to E = S + 24 h. Workshop ws-a (d1) has
6 uses (4 at ●红色 rack-red-1, 1 at ⬢白色 rack-white-1, 1 at bench-2), 3 washes at sink-red-1, four misuse
occurrences (cross_zone raised + repeated, unwashed_return, misplaced) and three rack/sink stations with a
known status history, whose status items name their kind and zone; bench-2 sent events only, so its kind is
guessed from its id (and the report says so); one use and one misuse fall on the day before (in the 30-day
window, not the report). Then stations named without kind or colour words (a1, s2), whose kind and zone only
the status items tell, and an older gateway that sends none (the guess from the id, noted in the report).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pdfplumber
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import batch, status
from gateway_keys import gateway_token
from sqlalchemy import event as sa_event

from cloud_ingest.access import admin
from cloud_ingest.errors import BadRequest
from cloud_ingest.reports.figures import (
    EventCount,
    Spread,
    StationId,
    StationInfo,
    StatusRow,
    Uptime,
    ZoneCounts,
    count_uses,
    nearest_rank,
    per_100,
    spread,
    uptime,
)
from cloud_ingest.reports.reports import CSV_HEADER, local_period
from cloud_ingest.reports.text import INFERRED_NOTE

H = 3_600_000
S = 1_764_086_400_000  # 2025-11-26 00:00 Asia/Shanghai
E = S + 24 * H
DAY = "2025-11-26"

# -- the pure figures -------------------------------------------------------------------------------


@pytest.mark.parametrize("station, sink, zone", [
    ("rack-red-1", False, "red"), ("sink-white-1", True, "white"), ("sink", True, None),
    ("bench-2", False, None), ("sinker-blue", False, "blue"), ("wash-sink-green", True, "green"),
    ("rack-yellow-red", False, "yellow"),  # the first colour named wins
])
def test_station_from_id(station: str, sink: bool, zone: str | None) -> None:
    assert StationId.parse(station) == StationId(station, sink, zone)


@pytest.mark.parametrize("station, kind, zone, expected", [
    ("a1", "rack", "red", StationInfo("a1", False, "red", False)),  # the gateway's word, whatever the id
    ("sink-red-1", "rack", "blue", StationInfo("sink-red-1", False, "blue", False)),
    ("s2", "sink", "white", StationInfo("s2", True, "white", False)),
    ("sink-red-1", None, None, StationInfo("sink-red-1", True, "red", True)),  # an older gateway: guessed
    ("a1", None, None, StationInfo("a1", False, None, True)),
    ("s2", "sink", None, StationInfo("s2", True, None, True)),  # only what is missing is guessed
    ("rack-blue-2", None, "green", StationInfo("rack-blue-2", False, "green", True)),
])
def test_station_info(station: str, kind: str | None, zone: str | None, expected: StationInfo) -> None:
    assert StationInfo.of(station, kind, zone) == expected


def test_station_info_refuses_nonsense() -> None:
    for bad in (lambda: StationInfo.of("a1", "bench", "red"), lambda: StationInfo("a1", False, "purple", False),
                lambda: StationInfo("a1", False, None, False)):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("rows, expected", [
    ([], ()),
    ([EventCount("rack-red-1", "removed", 3), EventCount("rack-red-1", "placed", 3)],
     (ZoneCounts("red", 3, 0),)),
    ([EventCount("sink-red-1", "placed", 2), EventCount("sink-red-1", "removed", 2),
      EventCount("rack-white-1", "removed", 1), EventCount("bench", "removed", 4),
      EventCount("rack-red-2", "removed", 1)],
     (ZoneCounts("red", 1, 2), ZoneCounts("white", 1, 0), ZoneCounts(None, 4, 0))),
])
def test_count_uses(rows: list, expected: tuple) -> None:
    assert count_uses(rows) == expected


def test_count_uses_by_the_kind_and_zone_the_gateway_gave() -> None:
    told = {"a1": StationInfo.of("a1", "rack", "blue"), "s2": StationInfo.of("s2", "sink", "blue"),
            "sink-red-1": StationInfo.of("sink-red-1", "rack", "green")}  # the gateway's word beats the id
    rows = [EventCount("a1", "removed", 2), EventCount("s2", "placed", 1), EventCount("s2", "removed", 1),
            EventCount("sink-red-1", "removed", 3), EventCount("rack-white-1", "removed", 1)]  # the last: guessed
    assert count_uses(rows, told) == (ZoneCounts("blue", 2, 1), ZoneCounts("green", 3, 0), ZoneCounts("white", 1, 0))


@pytest.mark.parametrize("values, expected", [
    ([], Spread(0, None, None)),
    ([5], Spread(1, 5, 5)),
    ([30, 10, 20], Spread(3, 20, 30)),
    ([1, 2, 3, 4], Spread(4, 2, 4)),
    (list(range(1, 11)), Spread(10, 5, 9)),
])
def test_spread_is_nearest_rank(values: list[int], expected: Spread) -> None:
    assert spread(values) == expected


def test_nearest_rank_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        nearest_rank([], 50)
    with pytest.raises(ValueError):
        nearest_rank([1], 0)


@pytest.mark.parametrize("count, uses, expected", [(0, 0, None), (3, 0, None), (0, 5, 0.0), (2, 3, 66.67),
                                                   (1, 6, 16.67)])
def test_per_100(count: int, uses: int, expected: float | None) -> None:
    assert per_100(count, uses) == expected


@pytest.mark.parametrize("rows, stations, overall", [
    ([], (), Uptime("", 0, 0)),
    # a status before the period holds at its start; nothing after it until the next
    ([StatusRow("a", -50, True), StatusRow("a", 60, False), StatusRow("a", 80, True)],
     (Uptime("a", 80, 100),), Uptime("", 80, 100)),
    # unknown before the first status: left out of the denominator
    ([StatusRow("b", 50, True)], (Uptime("b", 50, 50),), Uptime("", 50, 50)),
    ([StatusRow("b", 50, False), StatusRow("a", 0, True), StatusRow("a", 100, False)],
     (Uptime("a", 100, 100), Uptime("b", 0, 50)), Uptime("", 100, 150)),
    ([StatusRow("c", 120, True)], (Uptime("c", 0, 0),), Uptime("", 0, 0)),  # only after the end
])
def test_uptime(rows: list, stations: tuple, overall: Uptime) -> None:
    assert uptime(rows, 0, 100) == (stations, overall)


@pytest.mark.parametrize("first, last, tz, expected", [
    (date(2025, 11, 26), date(2025, 11, 26), "Asia/Shanghai", (S, E)),
    (date(2025, 11, 26), date(2025, 11, 26), "UTC", (S + 8 * H, E + 8 * H)),
    (date(2025, 1, 1), date(2025, 12, 31), "Asia/Shanghai", (1_735_660_800_000, 1_767_196_800_000)),
])
def test_local_period(first: date, last: date, tz: str, expected: tuple[int, int]) -> None:
    assert local_period(first, last, tz) == expected


@pytest.mark.parametrize("first, last, tz, path", [
    (date(2025, 11, 27), date(2025, 11, 26), "UTC", "to"),
    (date(2024, 1, 1), date(2025, 1, 1), "UTC", "to"),  # 367 days
    (date(2025, 11, 26), date(2025, 11, 26), "Mars/Olympus", "tz"),
])
def test_local_period_refused(first: date, last: date, tz: str, path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        local_period(first, last, tz)
    assert caught.value.path == path


# -- a known day through the real ingest path -------------------------------------------------------


def _alarm(gid: int, seq: int, action: str, at: int, type_: str, severity: str, raised_at: int,
           state: str = "active", acked: bool = False, count: int = 1) -> dict:
    return {"kind": "alarm",
            "alarm": {"id": gid, "type": type_, "severity": severity, "state": state, "acked": acked,
                      "latched": type_.startswith("cross_zone"), "count": count, "tool": "KN-R-01",
                      "tag": "04A224E2C65E80", "station": "rack-white-1", "ts": raised_at, "last_ts": at,
                      "raised_at": raised_at, "updated_at": at, "late": False,
                      "text": {"zh": "告警", "en": "alarm"}},
            "transition": {"seq": seq, "at": at, "action": action, "state": state, "acked": acked,
                           "by": "system" if action in ("raised", "repeated") else "王师傅", "comment": None}}


def _events() -> list[dict]:
    seq = iter(range(1000))

    def ev(station: str, ts: int, action: str, tool: str | None) -> dict:
        return {"kind": "event", "station": station, "boot": "1a2b3c4d", "seq": next(seq), "ts": ts,
                "tag": "04A224E2C65E80", "action": action, "tool": tool}
    out = []
    for i in range(4):  # four uses of the red knife, each washed (three at the sink) and returned
        out.append(ev("rack-red-1", S + 9 * H + i * H, "removed", "KN-R-01"))
        if i < 3:
            out.append(ev("sink-red-1", S + 9 * H + i * H + 60_000, "placed", "KN-R-01"))
            out.append(ev("sink-red-1", S + 9 * H + i * H + 120_000, "removed", "KN-R-01"))
        out.append(ev("rack-red-1", S + 9 * H + i * H + 180_000, "placed", "KN-R-01"))
    out.append(ev("rack-white-1", S + 14 * H, "removed", "KN-W-01"))
    out.append(ev("bench-2", S + 2 * H, "removed", "CT-Y-01"))  # 18:00Z the day before in UTC
    out.append(ev("rack-red-1", S + 15 * H, "removed", None))  # an unknown tag: not a use
    out.append(ev("rack-red-1", S - 2 * H, "removed", "KN-R-01"))  # the day before
    return out


def _alarms() -> list[dict]:
    t = S + 16 * H
    return [
        _alarm(1, 1, "raised", t, "cross_zone", "major", t),
        _alarm(1, 2, "repeated", t + 1_000, "cross_zone", "major", t, count=2),
        _alarm(1, 3, "acknowledged", t + 30_000, "cross_zone", "major", t, acked=True, count=2),
        _alarm(2, 4, "raised", t + 10_000, "unwashed_return", "critical", t + 10_000),
        _alarm(2, 5, "acknowledged", t + 100_000, "unwashed_return", "critical", t + 10_000, acked=True),
        _alarm(2, 6, "cleared", t + 200_000, "unwashed_return", "critical", t + 10_000, "cleared", True),
        _alarm(3, 7, "raised", t + 20_000, "station_offline", "warning", t + 20_000),
        _alarm(4, 8, "raised", t + 40_000, "misplaced", "minor", t + 40_000),
        _alarm(4, 9, "acknowledged", t + 640_000, "misplaced", "minor", t + 40_000, acked=True),
        _alarm(5, 10, "raised", S - H, "cross_zone_wash", "major", S - H),  # the day before
    ]


def told(station: str, ts: int, online: bool, kind: str, zone: str) -> dict:
    """A status item of a gateway that names the station's kind and zone."""
    return {**status(station, ts, online), "station_kind": kind, "zone": zone}


def _statuses() -> list[dict]:
    return [told("rack-red-1", S - H, True, "rack", "red"), told("rack-red-1", S + 6 * H, False, "rack", "red"),
            told("rack-red-1", S + 8 * H, True, "rack", "red"), told("rack-red-1", E + 600_000, False, "rack", "red"),
            told("sink-red-1", S + 12 * H, True, "sink", "red"),
            told("rack-white-1", S, True, "rack", "white"), told("rack-white-1", S + 18 * H, False, "rack", "white")]


@pytest.fixture
def day(cloud):  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    for name, items in (("events", _events()), ("alarms", _alarms()), ("status", _statuses())):
        r = cloud.push(tokens["gw-ws-a"], batch("ws-a", name, items))
        assert r.status_code == 200 and r.json()["accepted"] == len(items), r.text
    r = cloud.push(tokens["gw-ws-b"], batch("ws-b", "b", [
        told("rack-green-1", S, True, "rack", "green"),
        {"kind": "event", "station": "rack-green-1", "boot": "00000001", "seq": 0, "ts": S + 10 * H,
         "tag": "04A224E2C65E81", "action": "removed", "tool": "KN-G-01"}]))
    assert r.status_code == 200, r.text
    ids = {a["gateway_id"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()
           if a["workshop"] == "ws-a"}
    t = S + 16 * H
    cloud.now = t + 120_000  # the inspector acknowledges alarm 1 two minutes after it was raised
    assert cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids[1]}/ack", {"note": "已电话联系"}).status_code == 200
    cloud.now = t + 10_000 + 300_000  # and clears alarm 2 five minutes after it was raised
    assert cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids[2]}/clear", {"note": "现场核实"}).status_code == 200
    cloud.now = E + H
    return cloud, tokens


REPORT = f"/api/v1/workshops/ws-a/report?from={DAY}&to={DAY}"


def test_report_json_figures(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    r = cloud.get(tokens["insp1"], REPORT)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["workshop"] == {"id": "ws-a", "name": "作坊 ws-a"}
    assert doc["district"] == {"id": "d1", "name": "昆都仑区"}
    assert doc["period"] == {"from": DAY, "to": DAY, "tz": "Asia/Shanghai", "start_ms": S, "end_ms": E}
    assert (doc["uses"], doc["washes"]) == (6, 3)
    assert doc["zones"] == [{"zone": "red", "uses": 4, "washes": 3}, {"zone": "white", "uses": 1, "washes": 0},
                            {"zone": None, "uses": 1, "washes": 0}]
    assert doc["misuse"] == {"total": 4, "per_100_uses": 66.67, "by_type": [
        {"type": "cross_zone", "count": 2, "per_100_uses": 33.33},
        {"type": "cross_zone_wash", "count": 0, "per_100_uses": 0.0},
        {"type": "unwashed_return", "count": 1, "per_100_uses": 16.67},
        {"type": "misplaced", "count": 1, "per_100_uses": 16.67}]}
    assert doc["acknowledge"] == {
        "raised": 4,
        "workshop": {"count": 3, "median_ms": 90_000, "p90_ms": 600_000},
        "inspector": {"count": 2, "median_ms": 120_000, "p90_ms": 300_000}}
    assert doc["uptime"]["stations"] == [
        {"station": "rack-red-1", "kind": "rack", "zone": "red", "inferred": False,
         "online_ms": 22 * H, "known_ms": 24 * H, "fraction": 22 / 24},
        {"station": "rack-white-1", "kind": "rack", "zone": "white", "inferred": False,
         "online_ms": 18 * H, "known_ms": 24 * H, "fraction": 0.75},
        {"station": "sink-red-1", "kind": "sink", "zone": "red", "inferred": False,
         "online_ms": 12 * H, "known_ms": 12 * H, "fraction": 1.0}]
    assert doc["uptime"]["overall"] == {"online_ms": 52 * H, "known_ms": 60 * H, "fraction": 52 / 60}
    # bench-2 sent events but never a status: its kind (a rack, by its id) is a guess, and the report says so
    assert doc["notes"] == [{"note": INFERRED_NOTE, "stations": ["bench-2"]}]


def test_report_in_another_time_zone_and_before_the_day_ends(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    utc = cloud.get(tokens["admin"], REPORT + "&tz=UTC").json()
    assert utc["period"]["start_ms"] == S + 8 * H and utc["uses"] == 5  # bench-2 fell on the 25th in UTC
    cloud.now = S + 12 * H  # noon: uptime only counts up to now
    noon = cloud.get(tokens["admin"], REPORT).json()["uptime"]
    assert noon["overall"] == {"online_ms": 10 * H + 12 * H, "known_ms": 24 * H, "fraction": 22 / 24}


def test_report_csv(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    r = cloud.get(tokens["owner-a"], REPORT + "&format=csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="sebiao-report-ws-a-{DAY}-{DAY}.csv"'
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    cells = {(figure, subject): (value, unit) for figure, subject, value, unit in rows[1:]}
    assert cells[("作坊 / workshop", "ws-a")] == ("作坊 ws-a", "")
    assert cells[("期间 / period", f"{DAY} — {DAY}")][0] == "Asia/Shanghai"
    assert cells[("使用次数 / uses", "● 红色 red（圆形 circle）")] == ("4", "次 / times")
    assert cells[("使用次数 / uses", "⬢ 白色 white（六边形 hexagon）")] == ("1", "次 / times")
    assert cells[("使用次数 / uses", "合计 / total")] == ("6", "次 / times")
    assert cells[("清洗次数 / washes", "合计 / total")] == ("3", "次 / times")
    assert cells[("误用告警 / misuse alarms", "跨区放置 cross-zone")] == ("2", "次 / times")
    assert cells[("每百次使用误用 / misuse per 100 uses", "合计 / total")][0] == "66.67"
    assert cells[("作坊确认 / workshop ack", "用时中位数 / median time")] == ("90", "秒 / s")
    assert cells[("检查员审核 / inspector review", "用时 P90 / 90th percentile time")] == ("300", "秒 / s")
    assert cells[("读卡站在线率 / station uptime", "● 红色器具架 rack-red-1 / red rack")][0] == "91.67"
    assert cells[("读卡站在线率 / station uptime", "● 红色清洗池 sink-red-1 / red sink")][0] == "100.00"
    assert cells[("读卡站在线率 / station uptime", "合计 / total")][0] == "86.67"
    assert cells[("说明 / note", "站点类型由编号推断 / station kind inferred from its id")] == ("bench-2", "")


def test_report_pdf(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    r = cloud.get(tokens["admin"], REPORT + "&format=pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="sebiao-report-ws-a-{DAY}-{DAY}.pdf"'
    with pdfplumber.open(io.BytesIO(r.content)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        fonts = {c["fontname"] for page in pdf.pages for c in page.chars}
    for expected in ("色标化管理报告", "作坊 ws-a", "昆都仑区", f"{DAY} — {DAY}", "使用次数 / uses",
                     "红色 red（圆形 circle）", "白色 white（六边形 hexagon）", "66.67", "91.67", "86.67",
                     "90", "600", "rack-red-1", "站点类型由编号推断 / station kind inferred from its id：bench-2"):
        assert expected in text, expected
    assert fonts and all("+" in f for f in fonts), fonts  # every glyph from an embedded subset (ABCDEF+Name)


@pytest.mark.parametrize("query, path", [
    ("to=2025-11-26", "from"),
    ("from=2025-11-26", "to"),
    ("from=2025-11-26&to=26.11.2025", "to"),
    ("from=2025-02-30&to=2025-03-01", "from"),
    ("from=2025-11-27&to=2025-11-26", "to"),
    ("from=2024-01-01&to=2025-12-31", "to"),
    ("from=2025-11-26&to=2025-11-26&format=xls", "format"),
    ("from=2025-11-26&to=2025-11-26&tz=Mars/Olympus", "tz"),
    ("from=2025-11-26&to=2025-11-26&lang=en", "lang"),
])
def test_report_bad_parameters(day, query: str, path: str) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    r = cloud.get(tokens["admin"], f"/api/v1/workshops/ws-a/report?{query}")
    assert r.status_code == 400 and r.json()["path"] == path, r.text
    assert " / " in r.json()["error"]


@pytest.mark.parametrize("who, workshop, expected", [
    ("insp1", "ws-a", 200), ("insp2", "ws-a", 404), ("owner-a", "ws-a", 200), ("owner-c", "ws-a", 404),
    ("owner-a", "ws-b", 404), ("admin", "ws-zz", 404), ("gw-ws-a", "ws-a", 403), (None, "ws-a", 401),
])
def test_report_scope(day, who: str | None, workshop: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    r = cloud.get(tokens[who] if who else None, f"/api/v1/workshops/{workshop}/report?from={DAY}&to={DAY}")
    assert r.status_code == expected, r.text


# -- compliance figures on the lists ------------------------------------------------------------------

NO_ALARMS = {"critical": 0, "major": 0, "minor": 0, "warning": 0, "total": 0}


def test_workshop_list_figures(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    now = E + H
    rows = {w["id"]: w for w in cloud.get(tokens["admin"], "/api/v1/workshops").json()}
    a = rows["ws-a"]
    # rack-red-1 went offline after the day, rack-white-1 at 18:00; bench-2 (events only) is not known online
    assert a["stations"] == {"online": 1, "total": 4}
    assert a["open_alarms"] == {"critical": 0, "major": 2, "minor": 1, "warning": 1, "total": 4}
    assert a["active_alarms"] == 4
    assert a["misuse_30d"] == {"since": now - 30 * 24 * H, "until": now, "uses": 7, "misuse": 5,
                               "per_100_uses": 71.43}
    assert rows["ws-b"]["stations"] == {"online": 1, "total": 1}
    assert rows["ws-b"]["misuse_30d"]["per_100_uses"] == 0.0
    assert rows["ws-c"]["stations"] == {"online": 0, "total": 0}
    assert rows["ws-c"]["open_alarms"] == NO_ALARMS and rows["ws-c"]["misuse_30d"]["per_100_uses"] is None
    cloud.now = now + 31 * 24 * H  # a month later nothing is in the window any more
    insp1 = cloud.login("insp1", "pw-insp1-123456")  # a login token lasts a week: log in again
    later = {w["id"]: w for w in cloud.get(insp1, "/api/v1/workshops").json()}
    assert later["ws-a"]["misuse_30d"]["uses"] == 0 and later["ws-a"]["misuse_30d"]["per_100_uses"] is None


def test_districts(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    admin_view = cloud.get(tokens["admin"], "/api/v1/districts").json()
    assert [(d["id"], d["name"], d["workshops"]) for d in admin_view] == [("d1", "昆都仑区", 2), ("d2", "青山区", 1)]
    d1, d2 = admin_view
    assert d1["stations"] == {"online": 2, "total": 5}
    assert d1["open_alarms"] == {"critical": 0, "major": 2, "minor": 1, "warning": 1, "total": 4}
    assert (d1["misuse_30d"]["uses"], d1["misuse_30d"]["misuse"], d1["misuse_30d"]["per_100_uses"]) == (8, 5, 62.5)
    assert d2["stations"] == {"online": 0, "total": 0} and d2["misuse_30d"]["per_100_uses"] is None
    assert [d["id"] for d in cloud.get(tokens["insp2"], "/api/v1/districts").json()] == ["d2"]
    owner = cloud.get(tokens["owner-a"], "/api/v1/districts").json()
    assert [(d["id"], d["workshops"], d["stations"]["total"]) for d in owner] == [("d1", 1, 4)]  # only ws-a counted
    assert cloud.get(tokens["gw-ws-a"], "/api/v1/districts").status_code == 403
    assert cloud.get(None, "/api/v1/districts").status_code == 401


def test_list_queries_do_not_grow_with_workshops(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day

    def queries(path: str) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        sa_event.listen(cloud.engine, "before_cursor_execute", listener)
        try:
            assert cloud.get(tokens["admin"], path).status_code == 200
        finally:
            sa_event.remove(cloud.engine, "before_cursor_execute", listener)
        return len(seen)
    before = {p: queries(p) for p in ("/api/v1/workshops", "/api/v1/districts")}
    for i in range(12):
        ws = f"ws-x{i}"
        cloud.as_admin(admin.create_workshop, {"id": ws, "name": f"作坊 {ws}", "district": "d2"}, cloud.now)
        token = cloud.as_admin(admin.issue_token, gateway_token(ws), cloud.now)["token"]
        r = cloud.push(token, batch(ws, "b", [status("rack-red-1", E, True), _alarm(1, 1, "raised", E, "cross_zone",
                                                                                    "major", E)]))
        assert r.status_code == 200, r.text
    assert {p: queries(p) for p in before} == before
    assert len(cloud.get(tokens["admin"], "/api/v1/workshops").json()) == 15


# -- kind and zone from the gateway, not from the id ----------------------------------------------------


def _event(station: str, seq: int, ts: int, action: str, tool: str | None = "KN-R-01") -> dict:
    return {"kind": "event", "station": station, "boot": "0badcafe", "seq": seq, "ts": ts,
            "tag": "04A224E2C65E80", "action": action, "tool": tool}


def _uses_and_washes(stations: list[dict]) -> list[dict]:
    """Two knives taken at a1, one at w3; one washed at s2 (placed, then removed: leaving a sink is no use)."""
    return [*stations, _event("a1", 0, S + 9 * H, "removed"), _event("a1", 1, S + 10 * H, "removed"),
            _event("w3", 0, S + 11 * H, "removed", "KN-W-01"), _event("s2", 0, S + 9 * H + 60_000, "placed"),
            _event("s2", 1, S + 9 * H + 120_000, "removed")]


def test_stations_named_without_colour_words_take_kind_and_zone_from_the_status_items(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = _uses_and_washes([told("a1", S, True, "rack", "red"), told("s2", S, True, "sink", "red"),
                              told("w3", S, False, "rack", "white")])
    r = cloud.push(tokens["gw-ws-c"], batch("ws-c", "b-1", items))
    assert r.status_code == 200, r.text
    cloud.now = E + H
    doc = cloud.get(tokens["insp2"], f"/api/v1/workshops/ws-c/report?from={DAY}&to={DAY}").json()
    # guessed from the ids, s2 would be a rack (its "removed" a use) and no station would have a zone
    assert (doc["uses"], doc["washes"]) == (3, 1)
    assert doc["zones"] == [{"zone": "red", "uses": 2, "washes": 1}, {"zone": "white", "uses": 1, "washes": 0}]
    assert [(u["station"], u["kind"], u["zone"], u["inferred"]) for u in doc["uptime"]["stations"]] == [
        ("a1", "rack", "red", False), ("s2", "sink", "red", False), ("w3", "rack", "white", False)]
    assert doc["notes"] == []
    rows = list(csv.reader(io.StringIO(cloud.get(tokens["insp2"], f"/api/v1/workshops/ws-c/report?from={DAY}"
                                                 f"&to={DAY}&format=csv").content.decode("utf-8-sig"))))
    subjects = {subject for figure, subject, _, _ in rows if figure == "读卡站在线率 / station uptime"}
    assert {"● 红色器具架 a1 / red rack", "● 红色清洗池 s2 / red sink", "⬢ 白色器具架 w3 / white rack"} <= subjects
    assert not any(figure == "说明 / note" for figure, *_ in rows)
    listed = {w["id"]: w for w in cloud.get(tokens["insp2"], "/api/v1/workshops").json()}["ws-c"]
    assert listed["stations"] == {"online": 2, "total": 3}
    assert (listed["misuse_30d"]["uses"], listed["misuse_30d"]["misuse"]) == (3, 0)


def test_an_older_gateway_leaves_kind_and_zone_to_the_id_and_the_report_says_so(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    gw = tokens["gw-ws-c"]
    old = [status("a1", S, True), status("s2", S, True), status("w3", S, False)]  # no station_kind, no zone
    assert cloud.push(gw, batch("ws-c", "b-1", _uses_and_washes(old))).status_code == 200
    cloud.now = E + H
    path = f"/api/v1/workshops/ws-c/report?from={DAY}&to={DAY}"
    doc = cloud.get(tokens["admin"], path).json()
    # the id-spelling guess: all three are racks, none has a zone; s2's "removed" counts as a use
    assert (doc["uses"], doc["washes"]) == (4, 0)
    assert doc["zones"] == [{"zone": None, "uses": 4, "washes": 0}]
    assert doc["notes"] == [{"note": INFERRED_NOTE, "stations": ["a1", "s2", "w3"]}]
    rows = list(csv.reader(io.StringIO(cloud.get(tokens["admin"], path + "&format=csv").content.decode("utf-8-sig"))))
    assert rows[-1] == ["说明 / note", INFERRED_NOTE, "a1, s2, w3", ""]
    with pdfplumber.open(io.BytesIO(cloud.get(tokens["admin"], path + "&format=pdf").content)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert f"{INFERRED_NOTE}：a1, s2, w3" in text
    ws_c = {w["id"]: w for w in cloud.get(tokens["admin"], "/api/v1/workshops").json()}["ws-c"]
    assert ws_c["misuse_30d"]["uses"] == 4
    # the gateway is updated: its next status names s2 a red sink, and the figures follow
    assert cloud.push(gw, batch("ws-c", "b-2", [told("s2", S + H, True, "sink", "red")])).status_code == 200
    doc = cloud.get(tokens["admin"], path).json()
    assert (doc["uses"], doc["washes"]) == (3, 1)
    assert doc["zones"] == [{"zone": "red", "uses": 0, "washes": 1}, {"zone": None, "uses": 3, "washes": 0}]
    assert doc["notes"] == [{"note": INFERRED_NOTE, "stations": ["a1", "w3"]}]
    ws_c = {w["id"]: w for w in cloud.get(tokens["admin"], "/api/v1/workshops").json()}["ws-c"]
    assert ws_c["misuse_30d"]["uses"] == 3
