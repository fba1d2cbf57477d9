"""The owner console's login against the real gateway process: its brake counts the client the peer
is (``X-Forwarded-For`` only from ``display.trusted_proxies``)."""

from __future__ import annotations

import time

import httpx
import pytest
from gateway_proc import GatewayProcess, write_config

pytestmark = pytest.mark.slow
PASSWORD = "console-pass-0123"


@pytest.fixture(scope="module")
def broker(mosquitto_module):  # type: ignore[no-untyped-def]
    return mosquitto_module()


def _gateway(broker, tmp, **display) -> GatewayProcess:  # type: ignore[no-untyped-def]
    config = write_config(tmp / "workshop.yaml", broker, display={"console_password": PASSWORD, **display})
    return GatewayProcess(config, tmp / "data")


def _client(gateway: GatewayProcess, source: str | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=gateway.base, transport=transport, timeout=10, follow_redirects=False)


def _login(client: httpx.Client, password: str, forwarded: str | None = None) -> httpx.Response:
    return client.post("/console/login", data={"password": password},
                       headers={"X-Forwarded-For": forwarded} if forwarded else {})


def test_a_forged_x_forwarded_for_does_not_dodge_the_console_brake(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _gateway(broker, tmp_path) as gateway, _client(gateway) as guesser:  # from 127.0.0.1
        for n in range(5):
            assert _login(guesser, "wrong-password", f"198.51.100.{n}").status_code == 401
        r = _login(guesser, PASSWORD, "198.51.100.99")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        with _client(gateway, "127.0.0.2") as owner:  # the owner elsewhere is not locked out
            assert _login(owner, PASSWORD).status_code == 303


def test_behind_a_trusted_proxy_the_header_names_the_client(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _gateway(broker, tmp_path, trusted_proxies=["127.0.0.1"]) as gateway, _client(gateway) as proxy:
        for _ in range(5):
            assert _login(proxy, "wrong-password", "192.168.31.7").status_code == 401
        assert _login(proxy, PASSWORD, "192.168.31.7").status_code == 429  # that phone waits ...
        assert _login(proxy, PASSWORD, "192.168.31.8").status_code == 303  # ... the owner's does not
        with _client(gateway, "127.0.0.2") as not_a_proxy:  # its header is not believed
            for n in range(5):
                assert _login(not_a_proxy, "wrong-password", f"198.51.100.{n}").status_code == 401
            assert _login(not_a_proxy, PASSWORD, "198.51.100.99").status_code == 429


def _state(gateway: GatewayProcess, cookie: str) -> int:
    return httpx.get(gateway.base + "/console/api/state", cookies={"sebiao_console": cookie}, timeout=10).status_code


def test_a_logout_ends_the_cookie_for_good_even_across_a_restart(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    gateway = _gateway(broker, tmp_path).start()
    try:
        with _client(gateway) as owner, _client(gateway) as phone:
            assert _login(owner, PASSWORD).status_code == 303 and _login(phone, PASSWORD).status_code == 303
            copied, kept = owner.cookies["sebiao_console"], phone.cookies["sebiao_console"]
            assert _state(gateway, copied) == _state(gateway, kept) == 200
            csrf = owner.get("/console/api/session").json()["csrf"]
            assert owner.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert _state(gateway, copied) == 401  # a copy of the logged-out cookie is worth nothing
        assert httpx.get(gateway.base + "/console", cookies={"sebiao_console": copied}).status_code == 303
        assert _state(gateway, kept) == 200  # the other login stands
        gateway.stop()
        gateway.start()
        assert _state(gateway, copied) == 401  # a restart does not bring it back ...
        assert _state(gateway, kept) == 200  # ... nor log the owner out
        assert gateway.count("console_sessions") == 1
    finally:
        gateway.stop()


def test_a_logout_ends_a_live_stream_already_open_on_that_session(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The live feed checked the session only when the stream connected: a copy of the cookie kept
    receiving the console's state after its owner had logged out."""
    gateway = _gateway(broker, tmp_path).start()
    try:
        with _client(gateway) as owner:
            assert _login(owner, PASSWORD).status_code == 303
            copied = owner.cookies["sebiao_console"]
            with httpx.stream("GET", gateway.base + "/console/live", cookies={"sebiao_console": copied},
                              timeout=httpx.Timeout(10, read=30)) as live:
                assert live.status_code == 200
                lines = live.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: hello"
                csrf = owner.get("/console/api/session").json()["csrf"]
                assert owner.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
                started = time.monotonic()
                for _ in lines:  # snapshots and pings until the gateway ends the stream
                    assert time.monotonic() - started < 20, "the stream outlived its session"
                assert time.monotonic() - started < 20  # ended (RECHECK_SECONDS), not cut by the read timeout
    finally:
        gateway.stop()
