"""The gateway asks the cloud for its workshop's public page (``GET /api/v1/gateway/public-page``) and keeps only
an address fit for a QR code: a stand-in cloud answers with good and bad bodies."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from scripted_http import TOKEN, send_json
from servers import EXAMPLE_CONFIG

from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.cloud.client import CloudClient
from edge_gateway.sinks.cloud.config import CloudSettings
from edge_gateway.store.reads import StoreReader
from edge_gateway.store.writer import Store
from edge_gateway.web.display_data import DisplayData
from edge_gateway.web.settings import display_settings


class PageCloud:
    """Answers GET /api/v1/gateway/public-page with ``self.status`` and ``self.body``; counts the asks."""

    def __init__(self) -> None:
        owner = self
        self.status, self.body, self.asks, self.auth = 200, {}, 0, []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.asks += 1
                owner.auth.append(self.headers.get("Authorization"))
                if self.path != "/api/v1/gateway/public-page":
                    send_json(self, 404, {"error": "no such route"})
                elif isinstance(owner.body, bytes):
                    self.send_response(owner.status)
                    self.send_header("Content-Length", str(len(owner.body)))
                    self.end_headers()
                    self.wfile.write(owner.body)
                else:
                    send_json(self, owner.status, owner.body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def page_cloud():  # type: ignore[no-untyped-def]
    cloud = PageCloud()
    yield cloud
    cloud.close()


GOOD = "https://sebiao.example.gov.cn/p/abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize("status, body, want", [
    (200, {"workshop": "ws", "slug": "abcdefghijklmnopqrstuvwx", "url": GOOD}, GOOD),
    (200, {"url": "http://10.0.0.5:8090/p/x"}, "http://10.0.0.5:8090/p/x"),
    (200, {"url": "javascript:alert(1)"}, None),  # not an address a phone should open
    (200, {"url": "https://evil.example/p/x?next=1"}, None),  # no query: what the cloud makes has none
    (200, {"url": "https://a.example/p/a b"}, None),
    (200, {"url": "https://a.example/" + "a" * 600}, None),
    (200, {"url": 5}, None), (200, ["x"], None), (200, b"not json", None),
    (404, {"error": "an older cloud"}, None), (401, {"error": "token"}, None), (503, {"url": GOOD}, None),
])
def test_only_an_address_fit_for_a_qr_code_is_taken(page_cloud, status, body, want) -> None:  # type: ignore[no-untyped-def]
    page_cloud.status, page_cloud.body = status, body
    client = CloudClient(CloudSettings(url=page_cloud.url, token=TOKEN))
    try:
        assert client.public_page() == want
    finally:
        client.close()
    assert page_cloud.auth == [f"Bearer {TOKEN}"]  # asked with the gateway's own token


def test_no_cloud_answer_is_none() -> None:
    client = CloudClient(CloudSettings(url="http://127.0.0.1:9", token=TOKEN, timeout_seconds=1))
    try:
        assert client.public_page() is None
    finally:
        client.close()


def _display(tmp_path, cloud: bool, meta: dict[str, str]):  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text("utf-8"))
    raw.pop("cloud", None)
    if cloud:
        raw["cloud"] = {"url": "https://cloud.example", "token": TOKEN}
    config = parse_config(raw, "workshop.yaml")
    store = Store(tmp_path / "gateway.db")
    with store.transaction():
        for key, value in meta.items():
            store.set_meta(key, value)
    store.close()
    return DisplayData(StoreReader(tmp_path / "gateway.db"), config, display_settings(config), clock=lambda: 0), \
        config.workshop.id


def test_the_display_shows_only_its_own_workshops_cloud_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    display, ws = _display(tmp_path, True, {"cloud_public_page:another-ws": GOOD})
    assert display.qr() == {"source": "lan", "url": None}  # a data dir reused: the other workshop's is not shown
    display, ws = _display(tmp_path / "b", True, {f"cloud_public_page:{ws}": GOOD})
    assert display.qr() == {"source": "cloud", "url": GOOD}
    display, ws = _display(tmp_path / "c", False, {f"cloud_public_page:{ws}": GOOD})
    assert display.qr() == {"source": "lan", "url": None}  # the cloud: section removed: its page no more
