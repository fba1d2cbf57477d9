"""The inspectors' and owners' review of the cloud pages, end to end in headless Chromium (on a desktop
and a phone): login, queue, alarm, rectification, reports. The page-by-page checks are test_cloud_pages.py."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pdfplumber
import pytest
import uvicorn
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import CORRECTIVE, DAY, PASSWORD, Cloud, gz, world_batches
from gateway_keys import signature_headers
from web_browser import PHONE, TV, WatchedPage, browser, contrast_failures, screenshot

# -- the browser -------------------------------------------------------------------------------


class PageServer:
    """The cloud app served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "PageServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _login(chrome, base: str, username: str, landing: str = "/workshops",  # type: ignore[no-untyped-def]
           size: tuple[int, int] = TV) -> WatchedPage:
    ctx = chrome.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN", accept_downloads=True)
    page = WatchedPage(ctx.new_page())
    page.goto(base + landing)
    assert urlsplit(page.url).path == "/login"
    page.fill("#username", username)
    page.fill("#password", PASSWORD[username])
    page.click("button[type=submit]")
    page.wait_for_url(base + landing)
    return page


def _submit(page: WatchedPage, form: str, note: str | None = None) -> None:
    if note is not None:  # the answer's form is the ledger item's (its text and photos)
        page.fill("#answer-text" if form == "answer" else f"#{form}-note", note)
    with page.expect_navigation():
        page.click(f"#{form}-submit")


@pytest.mark.slow
def test_the_review_in_chromium(tmp_path: Path) -> None:
    cloud = Cloud(f"sqlite:///{tmp_path / 'cloud.db'}")
    tokens = cloud.tenants()
    with PageServer(cloud.client.app) as server, browser() as chrome, httpx.Client(base_url=server.base) as http:
        for gateway, _, doc in world_batches():  # through the real ingest endpoint, over the socket
            r = http.post("/api/v1/ingest", content=gz(doc), headers={
                "Authorization": f"Bearer {tokens[gateway]}", "Content-Encoding": "gzip",
                "Content-Type": "application/json", **signature_headers(gz(doc))})
            assert r.status_code == 200, r.text
        ids = {a["workshop"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()}
        base = server.base

        ctx = chrome.new_context(viewport={"width": TV[0], "height": TV[1]}, locale="zh-CN")
        anon = WatchedPage(ctx.new_page())
        anon.goto(base + "/alarms")
        screenshot(anon, "cloud-login")
        anon.fill("#username", "insp1")
        anon.fill("#password", "wrong-password")
        with anon.expect_response(base + "/login") as answer:
            anon.click("button[type=submit]")
        assert answer.value.status == 401
        assert anon.text_content("#error") == "用户名或密码错误 / wrong username or password"
        ctx.close()

        insp = _login(chrome, base, "insp1", "/alarms")
        assert insp.locator("tr[data-alarm]").count() == 1  # what needs the inspector: not ws-b's minor alarm
        with insp.expect_navigation():
            insp.click("#view-all")
        assert insp.locator("tr[data-alarm]").count() == 2
        insp.click("#filter-toggle")  # the filters are behind one tap
        insp.select_option("#f-severity", "critical")
        insp.select_option("#f-district", "d1")
        insp.fill("#f-from", DAY)
        insp.fill("#f-to", DAY)
        with insp.expect_navigation():
            insp.click("#filters button[type=submit]")
        assert "severity=critical" in insp.url
        rows = insp.locator("tr[data-alarm]")
        assert rows.count() == 1 and rows.get_attribute("data-alarm") == str(ids["ws-a"])
        badge = rows.locator("[data-sev]")
        assert badge.text_content().startswith("▲") and "严重" in badge.text_content()  # a shape and a name
        screenshot(insp, "cloud-alarm-queue")

        with insp.expect_navigation():
            rows.locator("a.open").click()
        assert urlsplit(insp.url).path == f"/alarms/{ids['ws-a']}"
        lanes = {lane: insp.locator(f"#timeline tr[data-lane={lane}]").all_text_contents()
                 for lane in ("tool", "workshop", "inspector")}
        assert len(lanes["tool"]) == 2 and "rack-red-1" in lanes["tool"][0] and "rack-white-1" in lanes["tool"][1]
        assert any(CORRECTIVE in text for text in lanes["workshop"])
        assert lanes["inspector"] == []
        screenshot(insp, "cloud-alarm")

        _submit(insp, "ack", "已远程查看证据")
        assert insp.get_attribute("#summary [data-review]", "data-review") == "acknowledged"
        _submit(insp, "clear", "证据完整，作坊已整改")
        assert insp.get_attribute("#summary [data-review]", "data-review") == "cleared"
        notes = insp.locator("#timeline tr[data-lane=inspector]").all_text_contents()
        assert "已远程查看证据" in notes[0] and "证据完整，作坊已整改" in notes[1]
        insp.fill("#request-due", "2030-01-31")
        _submit(insp, "request", "请提交红色刀具的消毒记录")
        rect = insp.locator("article.rect")
        assert rect.get_attribute("data-state") == "requested"
        rect_id = rect.get_attribute("data-rect")

        owner = _login(chrome, base, "owner-a", "/rectifications", PHONE)  # an owner answers from a phone
        assert owner.locator(f"#rects-waiting tr[data-rect='{rect_id}']").count() == 1
        screenshot(owner, "cloud-rectifications-owner-phone")
        with owner.expect_navigation():
            owner.click(f"#rects-waiting tr[data-rect='{rect_id}'] a.open")
        wide = owner.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert wide == [], wide  # nothing sticks out sideways on a phone
        screenshot(owner, "cloud-alarm-owner-phone")
        assert owner.locator("#form-ack").count() == 0 and owner.locator("#form-request").count() == 0
        _submit(owner, "answer", "刀具已消毒并放回红色架")
        assert owner.get_attribute("article.rect", "data-state") == "answered"

        insp.reload()
        _submit(insp, "return", "请附消毒后的照片")
        assert insp.get_attribute("article.rect", "data-state") == "returned"
        owner.reload()
        _submit(owner, "answer", "照片已上传至作坊档案")
        insp.reload()
        screenshot(insp, "cloud-rectification-answered")
        _submit(insp, "accept", "通过")
        assert insp.get_attribute("article.rect", "data-state") == "accepted"
        steps = insp.locator("article.rect li[data-step]").evaluate_all("els => els.map(e => e.dataset.step)")
        assert steps == ["request", "answer", "return", "answer", "accept"]
        assert insp.locator("#timeline tr[data-lane=workshop]").count() == 2 + 2  # raised, its ack, two answers
        screenshot(insp, "cloud-alarm-done")
        measured, low = contrast_failures(insp)
        assert measured > 50 and low == [], low  # WCAG AA for every text run on the busiest page

        insp.goto(base + "/workshops")
        sections = insp.locator("section.district").evaluate_all("els => els.map(e => e.dataset.district)")
        assert sections == ["d1"]
        assert insp.locator("tr[data-workshop]").evaluate_all("els => els.map(e => e.dataset.workshop)") == [
            "ws-a", "ws-b"]
        online = insp.locator("tr[data-workshop=ws-a] [data-online]")
        assert (online.get_attribute("data-online"), online.get_attribute("data-total")) == ("1", "2")
        screenshot(insp, "cloud-workshops")

        insp.goto(base + "/reports")
        insp.select_option("#r-workshop", "ws-a")
        insp.fill("#r-from", "2025-11-01")
        insp.fill("#r-to", "2025-11-30")
        with insp.expect_navigation():
            insp.click("#report-form button[type=submit]")
        assert insp.locator("#report tbody tr").count() > 10
        screenshot(insp, "cloud-report")
        files = {}
        for fmt in ("csv", "pdf"):
            with insp.expect_download() as download:
                insp.click(f"#download-{fmt}")
            path = tmp_path / download.value.suggested_filename
            download.value.save_as(path)
            files[fmt] = path
        assert files["csv"].name == "sebiao-report-ws-a-2025-11-01-2025-11-30.csv"
        raw = files["csv"].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert table[0] == ["指标 / figure", "对象 / subject", "数值 / value", "单位 / unit"]
        assert ["作坊 / workshop", "ws-a", "作坊 ws-a", ""] in table
        with pdfplumber.open(files["pdf"]) as pdf:
            text = "".join(p.extract_text() or "" for p in pdf.pages)
        assert "ws-a" in text and "2025-11-01" in text

        for page in (insp, owner):
            assert page.errors == [], page.errors
            with page.expect_navigation():
                page.click("#logout")
            assert urlsplit(page.url).path == "/login"
            page.goto(base + "/workshops")
            assert urlsplit(page.url).path == "/login"
    cloud.client.close()
    cloud.engine.dispose()
