"""The inspector's grade form (分级定榜) in headless Chromium: an inspector sets a grade, raises and lowers it,
and sees the 升榜/降榜 history; an owner sees the history without the form; another district's inspector is
told nothing; a forged form without the session's CSRF token changes nothing; the public page shows it all
without a login. The cloud's clock is T0 (2025-11-26, China Standard Time)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import DAY, Cloud
from test_cloud_pages_browser import PageServer, _login
from web_browser import PHONE, WatchedPage, browser, screenshot

FORM = "/workshops/ws-a/grade"


def _publish(page: WatchedPage, grade: str, effective: str, reason: str) -> None:
    page.select_option("#grade-grade", grade)
    page.fill("#grade-effective", effective)
    page.fill("#grade-reason", reason)
    with page.expect_navigation():
        page.click("#grade-submit")


def _history(page: WatchedPage) -> list[tuple[str | None, str | None, str]]:
    rows = page.locator("#grade-history tbody tr")
    return [(rows.nth(i).get_attribute("data-direction"), rows.nth(i).locator("[data-grade]").first
             .get_attribute("data-grade"), rows.nth(i).locator("td").first.text_content() or "")
            for i in range(rows.count())]


@pytest.mark.slow
def test_an_inspector_grades_in_chromium_and_sees_the_history(tmp_path: Path) -> None:
    cloud = Cloud(f"sqlite:///{tmp_path / 'cloud.db'}")
    cloud.tenants()
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", FORM)
        assert insp.locator("#grade-none").count() == 1  # nothing published yet, and said so
        assert insp.get_attribute("#grade-effective", "max") == DAY  # never in the future
        _publish(insp, "silver", "2025-11-01", "年度评定：色标清晰，分区规范")
        assert urlsplit(insp.url).path == FORM  # post/redirect/get
        assert insp.locator("#grade-none").count() == 0
        _publish(insp, "gold", "2025-11-20", "复查：全部器具按区归位")
        _publish(insp, "orange", DAY, "抽查发现生熟砧板混用，降为橙榜")
        assert _history(insp) == [("down", "orange", DAY), ("up", "gold", "2025-11-20"),
                                  ("first", "silver", "2025-11-01")]
        now = insp.locator("#grade-now")
        assert now.locator("[data-grade]").get_attribute("data-grade") == "orange"
        assert "橙" in now.text_content() and "橙榜" in now.text_content()  # its mark and its name, not colour alone
        assert "降榜" in insp.locator("#grade-history tbody tr").first.text_content()
        screenshot(insp, "cloud-grade-form")

        # an effective date before the current grade's: refused on the page, with the reason, nothing written
        insp.select_option("#grade-grade", "gold")
        insp.fill("#grade-effective", "2025-11-02")
        insp.fill("#grade-reason", "补录")
        with insp.expect_response(base + FORM) as answer:
            insp.click("#grade-submit")
        assert answer.value.status == 422
        assert DAY in insp.text_content("#error")
        assert len(_history(insp)) == 3

        # a page of another site posting the form with the inspector's cookie but no CSRF token: refused
        cookies = {c["name"]: c["value"] for c in insp.context.cookies()}
        forged = httpx.post(base + FORM, cookies=cookies, data={"grade": "gold", "effective": DAY, "reason": "x"},
                            headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403
        assert len(_history(insp)) == 3
        insp.reload()
        assert len(_history(insp)) == 3

        owner = _login(chrome, base, "owner-a", FORM, PHONE)  # the owner sees the history, cannot grade
        assert owner.locator("#form-grade").count() == 0 and len(_history(owner)) == 3
        other = _login(chrome, base, "insp2", "/workshops")  # another district's inspector
        with other.expect_response(base + FORM) as answer:
            other.goto(base + FORM)
        assert answer.value.status == 404 and other.locator("#form-grade").count() == 0

        anon = WatchedPage(chrome.new_context(locale="zh-CN").new_page())  # the public page, no login
        anon.goto(base + "/public/workshops/ws-a")
        assert urlsplit(anon.url).path == "/public/workshops/ws-a"
        assert _history(anon) == _history(insp)
        assert "insp1" not in anon.content()  # who graded is not published
        anon.goto(base + "/public/districts/d1")
        assert anon.locator("#district-grades tr[data-workshop]").count() == 1  # ws-b has no grade: not listed
        for page in (insp, owner, anon):  # the refusal provoked above and the browser's own favicon.ico only
            unexpected = [e for e in page.errors if "status of 422" not in e and "favicon.ico" not in e]
            assert unexpected == [], unexpected
