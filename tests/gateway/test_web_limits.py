"""The gateway's HTTP server under abuse, with real sockets against the real gateway process: one
host's idle connections, a client sending its headers a byte at a time, and one client opening
live streams by the hundred must not stop anyone else (edge_gateway/web/server.py, web/live.py).

Loopback has a whole /8: the abusive client connects from 127.0.0.2 (and 127.0.0.3), the shop's
TV and the owner from 127.0.0.1, so the gateway sees them as different hosts.
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import httpx
import pytest
from gateway_proc import GatewayProcess, write_config

from edge_gateway.web.live import STREAMS_PER_CLIENT
from edge_gateway.web.server import ServerLimits

pytestmark = pytest.mark.slow
LIMITS = ServerLimits()


def _connect(port: int, source: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    return sock


def _closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True once the gateway closed ``sock`` (EOF or reset) within ``timeout`` seconds."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _open_stream(port: int, source: str) -> tuple[socket.socket, bytes]:
    """A raw GET /display/live from ``source``; the socket and the answer's status line."""
    sock = _connect(port, source)
    sock.settimeout(10)
    head = b""
    try:  # a connection past the cap is closed as soon as it is accepted: no answer at all
        sock.sendall(b"GET /display/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sock, head.split(b"\r\n", 1)[0]


@pytest.fixture(scope="module")
def gateway(mosquitto_module, tmp_path_factory):
    broker = mosquitto_module()
    tmp = tmp_path_factory.mktemp("web-limits")
    # A small open-file limit, so a few hundred sockets do what twenty thousand did at the default.
    process = GatewayProcess(write_config(tmp / "workshop.yaml", broker), tmp / "data",
                             prefix=("prlimit", "--nofile=256")).start()
    yield process
    process.stop()


def test_one_hosts_idle_connections_do_not_stop_another_hosts_requests(gateway):
    with ExitStack() as stack:
        for _ in range(400):  # connected, and never a byte sent: half-open as far as HTTP goes
            stack.enter_context(_connect(gateway.http_port, "127.0.0.2"))
        started = time.monotonic()
        health = httpx.get(gateway.base + "/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert gateway.get("/api/tools").status_code == 200  # the store's reads still get their files
        assert time.monotonic() - started < 5
        refused = gateway.metric("sebiao_http_refused_total", 'reason="client_connections"')
        assert refused >= 400 - LIMITS.per_client


def test_a_client_that_sends_its_request_too_slowly_is_disconnected(gateway):
    with _connect(gateway.http_port, "127.0.0.3") as slow, _connect(gateway.http_port, "127.0.0.3") as silent:
        opened = time.monotonic()
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        while time.monotonic() - opened < LIMITS.request_seconds + 5 and not closed:
            try:
                slow.sendall(b"X")  # one byte of a header line a second: slowloris
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            closed = _closed_by_peer(slow, 1.0)
        waited = time.monotonic() - opened
        assert closed, f"still open after {waited:.1f} s"
        assert LIMITS.request_seconds - 1 <= waited <= LIMITS.request_seconds + 5
        assert _closed_by_peer(silent, 3.0)  # the one that never sent a byte went the same way
    assert gateway.metric("sebiao_http_refused_total", 'reason="request_timeout"') >= 2
    assert gateway.get("/healthz").status_code == 200


def test_one_client_cannot_take_the_live_streams_of_the_shops_tv(gateway):
    with ExitStack() as stack:
        answers = []
        for _ in range(210):  # past the 200 streams a feed serves in all
            sock, status = _open_stream(gateway.http_port, "127.0.0.2")
            stack.callback(sock.close)
            answers.append(status)
        assert answers.count(b"HTTP/1.1 200 OK") <= STREAMS_PER_CLIENT
        # the TV still gets its stream, and its first snapshot
        with httpx.Client(timeout=httpx.Timeout(5, read=10)) as tv:
            with tv.stream("GET", gateway.base + "/display/live") as live:
                assert live.status_code == 200
                lines = live.iter_lines()
                assert any(line == "event: snapshot" for line, _ in zip(lines, range(20)))
    # below the connection cap, the live cap alone: six streams, then 503 with Retry-After
    with ExitStack() as stack:
        opened = [_open_stream(gateway.http_port, "127.0.0.3") for _ in range(STREAMS_PER_CLIENT + 3)]
        for sock, _ in opened:
            stack.callback(sock.close)
        statuses = [status for _, status in opened]
        assert statuses == [b"HTTP/1.1 200 OK"] * STREAMS_PER_CLIENT + [b"HTTP/1.1 503 Service Unavailable"] * 3
    assert gateway.metric("sebiao_http_refused_total", 'reason="live_client"') >= 3
