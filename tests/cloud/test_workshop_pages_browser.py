"""The workshop's page (作坊档案) in headless Chromium, on a desktop and a 390 px phone, over SQLite and
PostgreSQL: an inspector finds the workshop, sees every field 未填写, fills the record in, is refused a bad phone
with the field named, and sees the staff training records its gateway pushed; the owner sees the record without
the form and without the staff's names; another district's inspector is told nothing; a forged form changes
nothing. The cloud's clock is T0 (2025-11-26, China Standard Time)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, batch
from sqlalchemy import select
from test_cloud_pages_browser import PageServer, _login
from web_browser import PHONE, TV, WatchedPage, browser, screenshot

from cloud_ingest.store import db
from cloud_ingest.store.schema import users

PAGE = "/workshops/ws-a"
TRAINED = [{"kind": "training", "id": n, "day": day, "who": who, "topic": "色标分区与清洗", "by": "李店长",
            "recorded_at": T0 + n} for n, day, who in ((1, "2025-10-08", "张三"), (2, "2025-11-20", "李四"),
                                                       (3, "2025-11-20", "张三"))]


def _overflows(page: WatchedPage) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1"))


def _save(page: WatchedPage) -> None:
    with page.expect_navigation():
        page.click("#record-submit")


@pytest.mark.slow
def test_the_workshop_page_in_chromium(cloud: Cloud, tmp_path: Path) -> None:
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "t-1", TRAINED)).status_code == 200
    with db.read(cloud.engine) as conn:
        insp1 = conn.execute(select(users.c.id).where(users.c.username == "insp1")).scalar_one()
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", "/workshops", TV)
        assert insp.text_content("tr[data-workshop='ws-a'] .last-training") == "2025-11-20"
        assert "未上报" in insp.text_content("tr[data-workshop='ws-b'] .last-training")
        with insp.expect_navigation():
            insp.click("tr[data-workshop='ws-a'] a.record-link")
        assert urlsplit(insp.url).path == PAGE
        assert insp.locator("#record .empty-field").count() == 6  # every field 未填写, from before the record
        assert "未填写" in insp.text_content("#record")

        insp.fill("#record-registration", "内蒙古包头（昆）食坊登字2024-0317")
        insp.select_option("#record-category", "liangpi")
        insp.fill("#record-address", "包头市昆都仑区钢铁大街 21 号")
        insp.fill("#record-responsible", "王建国")
        insp.fill("#record-phone", "0472-5123456")
        insp.select_option("#record-inspector", str(insp1))
        _save(insp)
        assert urlsplit(insp.url).path == PAGE  # post/redirect/get
        assert insp.locator("#record .empty-field").count() == 0
        assert "凉皮" in insp.text_content("#record [data-field=category]")
        assert insp.text_content("#record [data-field=inspector]") == "insp1"
        assert insp.locator("#record-history tbody tr").count() == 1
        assert insp.text_content("#training-last-day") == "2025-11-20"
        assert insp.text_content("#training-last-people") == "张三、李四"
        assert insp.locator("#training-records tbody tr").count() == 3
        screenshot(insp, "cloud-workshop-record")

        insp.fill("#record-phone", "12345")  # refused on the page, naming the field; nothing written
        with insp.expect_response(base + PAGE + "/record") as answer:
            insp.click("#record-submit")
        assert answer.value.status == 400
        assert "phone" in insp.text_content("#error") and "固定电话" in insp.text_content("#error")
        insp.goto(base + PAGE)
        assert insp.text_content("#record [data-field=phone]") == "0472-5123456"
        assert insp.locator("#record-history tbody tr").count() == 1

        insp.select_option("#record-category", "other")  # "other" with what the workshop makes
        insp.fill("#record-category_other", "手工挂面")
        _save(insp)
        assert "手工挂面" in insp.text_content("#record [data-field=category]")
        assert insp.locator("#record-history tbody tr").count() == 2

        cookies = {c["name"]: c["value"] for c in insp.context.cookies()}  # another site, no CSRF token
        forged = httpx.post(base + PAGE + "/record", cookies=cookies, data={"phone": "13800000000"},
                            headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403

        phone = _login(chrome, base, "insp1", PAGE, PHONE)  # the inspector on a phone: nothing wider than it
        assert not _overflows(phone)
        assert phone.locator("#form-record").is_visible() and phone.locator("#training-records").is_visible()
        screenshot(phone, "cloud-workshop-record-phone")

        owner = _login(chrome, base, "owner-a", PAGE, PHONE)  # the owner: its record, no form, no names
        assert owner.text_content("#record [data-field=phone]") == "0472-5123456"
        assert owner.locator("#form-record").count() == 0 and owner.locator("#training").count() == 0
        assert "张三" not in owner.content() and not _overflows(owner)

        other = _login(chrome, base, "insp2", "/workshops")  # another district's inspector
        with other.expect_response(base + PAGE) as answer:
            other.goto(base + PAGE)
        assert answer.value.status == 404 and "张三" not in other.content() and "0472" not in other.content()

