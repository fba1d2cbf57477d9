"""Who may see what: the gateway bound beyond loopback, the public display, the console's login,
session cookie and CSRF checks, and the SSE protocol (catch-up by Last-Event-ID)."""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
from contextlib import closing

import httpx
import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from servers import example_config
from stations_mqtt import ScriptedStation

pytestmark = pytest.mark.slow
PASSWORD = "console-pass-0123"
PUBLIC_URL = "http://192.168.31.20:8080/display"


class BeyondLoopback(GatewayProcess):
    """The gateway bound to 0.0.0.0 (the last --http wins); tests still talk to it on 127.0.0.1."""

    def start(self, timeout: float = 20.0) -> "BeyondLoopback":
        self.extra_args = ("--http", "0.0.0.0:0")
        return super().start(timeout)


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    broker = mosquitto_module()
    tmp = tmp_path_factory.mktemp("web-access")
    config_path = write_config(tmp / "workshop.yaml", broker, display={
        "console_password": PASSWORD, "public_url": PUBLIC_URL, "public_misuse": "hidden", "title": "阳光作坊"})
    gateway = BeyondLoopback(config_path, tmp / "data").start()
    station = ScriptedStation(broker, example_config(), "rack-yellow-1")
    yield gateway, station
    station.close()
    gateway.stop()


def _client(gateway) -> httpx.Client:
    return httpx.Client(base_url=gateway.base, timeout=5, follow_redirects=False)


def _logged_in(gateway) -> tuple[httpx.Client, str]:
    client = _client(gateway)
    answer = client.post("/console/login", data={"password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    return client, client.get("/console/api/session").json()["csrf"]


def test_the_display_is_public_beyond_loopback_and_the_api_is_not(rig):
    gateway, _ = rig
    with _client(gateway) as client:
        for path in ("/display", "/display/data.json", "/display/qr.svg", "/assets/display.js", "/assets/common.css"):
            assert client.get(path).status_code == 200, path
        assert client.get("/").headers["location"] == "/display"
        assert client.get("/api/tools").status_code == 401  # the API keeps its token beyond loopback
        assert client.get("/api/tools", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        page = client.get("/display")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        data = client.get("/display/data.json").json()
        assert data["misuse"] is None  # public_misuse: hidden
        assert data["workshop"]["title_zh"] == "阳光作坊"
        for secret in (TOKEN, PASSWORD):
            assert secret not in page.text and secret not in json.dumps(data, ensure_ascii=False)


def test_the_qr_code_carries_the_configured_public_address(rig):
    gateway, _ = rig
    answer = httpx.get(gateway.base + "/display/qr.svg")
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["x-display-url"] == PUBLIC_URL
    assert answer.headers["x-display-url-source"] == "configured"  # no cloud: display.public_url
    assert httpx.get(gateway.base + "/display/data.json").json()["qr"] == {"source": "configured", "url": PUBLIC_URL}
    assert answer.text.startswith("<svg") and f"<title>{PUBLIC_URL}</title>" in answer.text


def test_the_console_needs_its_login_and_the_token_is_not_its_password(rig):
    gateway, _ = rig
    with _client(gateway) as client:
        assert client.get("/console").headers["location"] == "/console/login"
        assert client.get("/console/api/state").status_code == 401
        assert client.get("/console/live").status_code == 401
        assert client.post("/console/api/alarms/1/ack", json={"by": "x"}).status_code == 401
        refused = client.post("/console/login", data={"password": TOKEN})  # console_password is set
        assert refused.status_code == 401 and "密码错误" in refused.text
        assert "sebiao_console" not in refused.cookies


def test_the_session_cookie_is_signed_httponly_strict_and_holds_no_secret(rig):
    gateway, _ = rig
    client, csrf = _logged_in(gateway)
    with closing(client):
        header = client.post("/console/login", data={"password": PASSWORD}).headers["set-cookie"]
        assert "httponly" in header.lower() and "samesite=strict" in header.lower() and "path=/console" in header
        value = client.cookies["sebiao_console"]
        payload = base64.b64decode(value.split(".")[0] + "==").decode()
        assert PASSWORD not in payload and TOKEN not in payload and '"user": "owner"' in payload
        forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
        assert httpx.get(gateway.base + "/console/api/state", cookies={"sebiao_console": forged}).status_code == 401
        state = client.get("/console/api/state").json()
        assert {s["id"] for s in state["stations"]} == {s.id for s in example_config().stations}
        assert len(csrf) >= 24


def test_console_posts_need_the_csrf_token_and_the_same_origin(rig):
    gateway, _ = rig
    client, csrf = _logged_in(gateway)
    with closing(client):
        body = {"by": "店主", "comment": None}
        assert client.post("/console/api/alarms/999/ack", json=body).status_code == 403  # no CSRF token
        assert client.post("/console/api/alarms/999/ack", json=body,
                           headers={"X-CSRF-Token": "guess"}).status_code == 403
        assert client.post("/console/api/alarms/999/ack", json=body,
                           headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}).status_code == 403
        answer = client.post("/console/api/alarms/999/ack", json=body, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 404 and "does not exist" in answer.json()["error"]  # the gateway's own answer
        missing_by = client.post("/console/api/alarms/999/ack", json={"by": " "}, headers={"X-CSRF-Token": csrf})
        assert missing_by.status_code == 400 and "操作人" in missing_by.json()["error"]
        assert client.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert client.get("/console/api/state").status_code == 401


class SseReader:
    """Reads one SSE stream on a thread; ``take(until, timeout)`` returns the events received so far."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._response = self._client.send(self._client.build_request("GET", url, headers=headers), stream=True)
        self.content_type = self._response.headers["content-type"]
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        current: dict = {}
        try:
            for line in self._response.iter_lines():
                if not line:
                    if current:
                        self.events.put(current)
                    current = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(":")
                    current[key] = value.lstrip(" ")
        except httpx.HTTPError:  # closed by the test
            pass

    def snapshots(self, want: int = 1, timeout: float = 3.0) -> list[dict]:
        got, deadline = [], time.monotonic() + timeout
        while len(got) < want and (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(event)
            if event.get("event") == "snapshot":
                got.append(event)
        return got

    seen: list = []

    def __enter__(self) -> "SseReader":
        self.seen = []
        return self

    def __exit__(self, *exc) -> None:
        self._response.close()
        self._client.close()


def test_sse_sends_a_snapshot_on_connect_and_catches_up_by_last_event_id(rig):
    gateway, station = rig
    url = gateway.base + "/display/live"
    with SseReader(url) as first:
        assert first.content_type.startswith("text/event-stream")
        snapshot = first.snapshots()[0]
        assert first.seen[0]["event"] == "hello" and first.seen[0]["retry"] == "1000"
    seen_id = snapshot["id"]
    assert json.loads(snapshot["data"])["zones"][3]["key"] == "yellow"
    # A page that reconnects with the newest id gets no repeat ...
    with SseReader(url, {"Last-Event-ID": seen_id}) as again:
        assert again.snapshots(timeout=1.0) == []
        assert [e["event"] for e in again.seen] == ["hello"]
        # ... and the next change as soon as it happens.
        station.event("CT-Y-01", "placed")
        fresh = again.snapshots()
        assert fresh and fresh[0]["id"] != seen_id
        assert json.loads(fresh[0]["data"])["zones"][3]["tools"]["on_rack"] >= 1
    # One that reconnects with an older id is sent the latest at once.
    with SseReader(url, {"Last-Event-ID": seen_id}) as late:
        caught_up = late.snapshots(timeout=1.0)
        assert caught_up and caught_up[0]["id"] == fresh[0]["id"]


def test_password_guessing_is_slowed_down(rig):  # last: it locks this client out for a minute
    gateway, _ = rig
    with _client(gateway) as client:
        answers = []
        while 429 not in answers and len(answers) < 10:
            answers.append(client.post("/console/login", data={"password": f"guess-{len(answers)}"}).status_code)
        # five wrong passwords a minute (one was tried earlier in this module), then a pause
        assert answers[-1] == 429 and set(answers[:-1]) == {401} and len(answers) <= 5
        locked = client.post("/console/login", data={"password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
