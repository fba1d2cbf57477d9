"""What keeps a crowd scanning a shop's QR code from reaching the database: a page cache and a brake.

``PageCache``: the page is the same for everyone, so it is built once per
``ttl`` seconds per address and served from memory meanwhile. At most
``entries`` pages are kept (least recently used first out); an address that
is no page is kept too (its 404), so a scan of made-up addresses costs a
lookup each at most once per ``ttl``, and still no more memory than the cap.
While one request builds a page, the others asking for it wait for that
build instead of building it again (one database read per page and ttl,
however many phones ask at once).

``ClientBrake``: a token bucket per client address (IPv6 by its /64): up to
``per_minute`` at once, refilled at ``per_minute`` a minute. Past it, the
client waits (429 with ``Retry-After``). At most ``clients`` addresses are
counted (least recently seen first out): a flood from many addresses costs
bounded memory; an address pushed out starts with a full bucket, which the
cache makes harmless. Both live in the worker process: with N workers a page
is built up to N times per ttl and a client gets N times the requests.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from sebiao_common.login_brake import client_key


@dataclass(frozen=True, kw_only=True)
class Page:
    status: int  # 200, or 404 for an address that is no page
    body: bytes
    etag: str
    built: float  # seconds since the epoch (Last-Modified)


class PageCache:
    def __init__(self, *, ttl: float, entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.entries, self._clock = ttl, entries, clock
        self._pages: OrderedDict[str, tuple[float, Page]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self.builds = 0  # how many times a page was built (the benchmark and the tests read it)

    def get(self, key: str, build: Callable[[], Page]) -> Page:
        """The cached page of ``key``, or ``build()``'s, kept for ``ttl``; one build at a time per key."""
        page = self._fresh(key)
        if page is not None:
            return page
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            page = self._fresh(key)  # built meanwhile by the request this one waited for
            if page is not None:
                return page
            page = build()
            self.builds += 1
            with self._lock:
                self._pages[key] = (self._clock() + self.ttl, page)
                self._pages.move_to_end(key)
                while len(self._pages) > self.entries:
                    self._pages.popitem(last=False)
                self._building.pop(key, None)
            return page

    def clear(self) -> None:
        """Every page is built anew at its next request (a slug was rotated: its old page must go)."""
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)

    def _fresh(self, key: str) -> Page | None:
        with self._lock:
            held = self._pages.get(key)
            if held is None or held[0] <= self._clock():
                return None
            self._pages.move_to_end(key)
            return held[1]


class ClientBrake:
    def __init__(self, *, per_minute: int, clients: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.rate = float(per_minute), per_minute / 60.0
        self.clients, self._clock = clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> int:
        """0: go ahead (one request counted); otherwise the whole seconds until this client may ask again."""
        key = client_key(client)
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            wait = 0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.clients:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)
