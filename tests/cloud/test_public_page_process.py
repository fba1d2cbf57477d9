"""The public page served by the real ``sebiao cloud`` process, on SQLite and PostgreSQL, and read by headless
Chromium as a phone (390 px) and a desktop: a gateway learns its address with its token, a phone opens it,
a crowd from one address is braked, a rotated address is gone, and the page fits the phone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud, world_batches
from cloud_server import CloudServer
from web_browser import CONTRAST_JS, PHONE, browser, open_page, screenshot

from cloud_ingest.public import page

# the smallest font size of any visible text, and whether anything is wider than the viewport
LAYOUT_JS = """
() => {
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.textContent.trim()) continue;
    const r = t.parentElement.getBoundingClientRect();
    if (r.width && r.height) sizes.push(parseFloat(getComputedStyle(t.parentElement).fontSize));
  }
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
    document.documentElement.clientWidth + 0.5).map(e => e.tagName + '#' + e.id);
  return {min: Math.min(...sizes), scroll: document.documentElement.scrollWidth,
          width: document.documentElement.clientWidth, wide};
}
"""


@pytest.fixture
def served(cloud_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))
    tokens = cloud.tenants()
    process = CloudServer(tmp_path, cloud_url, public_pages={"per_minute": 20, "cache_seconds": 60}).start()
    try:
        yield cloud, tokens, process
    finally:
        process.stop()
        cloud.client.close()
        cloud.engine.dispose()


def test_a_gateway_learns_its_address_and_a_phone_opens_it(served) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, process = served
    for gateway, _, doc in world_batches():
        assert process.push(tokens[gateway], doc).status_code == 200
    learnt = process.get(tokens["gw-ws-a"], "/api/v1/gateway/public-page")
    assert learnt.status_code == 200, learnt.text
    url = learnt.json()["url"]
    assert url == f"{process.url}/p/{learnt.json()['slug']}"  # no base_url: the address the gateway used
    answer = httpx.get(url)
    assert answer.status_code == 200 and len(answer.content) < page.BUDGET
    assert "作坊 ws-a" in answer.text and 'data-state="live"' in answer.text
    assert "王师傅" not in answer.text and "04A224E2C65E80" not in answer.text and "作坊 ws-b" not in answer.text

    with browser() as chrome:
        for size in (PHONE, (1280, 800)):
            phone = open_page(chrome, url, size)
            layout = phone.evaluate(LAYOUT_JS)
            assert layout["scroll"] <= layout["width"] and layout["wide"] == [], (size, layout)
            assert layout["min"] >= 14, (size, layout)
            low = [c for c in phone.evaluate(CONTRAST_JS) if c["ratio"] < c["need"]]
            assert low == [], low
            assert phone.errors == []  # nothing blocked by the page's own CSP, nothing failed
            screenshot(phone, f"cloud-public-page-{size[0]}")

    # a crowd from one address: braked with 429 and Retry-After; the brake is per address
    with process.client() as one:
        codes = [one.get(url).status_code for _ in range(40)]
    assert codes.count(429) >= 15 and set(codes) == {200, 429}, codes
    with process.client() as one:
        refused = one.get(url)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    with process.client(source="127.0.0.2") as other:
        assert other.get(url).status_code == 200

    rotated = process.post(process_admin(cloud), "/api/v1/admin/workshops/ws-a/public-page/rotate")
    assert rotated.status_code == 200, rotated.text
    with process.client(source="127.0.0.3") as third:
        gone = third.get(url)  # one worker: the rotation dropped its cached pages
        new = third.get(rotated.json()["url"])
        never = third.get(url.rsplit("/", 1)[0] + "/" + "b" * 24)
    assert new.status_code == 200 and never.status_code == 404 and never.content == page.not_found()
    assert gone.status_code == 404 and gone.content == page.not_found()
    assert process.get(tokens["gw-ws-a"], "/api/v1/gateway/public-page").json()["url"] == rotated.json()["url"]


def process_admin(cloud: Cloud) -> str:
    return cloud.admin_token  # the in-process login's token: the same database, valid in the process too
