"""The admin's district alarm channels section (监管推送通道) on /workshops in headless Chromium, on a desktop and
a 390 px phone, over SQLite and PostgreSQL: each configured channel with its state by word and shape, the failing
one's error, and on the phone the table scrolls inside its box, never the page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import ADMIN_PASSWORD, Cloud, alarm, batch
from notify_receiver import NotifyReceiver
from starlette.testclient import TestClient
from test_cloud_notify import push, settings
from test_cloud_pages_browser import PageServer
from web_browser import PHONE, TV, WatchedPage, browser, screenshot

from cloud_ingest.app import build_app
from cloud_ingest.notify.outbox import enabled_engine
from cloud_ingest.notify.worker import NotifyWorker


def _admin(chrome, base: str, size: tuple[int, int]) -> WatchedPage:  # type: ignore[no-untyped-def]
    ctx = chrome.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    page = WatchedPage(ctx.new_page())
    page.goto(base + "/workshops")
    assert urlsplit(page.url).path == "/login"
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/workshops")
    return page


@pytest.mark.slow
def test_the_channels_section_in_chromium(cloud: Cloud, tmp_path: Path) -> None:
    tokens = cloud.tenants()
    receivers = {name: NotifyReceiver() for name in ("wecom", "hook", "other")}
    try:
        receivers["hook"].mode = "error"
        notify = settings(receivers)
        app = build_app(cloud.engine, dataclasses.replace(cloud.config, notify=notify), lambda: cloud.now)
        push(TestClient(app), tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=12, seq=1)]))
        NotifyWorker(enabled_engine(cloud.engine, notify), notify, lambda: cloud.now).round()
        with PageServer(app) as server, browser() as chrome:
            for size in (TV, PHONE):
                page = _admin(chrome, server.base, size)
                ok = page.locator("#notify-channels tr[data-channel='d1/局群']")
                assert ok.get_attribute("data-state") == "ok" and "● 正常" in ok.text_content()
                failing = page.locator("#notify-channels tr[data-channel='d1/平台']")
                assert failing.get_attribute("data-state") == "retrying"
                assert "◆ 重试中" in failing.text_content() and "boom" in failing.text_content()
                assert page.locator("#notify-channels tbody tr").count() == 3
                assert not page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
                screenshot(page, f"cloud-notify-channels-{size[0]}")
    finally:
        for r in receivers.values():
            r.stop()
