"""The issue ledger (挂账销号) and 一坊一策 on the pages, end to end in headless Chromium (a desktop and a
390 px phone), on SQLite and PostgreSQL: an inspector enters a finding, the owner answers from a phone with a
photo (a fake image is refused), the inspector closes it; overdue items counted in the nav and listed per
district and workshop; the plan written, a goal linked and met, read by the owner, printed as a PDF."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pdfplumber
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from PIL import Image
from test_cloud_pages_browser import PageServer, _login, _submit
from web_browser import LOADED_WIDTH, PHONE, browser, contrast_failures, screenshot

DAY_MS = 86_400_000
OVERFLOW = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _narrow_ok(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(OVERFLOW) == []


@pytest.mark.slow
def test_the_ledger_and_the_plan_in_chromium(cloud_url: str, tmp_path: Path) -> None:
    cloud = Cloud(cloud_url)
    tokens = cloud.tenants()
    photo, fake = tmp_path / "rack.png", tmp_path / "rack-fake.png"
    Image.new("RGB", (64, 48), (20, 120, 40)).save(photo, "PNG")
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", "/ledger")
        assert insp.get_attribute("#overdue", "class") == "empty"
        insp.select_option("#open-workshop", "ws-a")
        insp.select_option("#open-source", "inspection")
        insp.fill("#open-ref", "JC-2025-031")
        insp.fill("#open-text", "白色成品容器放在生肉区，未分区存放")
        insp.select_option("#open-category", "colour_coding")
        insp.select_option("#open-severity", "critical")
        insp.fill("#open-responsible", "王师傅")
        insp.fill("#open-due", "2025-11-28")
        with insp.expect_navigation():
            insp.click("#open-submit")
        item_id = urlsplit(insp.url).path.rsplit("/", 1)[1]
        assert insp.get_attribute("article.ledger-item", "data-state") == "open"
        assert "色标化管理" in insp.text_content("dl.facts") and "王师傅" in insp.text_content("dl.facts")
        assert insp.locator("#form-close").count() == 0  # nothing to close before the workshop answered

        owner = _login(chrome, base, "owner-a", "/ledger", PHONE)
        assert owner.locator(f"#items-all tr[data-item='{item_id}']").count() == 1
        assert owner.locator("#form-open").count() == 0
        _narrow_ok(owner)
        screenshot(owner, "cloud-ledger-owner-phone")
        owner.goto(f"{base}/ledger/{item_id}")
        _narrow_ok(owner)
        owner.fill("#answer-text", "容器已移回成品区，贴白色标签")
        owner.set_input_files("#answer-photos", str(fake))
        with owner.expect_response(f"{base}/ledger/{item_id}/answer") as refused:
            owner.click("#answer-submit")
        assert refused.value.status == 422
        assert "JPEG" in owner.text_content("#error") and owner.get_attribute("article.ledger-item",
                                                                              "data-state") == "open"
        owner.fill("#answer-text", "容器已移回成品区，贴白色标签")
        owner.set_input_files("#answer-photos", str(photo))
        with owner.expect_navigation():
            owner.click("#answer-submit")
        assert owner.get_attribute("article.ledger-item", "data-state") == "answered"
        img = owner.locator(".photos img")
        assert img.count() == 1 and img.evaluate(LOADED_WIDTH) == 64
        _narrow_ok(owner)
        screenshot(owner, "cloud-ledger-item-owner-phone")

        insp.reload()
        assert insp.locator(".photos img").evaluate(LOADED_WIDTH) == 64
        _submit(insp, "close", "现场复核通过")
        assert insp.get_attribute("article.ledger-item", "data-state") == "closed"
        assert insp.locator("li[data-step]").evaluate_all("els => els.map(e => e.dataset.step)") == [
            "open", "answer", "close"]
        measured, low = contrast_failures(insp)
        assert measured > 20 and low == [], low

        # overdue: counted in the nav and listed per district and per workshop
        r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"workshop": "ws-a", "text": "抹布未分色",
                                                                 "due": cloud.now + DAY_MS})
        assert r.status_code == 201, r.text
        late_id = r.json()["id"]
        cloud.now += 3 * DAY_MS
        insp.goto(base + "/ledger")
        assert insp.get_attribute("#nav-overdue", "data-count") == "1"
        assert "d1" == insp.get_attribute("#overdue li[data-district]", "data-district")
        assert "1" in insp.text_content("#overdue li[data-workshop=ws-a]")
        insp.check("#f-overdue")
        with insp.expect_navigation():
            insp.click("form.filters button[type=submit]")
        assert insp.locator("#items-all tr[data-item]").evaluate_all("els => els.map(e => e.dataset.item)") == [
            str(late_id)]
        assert insp.locator(f"tr[data-item='{late_id}'] [data-overdue]").count() == 1
        screenshot(insp, "cloud-ledger-overdue")

        # 一坊一策: written by the district's inspector, read by the owner
        insp.goto(base + "/workshops/ws-a/plan")
        insp.fill("#summary-text", "年底前完成全部器具色标化，争取升铜榜")
        with insp.expect_navigation():
            insp.click("#summary-submit")
        insp.fill("#goal-text", "全部容器、抹布按色标更换")
        insp.fill("#goal-target", "2026-11-30")
        insp.check(f"#goal-item-{item_id}")
        insp.check(f"#goal-item-{late_id}")
        with insp.expect_navigation():
            insp.click("#goal-submit")
        goal = insp.locator("tr[data-goal]")
        assert goal.count() == 1 and f"#{item_id}" in goal.text_content() and f"#{late_id}" in goal.text_content()
        with insp.expect_navigation():
            goal.locator("button").click()
        assert insp.locator("tr[data-goal] .badge.goal-met").count() == 1
        progress = insp.text_content("#progress")
        assert "1 / 2" in progress and "1 / 1" in progress
        screenshot(insp, "cloud-plan")

        owner.goto(base + "/workshops/ws-a/plan")
        assert "争取升铜榜" in owner.text_content("#summary")
        assert owner.locator("#form-summary, #form-goal, tr[data-goal] button").count() == 0
        _narrow_ok(owner)
        screenshot(owner, "cloud-plan-owner-phone")
        with owner.expect_download() as download:
            owner.click("#plan-pdf")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        with pdfplumber.open(io.BytesIO(path.read_bytes())) as pdf:
            text = "".join(p.extract_text() or "" for p in pdf.pages)
        assert "争取升铜榜" in text and "全部容器、抹布按色标更换" in text and "第 1 页" in text

        # another district's inspector sees none of it
        other = _login(chrome, base, "insp2", "/ledger")
        assert other.locator("#items-all tr[data-item]").count() == 0
        assert other.goto(f"{base}/ledger/{item_id}").status == 404
        assert other.goto(f"{base}/workshops/ws-a/plan").status == 404

        # the refused answer's 422 is logged by Chromium; the site has no favicon, which Chromium may ask for
        for page in (insp, owner):
            assert [e for e in page.errors if "422" not in e and "favicon.ico" not in e] == [], page.errors
    cloud.client.close()
    cloud.engine.dispose()
