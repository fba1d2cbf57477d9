"""The SNTP server: one daemon thread on one UDP socket, answering well-formed client requests.

Bounded on every side: a request is read into a 49-byte buffer (a longer datagram is seen as longer and
ignored), an answer is never bigger than its request (48 bytes each: no amplification), and each client address
gets at most ``per_address_per_min`` answers a minute (a token bucket; a station asks once an hour, or every 30 s
while its clock is not set). The table of addresses is bounded too. Nothing here raises into the gateway: a
failed bind is kept as ``error`` and shown in ``/healthz``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge_gateway.timeserver import sntp
from edge_gateway.timeserver.settings import TimeServerSettings

log = logging.getLogger(__name__)

MAX_ADDRESSES = 4096  # client addresses followed at once; a workshop has a few dozen devices
BURST = 4  # answers an address may have at once (a client retrying after a lost packet)


@dataclass(frozen=True, kw_only=True)
class TimeServerStatus:
    listening: str | None  # "address:port" while it answers
    error: str | None  # why it does not answer
    stance: sntp.Stance  # what its answers say now
    answered: int
    ignored: int  # not a well-formed client request
    rate_limited: int


class _Buckets:
    """Per-address token buckets: ``per_min`` answers a minute, ``BURST`` at once."""

    def __init__(self, per_min: int) -> None:
        self.rate = per_min / 60_000  # tokens per ms
        self.burst = float(min(BURST, per_min))
        self.table: dict[str, tuple[float, int]] = {}

    def take(self, address: str, now_ms: int) -> bool:
        tokens, at = self.table.get(address, (self.burst, now_ms))
        tokens = min(self.burst, tokens + (now_ms - at) * self.rate)
        if tokens < 1:
            self.table[address] = (tokens, now_ms)
            return False
        if address not in self.table and len(self.table) >= MAX_ADDRESSES:
            self._forget_idle(now_ms)
        self.table[address] = (tokens - 1, now_ms)
        return True

    def _forget_idle(self, now_ms: int) -> None:
        """Drop addresses whose bucket has refilled (they are as if never seen); if none, start afresh."""
        full = [a for a, (t, at) in self.table.items() if t + (now_ms - at) * self.rate >= self.burst]
        for address in full:
            del self.table[address]
        if len(self.table) >= MAX_ADDRESSES:
            self.table.clear()


class TimeServer:
    def __init__(self, settings: TimeServerSettings, *, wall_ns: Callable[[], int],
                 monotonic_ms: Callable[[], int], own_clock: Callable[[], sntp.OwnClock]) -> None:
        self.settings = settings
        self.wall_ns = wall_ns  # the gateway's clock, at nanoseconds: what the answers tell
        self.monotonic_ms = monotonic_ms  # for the rate limit only: immune to the clock being set
        self.own_clock = own_clock
        self.buckets = _Buckets(settings.per_address_per_min)
        self.sock: socket.socket | None = None
        self.error: str | None = None
        self.answered = self.ignored = self.rate_limited = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def stance(self) -> sntp.Stance:
        return sntp.stance(self.own_clock(), self.settings.local_stratum)

    def start(self) -> None:
        s = self.settings
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((s.listen, s.port))
        except OSError as exc:
            why = exc.strerror or str(exc)
            hint = " (port 123 needs CAP_NET_BIND_SERVICE: see docs/config.md, time_server)" if s.port < 1024 else ""
            self.error = f"cannot answer SNTP on {s.listen}:{s.port}: {why}{hint}"
            log.error("%s", self.error)
            return
        sock.settimeout(0.5)  # how soon stop() is noticed
        self.sock = sock
        self._thread = threading.Thread(target=self._serve, name="sntp", daemon=True)
        self._thread.start()
        log.info("answering SNTP on %s", self.listening)

    @property
    def listening(self) -> str | None:
        if self.sock is None:
            return None
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.sock is not None:
            self.sock.close()

    def status(self) -> TimeServerStatus:
        return TimeServerStatus(listening=self.listening if not self._stop.is_set() else None, error=self.error,
                                stance=self.stance(), answered=self.answered, ignored=self.ignored,
                                rate_limited=self.rate_limited)

    def _serve(self) -> None:
        assert self.sock is not None
        while not self._stop.is_set():
            try:
                packet, peer = self.sock.recvfrom(sntp.PACKET_BYTES + 1)
            except TimeoutError:
                continue
            except OSError as exc:  # e.g. an ICMP error from an earlier answer: the socket itself is fine
                log.debug("SNTP receive: %s", exc)
                continue
            received = self.wall_ns()
            self.handle(packet, peer, received)

    def handle(self, packet: bytes, peer: tuple[str, int], received_ns: int) -> None:
        if not sntp.is_client_request(packet):
            self.ignored += 1
            return
        if not self.buckets.take(peer[0], self.monotonic_ms()):
            self.rate_limited += 1
            return
        stance = self.stance()
        now = self.wall_ns()
        reply = sntp.answer(packet, stance=stance, received_ns=received_ns, sent_ns=now, reference_ns=now)
        try:
            assert self.sock is not None
            self.sock.sendto(reply, peer)
            self.answered += 1
        except OSError as exc:
            log.debug("SNTP answer to %s: %s", peer[0], exc)


class TimeMetrics:
    """The time source in ``/metrics``: the gateway's own clock and what the server answered (a collector,
    read at each scrape)."""

    def __init__(self, server: TimeServer | None, own_clock: Callable[[], sntp.OwnClock]) -> None:
        self.server = server
        self.own_clock = own_clock

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        own = self.own_clock()
        yield GaugeMetricFamily("sebiao_clock_synchronised", "1 when the gateway's own clock is synchronised "
                                "(the kernel's STA_UNSYNC is clear)", value=int(own.synchronised))
        if own.offset_us is not None:
            yield GaugeMetricFamily("sebiao_clock_offset_seconds", "The last offset the kernel's clock "
                                    "discipline applied", value=own.offset_us / 1e6)
        if self.server is None:
            return
        status = self.server.status()
        yield GaugeMetricFamily("sebiao_sntp_listening", "1 while the gateway answers SNTP",
                                value=int(status.listening is not None))
        yield GaugeMetricFamily("sebiao_sntp_stratum", "The stratum the SNTP answers give (16: unsynchronised)",
                                value=status.stance.stratum)
        packets = CounterMetricFamily("sebiao_sntp_requests", "SNTP requests by outcome", labels=("outcome",))
        packets.add_metric(("answered",), status.answered)
        packets.add_metric(("ignored",), status.ignored)
        packets.add_metric(("rate_limited",), status.rate_limited)
        yield packets


def clock_health(server: TimeServer | None, own: sntp.OwnClock) -> dict[str, object]:
    """The ``clock`` block of ``/healthz``."""
    if server is None:
        serving: dict[str, object] = {"enabled": False}
    else:
        status = server.status()
        serving = {"enabled": True, "listening": status.listening, "error": status.error,
                   "stratum": status.stance.stratum, "leap": status.stance.leap, "usable": status.stance.usable,
                   "answered": status.answered, "ignored": status.ignored, "rate_limited": status.rate_limited}
    return {"synchronised": own.synchronised, "source": own.source,
            "offset_ms": None if own.offset_us is None else own.offset_us / 1000,
            "max_error_ms": None if own.max_error_us is None else own.max_error_us / 1000,
            "time_server": serving}
