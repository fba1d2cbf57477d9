"""End to end, on SQLite and PostgreSQL: the shop-front display's QR code leads to the workshop's public page on
the cloud once the gateway has learnt it, and says so; before that (the cloud away) it carries the shop's own
address and says that only the shop's network opens it; the gateway keeps the address across a restart without
the cloud.

Real parts: the cloud process (``sebiao cloud``), Mosquitto, the gateway process (``sebiao gateway``) with a
``cloud:`` section, Debian's Chromium on the display.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import segno
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from web_browser import TV, browser, open_page, screenshot

from cloud_ingest.access import admin

pytestmark = pytest.mark.slow


def _qr(gateway: GatewayProcess) -> tuple[str, str, str]:
    answer = gateway.get("/display/qr.svg")
    assert answer.status_code == 200
    return answer.headers["x-display-url-source"], answer.headers["x-display-url"], answer.text


def test_the_display_qr_leads_to_the_cloud_page(cloud_url: str, mosquitto, tmp_path: Path) -> None:
    ws = example_config().workshop.id
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))
    cloud.tenants()
    cloud.as_admin(admin.create_workshop, {"id": ws, "name": "示例凉皮作坊", "district": "d1"}, cloud.now)
    public_key = gateway_key_command(tmp_path / "data")
    token = cloud.as_admin(admin.issue_token, {"kind": "gateway", "workshop": ws, "public_key": public_key},
                           cloud.now)["token"]
    server = CloudServer(tmp_path, cloud_url)  # its port is chosen: the gateway is configured, the cloud not up
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud={
        "url": server.url, "token": token, "linger_seconds": 0, "timeout_seconds": 2, "retry_max_seconds": 1})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        with browser() as chrome:
            display = open_page(chrome, gateway.base + "/display", TV)
            display.wait_rendered()
            source, url, _ = _qr(gateway)
            assert (source, url) == ("lan", gateway.base + "/display")  # no cloud answer yet: the shop's address
            assert display.get_attribute("#qr-fig", "data-source") == "lan"
            assert "仅限本店网络" in display.text_content("#qr-caption")

            server.start()
            page = gateway.wait_for(lambda: _qr(gateway)[0] == "cloud", timeout=40, what="the cloud's address")
            assert page
            source, url, svg = _qr(gateway)
            answer = server.get(token, "/api/v1/gateway/public-page").json()
            assert url == answer["url"] == f"{server.url}/p/{answer['slug']}"
            assert f"<title>{url}</title>" in svg and svg == _svg(url)  # the code itself carries the address
            display.wait_for_function("() => document.querySelector('#qr-fig').dataset.source === 'cloud'",
                                      timeout=40_000)
            assert "任何网络" in display.text_content("#qr-caption")
            display.wait_for_function("() => document.getElementById('qr').naturalWidth > 0", timeout=10_000)
            display.click("#lang")
            assert "any network" in display.text_content("#qr-caption")
            assert display.errors == []
            screenshot(display, "display-qr-cloud", full_page=False)
            phone = httpx.get(url)  # what a phone on mobile data opens
            assert phone.status_code == 200 and "示例凉皮作坊" in phone.text

        # the address is kept: a restart while the cloud is away still shows the cloud's page
        server.stop()
        gateway.stop()
        gateway.start()
        assert _qr(gateway)[:2] == ("cloud", url)
        data = gateway.get("/display/data.json").json()
        assert data["qr"] == {"source": "cloud", "url": url}
        assert gateway.rows("SELECT key, value FROM meta WHERE key LIKE 'cloud_public_page%'") == [
            (f"cloud_public_page:{ws}", url)]  # this workshop's: another's in a reused data dir is not shown
    finally:
        gateway.stop()
        server.stop()
        cloud.client.close()
        cloud.engine.dispose()


def _svg(url: str) -> str:
    from edge_gateway.web.qr import qr_svg
    assert segno.make(url, error="m", micro=False).designator  # a real code of this very text
    return qr_svg(url).decode()
