"""The regulator's grade on the gateway, attacked: a grade the cloud no longer confirms (the gateway cut off
from the cloud after a 降榜), another workshop's statements left in a reused data directory, a cloud away when
the gateway starts, a cloud trickling its answer; and the owner's console showing the grade and its dates.

Real parts: Mosquitto, the gateway process (``sebiao gateway``), Chromium on the console, and a real HTTP
server on loopback standing in for the cloud's ``GET /api/v1/grade`` (``test_grade_statements``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_proc import TOKEN as HTTP_TOKEN
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from test_grade_statements import TOKEN, StatementServer, published_key, signed
from web_browser import TV, browser, login, screenshot

pytestmark = pytest.mark.slow
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def cloud_side(tmp_path: Path) -> Iterator[tuple[Ed25519PrivateKey, StatementServer]]:
    """The cloud's signing key (its public half in ``tmp_path/cloud.pub``) and its ``GET /api/v1/grade``."""
    server = StatementServer()
    try:
        yield published_key(tmp_path), server
    finally:
        server.close()


def _cloud(server_url: str, **more: object) -> dict:
    return {"url": server_url, "token": TOKEN, "public_key": "cloud.pub", "grade_poll_seconds": 2,
            "timeout_seconds": 2, "retry_max_seconds": 1, **more}


def test_a_grade_the_cloud_stopped_confirming_is_not_shown_and_the_console_says_why(
        mosquitto, tmp_path: Path, cloud_side) -> None:
    key, server = cloud_side  # the server: nothing published yet
    ws = example_config().workshop.id
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud=_cloud(server.url),
                          display={"grade_max_age_hours": 72})
    gateway = GatewayProcess(config, tmp_path / "data").start()

    def shown() -> dict:
        return gateway.get("/display/data.json").json()["workshop"]

    try:
        with browser() as chrome:
            gateway.wait_for(lambda: server.asked >= 1, timeout=15, what="the fetch at start")
            console = login(chrome, gateway.base, HTTP_TOKEN, TV)
            console.wait_rendered()
            assert console.get_attribute("#grade", "data-state") == "none"
            assert "等级由监管部门发布，暂无" in console.text_content("#grade")

            now = int(time.time() * 1000)
            old = now - 4 * DAY_MS  # a genuine statement signed four days ago: the gateway was cut off since
            server.answer = (200, signed(key, workshop=ws, grade="gold", effective="2025-11-20", seq=5,
                                         issued_at=old))
            gateway.wait_for(lambda: gateway.count("grade_statements") == 1, timeout=15, what="the statement kept")
            stale = shown()
            assert stale["grade"] is None and stale["grade_effective"] is None
            assert stale["grade_state"] == "unconfirmed" and stale["grade_confirmed_at"] == old
            day = time.strftime("%Y-%m-%d", time.localtime(old / 1000))
            assert stale["grade_zh"] == f"监管部门的等级自 {day} 起未能与云端核实，暂不显示"
            assert stale["grade_en"].startswith(f"The regulator's grade has not been confirmed by the cloud since {day}")
            console.wait_for_function("() => document.querySelector('#grade').dataset.state === 'unconfirmed'",
                                      timeout=10_000)
            assert "未能与云端核实" in console.text_content("#grade") and "金榜" not in console.text_content("#grade")

            # the cloud signs the same grading again: confirmed, shown with its date and when it was confirmed
            server.answer = (200, signed(key, workshop=ws, grade="gold", effective="2025-11-20", seq=5,
                                         issued_at=int(time.time() * 1000)))
            gateway.wait_for(lambda: shown()["grade"] == "gold", timeout=15, what="the grade confirmed")
            assert shown()["grade_state"] == "verified" and shown()["grade_effective"] == "2025-11-20"
            console.wait_for_function("() => document.querySelector('#grade').dataset.state === 'verified'",
                                      timeout=10_000)
            text = console.text_content("#grade")
            assert "监管部门分级定榜" in text and "金榜" in text and "2025-11-20 起生效" in text and "云端最后核实" in text
            assert console.get_attribute("#grade", "data-grade") == "gold"
            screenshot(console, "console-grade", full_page=False)
            console.click("#lang")
            assert "Gold list" in console.text_content("#grade")
            assert "since 2025-11-20" in console.text_content("#grade")
            assert console.errors == []
            confirmed = shown()["grade_confirmed_at"]

            # the old copy replayed: it confirms nothing, the newer confirmation stays
            server.answer = (200, signed(key, workshop=ws, grade="gold", effective="2025-11-20", seq=5,
                                         issued_at=old))
            before = server.asked
            gateway.wait_for(lambda: server.asked >= before + 2, timeout=15, what="two more fetches")
            assert shown()["grade"] == "gold" and shown()["grade_confirmed_at"] == confirmed
            assert gateway.scalar("SELECT issued_at FROM grade_statements WHERE seq = 5") == confirmed
    finally:
        gateway.stop()


def test_another_workshop_s_statement_in_a_reused_data_dir_is_not_shown(mosquitto, tmp_path: Path, cloud_side) -> None:
    key, server = cloud_side
    ws = example_config().workshop.id
    server.answer = (200, signed(key, workshop=ws, grade="gold", effective="2025-11-20", seq=5))
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud=_cloud(server.url))
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        gateway.wait_for(lambda: gateway.get("/display/data.json").json()["workshop"]["grade"] == "gold",
                         timeout=15, what="the grade shown")
        gateway.stop()
        # the same data directory, now the gateway of another workshop, whose cloud has published nothing
        server.answer = (404, {"error": "监管部门尚未发布本作坊的等级 / none yet"})
        write_config(tmp_path / "w.yaml", broker, cloud=_cloud(server.url), workshop={"id": "another-shop"})
        gateway.start()
        shown = gateway.get("/display/data.json").json()["workshop"]
        assert shown["grade"] is None and shown["grade_state"] == "none"
        # and the first workshop's statement does not stop the second's from being kept
        server.answer = (200, signed(key, workshop="another-shop", grade="bronze", effective="2025-11-21", seq=3))
        gateway.wait_for(lambda: gateway.get("/display/data.json").json()["workshop"]["grade"] == "bronze",
                         timeout=15, what="the other workshop's own grade")
    finally:
        gateway.stop()


def test_a_cloud_away_at_start_is_asked_again_soon_backing_off(mosquitto, tmp_path: Path, cloud_side) -> None:
    key, server = cloud_side
    ws = example_config().workshop.id
    server.answer = (503, {"error": "down"})
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud=_cloud(server.url, grade_poll_seconds=600))
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        gateway.wait_for(lambda: server.asked >= 3, timeout=15, what="the fetch retried, not left for 10 minutes")
        started = time.monotonic()
        server.answer = (200, signed(key, workshop=ws, grade="silver", effective="2025-11-20", seq=2))
        gateway.wait_for(lambda: gateway.get("/display/data.json").json()["workshop"]["grade"] == "silver",
                         timeout=15, what="the grade shown once the cloud is back")
        assert time.monotonic() - started < 10
        answered = server.asked
        server.answer = (403, {"error": "token revoked"})  # an answer, not an outage: asked at the next poll
        time.sleep(3)
        assert server.asked == answered
    finally:
        gateway.stop()


class TricklingServer:
    """Answers 200 with a Content-Length of 4000 and sends one byte every 0.3 s (each within the read timeout)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n")
            for _ in range(4000):
                if self.closed.wait(0.3):
                    break
                conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.closed.set()
        self.sock.close()


def test_a_trickled_answer_is_cut_off_at_the_timeout(mosquitto, tmp_path: Path) -> None:
    published_key(tmp_path)
    server = TricklingServer()
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud=_cloud(server.url))
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        started = time.monotonic()

        def error() -> str:
            return gateway.get("/healthz").json()["sinks"]["grade"]["last_error"] or ""
        gateway.wait_for(lambda: "took over 2 s" in error(), timeout=15, what="the answer cut off")
        assert time.monotonic() - started < 10
        assert gateway.get("/display/data.json").json()["workshop"]["grade"] is None
    finally:
        gateway.stop()
        server.close()


def test_a_statement_signed_ahead_of_the_gateway_s_clock_is_refused(mosquitto, tmp_path: Path, cloud_side) -> None:
    key, server = cloud_side
    ws = example_config().workshop.id
    ahead = int(time.time() * 1000) + 2 * DAY_MS  # fresh for days to come, were it kept
    server.answer = (200, signed(key, workshop=ws, grade="gold", effective="2025-11-20", seq=5, issued_at=ahead))
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud=_cloud(server.url))
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        gateway.wait_for(lambda: gateway.metric("sebiao_grade_statements_refused_total", 'reason="clock"') >= 1,
                         timeout=15, what="the statement refused (clock)")
        assert "is the gateway's clock right?" in gateway.get("/healthz").json()["sinks"]["grade"]["last_error"]
        assert gateway.count("grade_statements") == 0
        assert gateway.get("/display/data.json").json()["workshop"]["grade"] is None
    finally:
        gateway.stop()
