"""作坊地图 / Map (``/map``) in headless Chromium at a 390 px phone and a desktop, over SQLite and PostgreSQL: an
inspector places a workshop with the record form on the phone (a half location refused naming the field), sees
the district's workshops as points that are links, each state a shape and its words (▲ 数据中断, ● 数据正常), the
legend, the workshops without a location (未标注位置) and a ``geo:`` link; nothing is wider than the screen. An
inspector of d1 sees no workshop of d2, not even by ``?district=d2``; the owner sees its own workshop only.

Districts d1 (ws-a, ws-b, ws-d) and d2 (ws-c); ws-b's gateway fell silent two hours ago, ws-a's reports now,
ws-d has no location."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, batch
from test_cloud_pages_browser import PageServer, _login
from web_browser import PHONE, TV, WatchedPage, browser, screenshot

from cloud_ingest.access import admin

HOUR = 3_600_000
TRAINING = [{"kind": "training", "id": 1, "day": "2025-11-20", "who": "张三", "topic": "色标分区", "by": "李店长",
             "recorded_at": T0}]


def _overflows(page: WatchedPage) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1"))


def _points(page: WatchedPage) -> dict[str, str]:
    return page.evaluate("Object.fromEntries([...document.querySelectorAll('#workshop-map a.map-point')]"
                         ".map(a => [a.dataset.workshop, a.dataset.marker]))")


@pytest.mark.slow
def test_the_map_in_chromium(cloud: Cloud, tmp_path: Path) -> None:
    tokens = cloud.tenants()
    cloud.as_admin(admin.create_workshop, {"id": "ws-d", "name": "作坊 ws-d", "district": "d1"}, cloud.now)
    for ws, lat, lon, who in (("ws-a", 40.657123, 109.840347, "insp1"), ("ws-c", 40.62, 110.05, "insp2")):
        saved = cloud.post(tokens[who], f"/api/v1/workshops/{ws}/record", {"latitude": lat, "longitude": lon})
        assert saved.status_code == 200, saved.text
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "b-1", TRAINING)).status_code == 200
    cloud.now = T0 + 2 * HOUR  # ws-b silent since; ws-a reports now
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "a-1", TRAINING)).status_code == 200

    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        phone = _login(chrome, base, "insp1", "/workshops/ws-b", PHONE)
        assert phone.get_attribute("#record-latitude", "inputmode") == "decimal"
        assert "WGS-84" in phone.text_content("label[for=record-latitude]")
        phone.fill("#record-latitude", "40.61")  # half a location: refused, the longitude named
        with phone.expect_response(base + "/workshops/ws-b/record") as answer:
            phone.click("#record-submit")
        assert answer.value.status == 400 and "longitude" in phone.text_content("#error")
        phone.fill("#record-latitude", "40.61")
        phone.fill("#record-longitude", "109.95")
        with phone.expect_navigation():
            phone.click("#record-submit")
        assert phone.get_attribute("#geo-link", "href") == "geo:40.61,109.95"
        assert "40.61, 109.95" in phone.text_content("#record [data-field=location]")

        phone.goto(base + "/map")
        assert phone.locator("nav a[href='/map'][aria-current=page]").count() == 1
        assert _points(phone) == {"ws-a": "fresh", "ws-b": "silent"}  # d2's ws-c is not there
        assert "ws-c" not in phone.content() and "作坊 ws-c" not in phone.content()
        assert "数据中断" in phone.text_content("a.map-point[data-workshop=ws-b] text")  # words, not colour alone
        assert phone.locator("a.map-point[data-workshop=ws-b] polygon").count() == 1  # ▲ a triangle
        assert phone.locator("a.map-point[data-workshop=ws-a] circle.shape").count() == 1  # ● a dot
        assert phone.locator("#map-legend li").count() == 4
        assert phone.locator("#map-unplaced li").all_text_contents() and \
            [li.get_attribute("data-workshop") for li in phone.locator("#map-unplaced li").all()] == ["ws-d"]
        assert phone.get_attribute("#map-placed li[data-workshop=ws-a] a.geo-link", "href") == \
            "geo:40.657123,109.840347"
        box = phone.locator("#workshop-map").bounding_box()
        assert box and box["width"] <= PHONE[0] and not _overflows(phone)
        screenshot(phone, "cloud-map-phone")
        with phone.expect_navigation():  # a point is a link, a thumb's tap away
            phone.click("a.map-point[data-workshop=ws-a] .shape")
        assert urlsplit(phone.url).path == "/workshops/ws-a"

        for query in ("?district=d2", "?district=nowhere"):  # another district, by the filter: not even its name
            with phone.expect_response(base + "/map" + query) as answer:
                phone.goto(base + "/map" + query)
            assert answer.value.status == 404 and "ws-c" not in phone.content() and "青山区" not in phone.content()
        phone.goto(base + "/map")
        phone.select_option("#map-district", "d1")
        with phone.expect_navigation():
            phone.click("#map-filter button")
        assert urlsplit(phone.url).query == "district=d1" and set(_points(phone)) == {"ws-a", "ws-b"}
        assert [o.get_attribute("value") for o in phone.locator("#map-district option").all()] == ["", "d1"]

        desk = _login(chrome, base, "insp1", "/map", TV)
        assert not _overflows(desk) and set(_points(desk)) == {"ws-a", "ws-b"}
        screenshot(desk, "cloud-map-desktop")
        with desk.expect_navigation():
            desk.click("a.map-point[data-workshop=ws-b] .shape")
        assert urlsplit(desk.url).path == "/workshops/ws-b"
        # nothing broke in the page (the refusals above and the favicon are answers, not errors of the page)
        assert [e for e in desk.errors + phone.errors if "Failed to load resource" not in e] == []

        other = _login(chrome, base, "insp2", "/map", PHONE)  # d2's inspector: its own district only
        assert _points(other) == {"ws-c": "never"} and "作坊 ws-a" not in other.content()
        owner = _login(chrome, base, "owner-a", "/map", PHONE)  # the owner: its own workshop only
        assert set(_points(owner)) == {"ws-a"} and "作坊 ws-b" not in owner.content() and not _overflows(owner)
