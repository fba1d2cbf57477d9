"""辖区总览 / the district overview, on SQLite and PostgreSQL: the figures of a seeded district through the JSON
API (grades, the deadline's progress as the setups report it, open and overdue ledger items, alarm rates over 7
and 30 days, freshness, the district's totals), sorting, tenancy, and the page in headless Chromium on a
desktop and a 390 px phone (sorted by a header link, a silent workshop reads 数据中断)."""

from __future__ import annotations

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, alarm, batch
from sqlalchemy import select
from test_cloud_pages_browser import PageServer, _login
from test_cloud_setups import BOARD, SETUP, setup_item
from web_browser import PHONE, TV, browser, screenshot

from cloud_ingest import gauges
from cloud_ingest.config import Freshness
from cloud_ingest.influx import outbox
from cloud_ingest.review import overview
from cloud_ingest.store import db
from cloud_ingest.store.schema import influx_outbox

DAY, MINUTE = 86_400_000, 60_000
REASON = "现场检查与远程数据均符合色标化要求，特此定级"


def _raised(alarm_id: int, at: int) -> dict:
    item = alarm(alarm_id, 1, at=at)
    item["alarm"].update(ts=at, last_ts=at, raised_at=at, updated_at=at)
    return item


def seeded(cloud: Cloud) -> dict[str, str]:
    """d1: ws-a (gold; setup half marked; alarms 2 and 10 and 40 days ago; two items overdue; silent for 2 h)
    and ws-b (silver then orange; setup all marked; an alarm yesterday; one item not yet due; fresh);
    d2: ws-c (an alarm, nothing else)."""
    tokens = cloud.tenants()
    done = {**SETUP, "tools": [SETUP["tools"][0], {**BOARD, "marking": "replaced", "marked_on": "2025-11-20",
                                                    "tag": "04B1C2D3E4F580"}]}
    cloud.now = T0 - 2 * 60 * MINUTE
    doc = batch("ws-a", "a-1", [setup_item(1, SETUP), _raised(1, T0 - 2 * DAY), _raised(2, T0 - 10 * DAY),
                                _raised(3, T0 - 40 * DAY)])
    assert cloud.push(tokens["gw-ws-a"], doc).status_code == 200
    cloud.now = T0 - 5 * MINUTE
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "b-1", [setup_item(1, done), _raised(4, T0 - DAY)])
                      ).status_code == 200
    assert cloud.push(tokens["gw-ws-c"], batch("ws-c", "c-1", [_raised(5, T0 - DAY)])).status_code == 200
    cloud.now = T0
    for ws, grade in (("ws-a", "gold"), ("ws-b", "silver"), ("ws-b", "orange")):
        r = cloud.post(tokens["insp1"], f"/api/v1/workshops/{ws}/grade",
                       {"grade": grade, "effective": "2025-11-26", "reason": REASON})
        assert r.status_code in (200, 201), r.text
    for ws, due in (("ws-a", T0 + MINUTE), ("ws-a", T0 + MINUTE), ("ws-b", T0 + 3 * DAY)):
        r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"workshop": ws, "source": "manual",
                                                                 "text": "抹布混用", "due": due})
        assert r.status_code == 201, r.text
    cloud.now = T0 + 2 * MINUTE
    return tokens


def test_the_overview_of_a_seeded_district(cloud: Cloud) -> None:
    tokens = seeded(cloud)
    r = cloud.get(tokens["insp1"], "/api/v1/overview")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["windows"] == [7, 30] and body["silent_after_minutes"] == 60
    (d1,) = body["districts"]
    assert (d1["id"], d1["name"]) == ("d1", "昆都仑区")
    a, b = d1["workshops"]
    progress = {w["workshop"]["id"]: w["progress"] for w in cloud.get(tokens["insp1"], "/api/v1/setups").json()[
        "workshops"]}
    assert a["progress"] == progress["ws-a"] and a["progress"]["marked"] == 1 and a["progress"]["tools"] == 2
    assert b["progress"] == progress["ws-b"] and b["progress"]["marked"] == 2
    assert a["grade"] == {"grade": "gold", "effective": "2025-11-26"} and b["grade"]["grade"] == "orange"
    assert a["ledger"] == {"open": 2, "overdue": 2} and b["ledger"] == {"open": 1, "overdue": 0}
    assert a["alarms"] == {"7d": {"days": 7, "raised": 1, "per_day": 0.14},
                           "30d": {"days": 30, "raised": 2, "per_day": 0.07}}
    assert b["alarms"]["7d"]["raised"] == 1 and b["alarms"]["30d"] == {"days": 30, "raised": 1, "per_day": 0.03}
    assert a["freshness"]["state"] == "silent" and a["freshness"]["last_received"] == T0 - 2 * 60 * MINUTE
    assert b["freshness"]["state"] == "fresh"
    assert d1["totals"] == {
        "workshops": 2, "grades": {"gold": 1, "silver": 0, "bronze": 0, "orange": 1}, "ungraded": 0,
        "deadline_done": sum(1 for p in (a, b) if p["progress"]["state"] in ("done", "late")),
        "ledger_open": 3, "ledger_overdue": 2,
        "alarms": {"7d": {"raised": 2, "per_workshop_per_day": 0.14},
                   "30d": {"raised": 3, "per_workshop_per_day": 0.05}},
        "silent": 1, "never": 0, "spot_checks": None}
    order = [w["id"] for w in cloud.get(tokens["insp1"], "/api/v1/overview?sort=-overdue").json()["districts"][0][
        "workshops"]]
    assert order == ["ws-a", "ws-b"]
    assert [w["id"] for w in cloud.get(tokens["insp1"], "/api/v1/overview?sort=grade").json()["districts"][0][
        "workshops"]] == ["ws-a", "ws-b"]
    bad = cloud.get(tokens["insp1"], "/api/v1/overview?sort=size")
    assert bad.status_code == 400 and "sort" in bad.text


def test_the_overview_shows_the_last_visit_and_the_spot_checks(cloud: Cloud) -> None:
    from test_cloud_inspections import _register, at, visit_body

    tokens = cloud.tenants()
    made = _register(cloud, tokens, 3)  # registered in 2025-Q4: 5% of 3 draws one
    tokens = at(cloud, "2026-01-05")
    assert cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud, "ws-a")).status_code == 201
    r = cloud.post(tokens["insp1"], "/api/v1/spot-checks", {"district": "d1", "period": "2025-Q4",
                                                             "seed_input": "7"})
    assert r.status_code == 201, r.text
    (drawn,) = r.json()["sample"]
    assert drawn in made
    (d1,) = cloud.get(tokens["insp1"], "/api/v1/overview?sort=-last_visit").json()["districts"]
    rows = {w["id"]: w for w in d1["workshops"]}
    assert rows["ws-a"]["last_visit"] == "2026-01-05" and rows[drawn]["last_visit"] is None
    assert d1["workshops"][0]["id"] == "ws-a"  # sorted by the last visit, newest first; none last
    assert d1["totals"]["spot_checks"] == {"visited": 0, "not_yet": 1, "overdue": 0}
    assert cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud, drawn)).status_code == 201
    (d1,) = cloud.get(tokens["insp1"], "/api/v1/overview").json()["districts"]
    assert d1["totals"]["spot_checks"] == {"visited": 1, "not_yet": 0, "overdue": 0}
    owner = cloud.get(tokens["owner-a"], "/api/v1/overview").json()["districts"]
    assert all(d["totals"]["spot_checks"] is None for d in owner)  # the draws are the inspectors'


def test_the_overview_keeps_to_the_callers_scope(cloud: Cloud) -> None:
    tokens = seeded(cloud)
    assert [d["id"] for d in cloud.get(tokens["insp2"], "/api/v1/overview").json()["districts"]] == ["d2"]
    mine = cloud.get(tokens["owner-a"], "/api/v1/overview").json()["districts"]
    assert [(d["id"], [w["id"] for w in d["workshops"]]) for d in mine] == [("d1", ["ws-a"])]
    assert cloud.get(tokens["gw-ws-a"], "/api/v1/overview").status_code == 403
    assert cloud.get(None, "/api/v1/overview").status_code == 401
    admin = cloud.get(tokens["admin"], "/api/v1/overview").json()["districts"]
    assert [d["id"] for d in admin] == ["d1", "d2"]


def _w(i: str, grade: str | None, overdue: int, last: int | None) -> dict:
    return {"id": i, "name": i, "grade": {"grade": grade} if grade else None, "progress": None,
            "ledger": {"open": overdue, "overdue": overdue}, "alarms": {"7d": {"raised": 0}, "30d": {"raised": 0}},
            "freshness": {"last_received": last}}


@pytest.mark.parametrize("key, desc, expected", [
    ("grade", False, ["b", "a", "c"]), ("grade", True, ["a", "b", "c"]),  # not graded: last either way
    ("overdue", True, ["c", "a", "b"]), ("last_data", False, ["c", "b", "a"]), ("last_data", True, ["b", "c", "a"]),
    ("name", False, ["a", "b", "c"]), ("progress", False, ["a", "b", "c"]),
])
def test_sort_rows(key: str, desc: bool, expected: list[str]) -> None:
    rows = [_w("a", "bronze", 1, None), _w("b", "gold", 0, 20), _w("c", None, 5, 10)]
    assert [r["id"] for r in overview.sort_rows(rows, key, desc)] == expected


@pytest.mark.slow
def test_the_overview_page_in_chromium(cloud: Cloud) -> None:
    seeded(cloud)
    with PageServer(cloud.client.app) as server, browser() as chrome:
        for size, name in ((TV, "desktop"), (PHONE, "phone")):
            page = _login(chrome, server.base, "insp1", "/overview", size)
            assert page.locator("section[data-district]").count() == 1
            a = page.locator("tr[data-workshop='ws-a']")
            assert a.get_attribute("data-fresh") == "silent" and "数据中断" in a.text_content()
            assert "全部在线" not in page.text_content("main")
            assert a.locator(".overdue [data-count]").get_attribute("data-count") == "2"
            assert a.locator("[data-grade]").get_attribute("data-grade") == "gold"
            assert page.get_attribute("[data-district-totals='d1']", "data-silent") == "1"
            for _ in range(2):  # ascending, then descending
                with page.expect_navigation():
                    page.click(".sort-bar a.sort[data-sort='overdue']")
            assert page.url.endswith("sort=-overdue")
            ids = page.locator("tbody tr[data-workshop]").evaluate_all("rows => rows.map(r => r.dataset.workshop)")
            assert ids == ["ws-a", "ws-b"]
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
            screenshot(page, f"cloud-overview-{name}")


def test_the_overview_gauges_for_the_district_dashboard(cloud: Cloud) -> None:
    """The same figures as points for the central InfluxDB (``workshop_overview``), queued in the outbox; two
    workers in the same sweep queue the same series and time (the second overwrites the first)."""
    seeded(cloud)
    engine = outbox.enabled_engine(cloud.engine)
    config = Freshness(check_seconds=60)
    assert gauges.queue_overview(cloud.engine, cloud.now, config) == 0  # no influx: nothing queued
    assert gauges.queue_overview(engine, cloud.now, config) == 3
    assert gauges.queue_overview(engine, cloud.now + 1000, config) == 3  # another worker, the same minute
    with db.read(cloud.engine) as conn:
        lines = [r.line for r in conn.execute(select(influx_outbox.c.line).order_by(influx_outbox.c.id))]
    assert lines[:3] == lines[3:]
    a = next(line for line in lines if line.startswith("workshop_overview,district=d1,workshop=ws-a "))
    fields = dict(f.split("=") for f in a.split(" ")[1].split(","))
    assert fields == {"silent": "1i", "never": "0i", "last_data_age_s": "7320.0", "ledger_open": "2i",
                      "ledger_overdue": "2i", "grade_rank": "1i", "marked_pct": "50.0",
                      "alarms_7d_per_day": "0.14", "alarms_30d_per_day": "0.07"}
    assert a.split(" ")[2] == str((cloud.now - cloud.now % 60_000) * 1_000_000)
