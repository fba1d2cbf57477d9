"""Serving the gateway's web app: uvicorn on a socket bound here, behind limits on connections.

uvicorn alone leaves two doors open. Its h11 protocol times nothing out until a
first response (the keep-alive timer starts only after one), so a client that
connects and sends nothing, or sends its request a byte at a time
(slowloris), holds a socket for as long as it likes; and ``limit_concurrency``
counts every connection of every client, so one client's idle sockets turn
everyone else away. An ASGI middleware cannot help: it runs only once a whole
request head has arrived. So the protocol itself is extended here:

- each connection is counted per client address and in all when it is made;
  past either cap it is closed at once, before it costs more than its accept
  (so one host's thousands of sockets take at most ``per_client`` of them, and
  the total stays well under the process' open-file limit, which the store's
  reads and the MQTT link need too);
- a request (its head and any body) must arrive within ``request_seconds`` of
  the connection, or of the previous response on a kept-alive connection;
  past that the connection is closed. A request once received may take as
  long as it likes (the live feeds stream for hours).

The socket is bound by :func:`listen` before anything else starts, so a taken
port is a one-line error and port 0 reports the port the system chose.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
import socket
import time
from collections import Counter as Tally
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from prometheus_client import CollectorRegistry, Counter
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from sebiao_common.errors import SebiaoError

log = logging.getLogger(__name__)

FD_RESERVE = 200  # open files kept for SQLite reads, the MQTT link, the sinks and the embedded broker
WARN_EVERY = 60.0  # seconds between two log lines about refused connections


@dataclass(frozen=True, kw_only=True)
class ServerLimits:
    per_client: int = 32  # open connections from one address (a browser opens at most 6 per host)
    total: int = 1000  # open connections in all; lowered to fit the open-file limit (``fitted``)
    request_seconds: float = 10.0  # to receive a request's head and body
    keep_alive_seconds: int = 5  # an idle kept-alive connection is closed after this
    max_head_bytes: int = 16 * 1024  # request line and headers (h11's buffer for an unfinished event)
    shutdown_seconds: int = 5  # open streams are cut this long after SIGTERM

    def fitted(self) -> "ServerLimits":
        """These limits with ``total`` lowered to what the open-file limit leaves after ``FD_RESERVE``."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        room = self.total if soft == resource.RLIM_INFINITY else max(self.per_client, soft - FD_RESERVE)
        return ServerLimits(per_client=self.per_client, total=min(self.total, room),
                            request_seconds=self.request_seconds, keep_alive_seconds=self.keep_alive_seconds,
                            max_head_bytes=self.max_head_bytes, shutdown_seconds=self.shutdown_seconds)


class HttpRefusals:
    """``sebiao_http_refused_total{reason}``: connections and requests the web server turned away."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter("sebiao_http_refused", "HTTP connections or requests refused, by reason "
                               "(client_connections, total_connections, request_timeout, host, live_client, "
                               "live_total)", ["reason"], registry=registry)
        self._warned: dict[str, float] = {}

    def count(self, reason: str, detail: str) -> None:
        self.counter.labels(reason).inc()
        now = time.monotonic()
        if now - self._warned.get(reason, -WARN_EVERY) >= WARN_EVERY:  # one line a minute per reason, not a flood
            self._warned[reason] = now
            log.warning("HTTP refused (%s): %s", reason, detail)


class ConnectionCount:
    """Open connections per client address and in all (the event loop's thread only)."""

    def __init__(self, limits: ServerLimits, refusals: HttpRefusals) -> None:
        self.limits, self.refusals = limits, refusals
        self.by_client: Tally[str] = Tally()
        self.total = 0

    def admit(self, client: str) -> bool:
        if self.by_client[client] >= self.limits.per_client:
            self.refusals.count("client_connections", f"{client} already has {self.limits.per_client} open")
            return False
        if self.total >= self.limits.total:
            self.refusals.count("total_connections", f"{self.limits.total} connections are open")
            return False
        self.by_client[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the connection caps and the request deadline of this module."""

    def __init__(self, config: uvicorn.Config, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *, count: ConnectionCount) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.count = count
        self.admitted: str | None = None  # the client address counted for this connection
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        client = self.client[0] if self.client else "unknown"
        if not self.count.admit(client):
            transport.close()
            return
        self.admitted = client
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.admitted is not None:
            self.count.release(self.admitted)
            self.admitted = None
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.deadline is not None and self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the whole request is in: what follows is the application's time

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # kept alive: the next request must arrive in time too

    def _unsupported_upgrade_warning(self) -> None:
        """No route takes a WebSocket (``ws="none"``): such a request is answered as plain HTTP, without
        the two warnings uvicorn would log for each one (a client could fill the log with them)."""

    def _arm(self) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(self.count.limits.request_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _too_slow(self) -> None:
        self.deadline = None
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.count.refusals.count("request_timeout", f"{self.admitted}: no whole request within "
                                                         f"{self.count.limits.request_seconds:g} s")
            self.transport.close()


def listen(host: str, port: int, option: str = "--http") -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: one the system chooses), or a one-line error."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise SebiaoError(f"HTTP 接口无法在 {where} 上监听，请用 {option} 另选地址 / the HTTP API cannot listen on "
                          f"{where}: {exc.strerror or exc}. Choose another address with {option} HOST:PORT") from None


def bound_port(sock: socket.socket) -> int:
    return sock.getsockname()[1]


def http_server(app: ASGIApp, sock: socket.socket, refusals: HttpRefusals,
                limits: ServerLimits | None = None) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``sock`` (run it with ``server.run(sockets=[sock])``)."""
    fitted = (limits or ServerLimits()).fitted()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        http=functools.partial(GuardedH11Protocol, count=ConnectionCount(fitted, refusals)),  # type: ignore[arg-type]
        ws="none",  # no route takes a WebSocket: an upgrade would leave the connection count
        # No proxy stands in front of the gateway: X-Forwarded-For from a local program must not
        # pose as another client (the per-client caps and the console's login brake go by address).
        proxy_headers=False,
        timeout_keep_alive=fitted.keep_alive_seconds,
        timeout_graceful_shutdown=fitted.shutdown_seconds,
        h11_max_incomplete_event_size=fitted.max_head_bytes,
    )
    return uvicorn.Server(config)
