"""A loopback stand-in for the WeCom and DingTalk robots and a webhook receiver, for the notify tests.

It records every POST (path, query, headers, parsed JSON body) and answers as its ``mode`` says: ``ok`` (the
robots' ``{"errcode":0}``, HTTP 200), ``rate_limited`` (errcode 45009, WeCom's 20-a-minute limit), ``refused``
(errcode 93000, a wrong key), ``error`` (HTTP 500) or ``hang`` (no answer until ``release()`` or 30 s).
``answers`` queues modes for the next requests before ``mode`` applies again. ``stop()`` closes the port
(connection refused) and ``start()`` opens the same port again.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ANSWERS = {"ok": (200, {"errcode": 0, "errmsg": "ok"}), "rate_limited": (200, {"errcode": 45009, "errmsg":
           "api freq out of limit"}), "refused": (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
           "error": (500, {"error": "boom"})}


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: object
    answered: str


class NotifyReceiver:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.answers: list[str] = []
        self.received: list[Received] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with owner._lock:
                    mode = owner.answers.pop(0) if owner.answers else owner.mode
                parts = urlsplit(self.path)
                owner.received.append(Received(
                    path=parts.path, query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()}, raw=raw, body=json.loads(raw),
                    answered=mode))
                if mode == "hang":
                    owner._release.wait(30)
                    mode = "error"
                status, body = ANSWERS[mode]
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the gateway gave up waiting
                    pass

            def log_message(self, *args) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._release.clear()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self._release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def release(self) -> None:
        self._release.set()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.answered == "ok"]

    def wait_for(self, count: int, timeout: float = 15.0, accepted: bool = True) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.accepted() if accepted else list(self.received)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} messages after {timeout} s: {self.received}")
            time.sleep(0.05)
