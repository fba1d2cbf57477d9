"""The door of the intake: each station held to its rate, and a flooding station shut out at the broker.

``rates.py`` says why the gateway drops what a station sends beyond its rate. Dropping at
the gateway costs the MQTT thread some Python for every message, and a station account
in the wrong hands writes to its socket faster than that: the broker's one queue for the
gateway would still fill. So at the first message over the rate the guard also stops
taking that station's topics: it subscribes to every *other* station's ``event``, ``status`` and
``cycle`` by name, then drops the wildcard subscriptions (in that order: nothing of
the others falls in a gap; a message that both matched in between comes twice, and the
pipeline knows a redelivery). The broker then throws the station's messages away itself,
at its own speed, and queues none of them for the gateway. After ``intake.flood_pause_seconds`` (60) the
wildcards come back; a station still flooding is shut out again at once.

While a station is shut out its messages, and those of topics naming no station of the
workshop, do not reach the gateway; the ``station_flood`` alarm is up all that time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from edge_gateway.core.metrics import Metrics
from edge_gateway.intake.rates import StationRates, flood_clear, flood_raise
from edge_gateway.model.rules import Clear, Raise
from sebiao_common.clock import Clock

log = logging.getLogger(__name__)

DROPPED = ""  # check(): the message was acknowledged and dropped here


class Subscriber(Protocol):
    """The part of the paho client the guard uses."""

    def subscribe(self, topic: list[tuple[str, int]]) -> object: ...
    def unsubscribe(self, topic: list[str]) -> object: ...
    def ack(self, mid: int, qos: int) -> object: ...


class StationGuard:
    def __init__(self, rates: StationRates, wildcards: tuple[str, ...], stations: tuple[str, ...],
                 metrics: Metrics, alarm: Callable[[Raise | Clear], None], clock: Clock, pause: float = 60.0) -> None:
        """``wildcards``: the gateway's subscriptions (``sebiao/{workshop}/+/event``, ``/status``, ``/cycle``);
        ``stations``: the workshop's station ids; ``alarm`` hands ``station_flood`` to the pipeline; ``pause``
        (``intake.flood_pause_seconds``): how long a flooding station's topics are shut out, and how long it
        must keep to its rate before its spell of flooding ends."""
        self.rates, self.wildcards, self.stations, self.pause = rates, wildcards, stations, pause
        self.metrics, self.alarm, self.clock = metrics, alarm, clock
        self.client: Subscriber | None = None
        self._flooding: dict[str, float] = {}  # station -> when it last went over its rate (monotonic s)
        self._shut: set[str] = set()  # stations whose topics the gateway does not take now
        self._named: set[str] = set()  # the station topics subscribed by name
        self._lock = threading.Lock()  # the MQTT thread and the resume timer change subscriptions
        self._timer: threading.Timer | None = None

    # -- on the MQTT thread --------------------------------------------------------------

    def connected(self, client: Subscriber) -> None:
        """(Re)connected: the subscriptions of the current state (a persistent session keeps old ones)."""
        with self._lock:
            self.client = client
            self._named = set(self._topics(()))  # whatever a past run left subscribed by name goes too
            self._apply()

    def check(self, topic: str, mid: int, qos: int) -> str | None:
        """None: within its station's rate. Over it: ``DROPPED`` when acknowledged and dropped here, else the
        detail of the dead letter the first message of a spell goes on to be kept as."""
        rates, now = self.rates, time.monotonic()
        parts = topic.split("/")
        station = rates.key(parts[2] if len(parts) == 4 else "")
        last = self._flooding.get(station)
        # quiet: kept to its rate for the pause; asked before this message takes its token (the bucket is full
        # no longer after it, and the alarm would wait for the station's next message)
        quiet = last is not None and now - last >= self.pause and rates.full(station, now)
        if rates.admit(station, now):
            if quiet:
                del self._flooding[station]
                self.alarm(flood_clear(station))
            return None
        name = station or "(other)"
        counts = self.metrics.rate_limited_by_station
        counts[name] = counts.get(name, 0) + 1
        self.metrics.rate_limited.labels(name).inc()
        first = station not in self._flooding
        self._flooding[station] = now
        if station and station not in self._shut:
            self._shut_out(station)
        if first:
            self.alarm(flood_raise(station, rates.rate, rates.burst, self.clock()))
            return (f"over the station's rate ({rates.rate}/s, bursts of {rates.burst}); the rest of this spell is "
                    "acknowledged, dropped and counted (sebiao_station_rate_limited_total)")
        self.metrics.rejected.labels("rate_limited").inc()
        if qos > 0 and self.client is not None:
            self.client.ack(mid, qos)
        return DROPPED

    # -- subscriptions ---------------------------------------------------------------------

    def _topics(self, shut: tuple[str, ...] | set[str]) -> list[str]:
        return [w.replace("/+/", f"/{s}/") for s in self.stations if s not in shut for w in self.wildcards]

    def _shut_out(self, station: str) -> None:
        log.warning("station %r sends beyond its rate (%d/s, bursts of %d): its topics are shut out at the broker "
                    "for %.0f s, what already came is dropped", station, self.rates.rate, self.rates.burst,
                    self.pause)
        with self._lock:
            self._shut.add(station)
            self._apply()
            if self._timer is None:
                self._timer = threading.Timer(self.pause, self._resume)
                self._timer.daemon = True
                self._timer.start()

    def _resume(self) -> None:
        with self._lock:
            self._timer = None
            log.info("taking the topics of %s again", ", ".join(sorted(self._shut)))
            self._shut.clear()
            self._apply()

    def _apply(self) -> None:
        """Subscribe first, then unsubscribe: no gap in which another station's message finds no subscriber."""
        client = self.client
        if client is None:
            return
        wanted = set(self._topics(self._shut)) if self._shut else set()
        add = sorted(wanted - self._named)
        if not self._shut:
            client.subscribe([(t, 1) for t in self.wildcards])
        if add:
            client.subscribe([(t, 1) for t in add])
        if self._shut:
            client.unsubscribe(list(self.wildcards))
        drop = sorted(self._named - wanted)
        if drop:
            client.unsubscribe(drop)
        self._named = wanted

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
