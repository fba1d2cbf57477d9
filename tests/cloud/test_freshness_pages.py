"""最后上报 / 数据中断 first on the inspectors' pages, in headless Chromium (a desktop and a 390 px phone), on
SQLite and PostgreSQL: a workshop whose gateway has been silent longer than ``freshness.silent_after_minutes``
reads 数据中断 on the workshop list, its own page and the alarm queue — never 全部在线, although every station's
newest status said online — while a workshop that reported a minute ago reads 全部在线. Another district's
workshop stays out of sight. The pure parts (the state, the config) are table-tested here too."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, alarm, batch, status
from starlette.testclient import TestClient
from test_cloud_pages_browser import PageServer, _login
from web_browser import PHONE, TV, browser, screenshot

from cloud_ingest.app import build_app
from cloud_ingest.config import Freshness, load_cloud_config
from cloud_ingest.reports import freshness
from cloud_ingest.review import silence
from cloud_ingest.web.freshness_views import silence_words
from sebiao_common.errors import ConfigError

MINUTE = 60_000
SILENT_AFTER = 30  # configured below the default 60: the pages must use the configured limit


@pytest.mark.parametrize("last, now, expected", [
    (None, T0, "never"), (T0, T0, "fresh"), (T0, T0 + 30 * MINUTE, "fresh"), (T0, T0 + 30 * MINUTE + 1, "silent"),
    (T0 + MINUTE, T0, "fresh"),  # a batch "from the future" (clock skew between workers) is not a silence
])
def test_state(last: int | None, now: int, expected: str) -> None:
    assert freshness.state(last, now, 30 * MINUTE) == expected


def test_silence_words() -> None:
    assert silence_words(45 * MINUTE) == "45 分 / 45 min"
    assert silence_words(10 * 60 * MINUTE + 5 * MINUTE) == "10 小时 5 分 / 10 h 5 min"
    assert silence_words(3 * 1440 * MINUTE + 4 * 60 * MINUTE) == "3 天 4 小时 / 3 d 4 h"


@pytest.mark.parametrize("block, message", [
    ("freshness: {silent_after_minutes: 0}", "freshness.silent_after_minutes: must be at least 1"),
    ("freshness: {silent_after_minutes: 20000}", "freshness.silent_after_minutes: must be at most 10080"),
    ("freshness: {silent_after_minutes: '1h'}", "freshness.silent_after_minutes: must be a whole number"),
    ("freshness: {check_seconds: 1}", "freshness.check_seconds: must be between 5"),
    ("freshness: {silent_minutes: 5}", "silent_minutes"),
])
def test_freshness_config_is_checked(tmp_path: Path, block: str, message: str) -> None:
    path = tmp_path / "cloud.yaml"
    path.write_text(f"database: {{url: 'sqlite://'}}\nsession_secret: '{'s' * 40}'\n{block}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_cloud_config(path)
    assert message in str(err.value) and "cloud.yaml" in str(err.value)


def test_freshness_config_defaults_and_values(tmp_path: Path) -> None:
    path = tmp_path / "cloud.yaml"
    path.write_text(f"database: {{url: 'sqlite://'}}\nsession_secret: '{'s' * 40}'\n", encoding="utf-8")
    assert load_cloud_config(path).freshness == Freshness(silent_after_minutes=60, check_seconds=60.0)
    path.write_text(f"database: {{url: 'sqlite://'}}\nsession_secret: '{'s' * 40}'\n"
                    "freshness: {silent_after_minutes: 90, check_seconds: 15}\n", encoding="utf-8")
    assert load_cloud_config(path).freshness.silent_ms == 90 * MINUTE


def silent_world(cloud: Cloud) -> None:
    """ws-a: every station online at its last report 45 min ago, with an active alarm; ws-b: reported a
    minute ago, every station online; ws-c (the other district): silent too."""
    tokens = cloud.tenants()
    cloud.now = T0
    for ws in ("ws-a", "ws-c"):
        doc = batch(ws, f"{ws}-1", [status("rack-red-1", T0), status("rack-white-1", T0), alarm(12, 1)])
        assert cloud.push(tokens[f"gw-{ws}"], doc).status_code == 200
    cloud.now = T0 + 44 * MINUTE
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "b-1", [status("rack-red-1", cloud.now)])).status_code == 200
    cloud.now = T0 + 45 * MINUTE


def configured_app(cloud: Cloud):  # type: ignore[no-untyped-def]
    return build_app(cloud.engine, replace(cloud.config, freshness=Freshness(silent_after_minutes=SILENT_AFTER)),
                     lambda: cloud.now)


@pytest.mark.slow
def test_a_silent_workshop_reads_data_interrupted_everywhere(cloud: Cloud) -> None:
    silent_world(cloud)
    opened = silence.sweep(cloud.engine, cloud.now, Freshness(silent_after_minutes=SILENT_AFTER)).opened
    assert len(opened) == 2  # ws-a and ws-c
    with PageServer(configured_app(cloud)) as server, browser() as chrome:
        for size, name in ((TV, "desktop"), (PHONE, "phone")):
            page = _login(chrome, server.base, "insp1", "/workshops", size)
            a, b = page.locator("tr[data-workshop='ws-a']"), page.locator("tr[data-workshop='ws-b']")
            assert a.locator("[data-fresh]").get_attribute("data-fresh") == "silent"
            assert "数据中断" in a.text_content() and "全部在线" not in a.text_content()
            assert "最后上报" in a.text_content() and "2025-11-26 15:40:00" in a.text_content()
            assert a.locator("[data-claim]").get_attribute("data-claim") != "all-online"
            assert b.locator("[data-fresh]").get_attribute("data-fresh") == "fresh"
            assert b.locator("[data-claim]").get_attribute("data-claim") == "all-online"
            assert page.get_attribute("[data-totals='d1'] [data-silent]", "data-silent") == "1"
            assert page.locator("tr[data-workshop='ws-c']").count() == 0  # another district's
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
            screenshot(page, f"cloud-freshness-workshops-{name}")

            page.goto(server.base + "/workshops/ws-a")
            assert page.get_attribute("#freshness", "data-fresh") == "silent"
            assert "数据中断" in page.text_content("#freshness") and "45 分" in page.text_content("#freshness")
            cells = page.locator("#stations tr[data-station] td[data-online]")
            assert cells.count() == 2 and all("上报于" in t for t in cells.all_text_contents())
            assert "全部在线" not in page.text_content("main")
            outage = page.locator("#outages tr[data-outage]")
            assert outage.count() == 1 and outage.get_attribute("data-ended") == "no"
            assert "仍中断" in outage.text_content()
            item = outage.locator("a").get_attribute("href")
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
            screenshot(page, f"cloud-freshness-workshop-{name}")

            page.goto(server.base + item)  # the finding, in the ledger like any other
            assert "数据中断" in page.text_content("main") and "@system" in page.text_content("main")

            page.goto(server.base + "/alarms")
            row = page.locator("tr[data-alarm]")
            assert row.count() == 1 and row.locator("[data-fresh]").get_attribute("data-fresh") == "silent"
            assert "数据中断" in row.text_content()
            with page.expect_navigation():
                row.locator("a.open").click()
            assert page.get_attribute("#summary [data-fresh]", "data-fresh") == "silent"
            page.goto(server.base + "/workshops/ws-c")
            assert "未找到" in page.text_content("h1")


def test_the_limit_is_the_configured_one(cloud: Cloud) -> None:
    """45 min of silence: 数据中断 under a 30-minute limit, still 全部在线 under the default 60."""
    silent_world(cloud)
    for app, expected in ((configured_app(cloud), "silent"), (cloud.client.app, "fresh")):
        with TestClient(app) as client:
            r = client.post("/login", data={"username": "insp1", "password": "pw-insp1-123456"})
            assert r.status_code == 200, r.text
            html = client.get("/workshops").text
            row = html[html.index('data-workshop="ws-a"'):]
            assert f'data-fresh="{expected}"' in row[:row.index("</tr>")]
            assert ("全部在线" in row[:row.index("</tr>")]) == (expected == "fresh")
