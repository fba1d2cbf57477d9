"""Loopback HTTP servers that answer each POST as a test's script says, for the tests of the gateway's
push and drain workers: ``FakeCloud`` stands in for the cloud service; InfluxDB's stand-in, on the same
``ScriptedServer``, is in ``tests/gateway/test_outbox_drain.py``. ``send_json`` answers a request with JSON
(the grade statement's and Grafana's stand-ins use it)."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Answer = tuple[int, dict, bytes]  # status, headers, body

TOKEN = "sbg_" + "x" * 30  # the gateway token FakeCloud expects
T0 = 1_764_142_800_000  # ms: the time of the first outbox row in the push tests


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """Answers the request ``handler`` serves with ``body`` as JSON (for the stand-ins that speak JSON)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ScriptedServer:
    """Answers each POST with ``self.answer(request, body)``; a subclass checks and keeps the request."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, headers, reply = owner.answer(self, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> Answer:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeCloud(ScriptedServer):
    """The cloud's ingest endpoint: answers each POST with ``script(batch)``; keeps every batch it
    received (inflated, parsed)."""

    def __init__(self, script: Callable[[dict], Answer]) -> None:
        self.script = script
        self.batches: list[dict] = []
        self.raw: list[bytes] = []
        self.alarm_marks: list[str | None] = []  # each batch's X-Sebiao-Alarm header
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> Answer:
        assert request.path == "/api/v1/ingest"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Content-Encoding"] == "gzip"
        raw = gzip.decompress(body)
        self.raw.append(raw)
        self.alarm_marks.append(request.headers.get("X-Sebiao-Alarm"))
        self.batches.append(json.loads(raw))
        return self.script(self.batches[-1])


def ok(batch: dict) -> Answer:
    """The cloud's answer to a batch it stored."""
    return 200, {}, json.dumps({"items": len(batch["items"])}).encode()
