"""A brake on password guessing that slows the guessing client and never locks an account for everyone.

A lockout per username lets anyone lock an inspector out by failing their
login on purpose (the OWASP authentication cheat sheet warns of exactly this
denial of service). So, as django-axes' ``[["username", "ip_address"]]``
lockout parameters do, failures are counted per client address
(``per_client``) and per (username, client address) pair
(``per_user_client``), each within a sliding ``window``: the guessing client
waits, the user logging in from anywhere else does not. An IPv6 client is
counted by its /64, since one host commonly holds a whole /64.

Every try takes its place before the password is checked (``reserve``), so a
burst of parallel tries already counts the earlier ones as failures; a success
gives its place back and forgets that pair's failures (``succeeded``). One
lock guards the counters: the cloud checks passwords in its thread pool.

The cloud's JSON login and its pages' login share one brake
(``cloud_ingest/access/login.py``); the gateway's owner console has its own.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from typing import Callable

MOST_KEYS = 10_000  # counters kept; past it (a flood of names or addresses) the oldest are forgotten


def client_key(host: str) -> str:
    """The address a client is counted by: itself, or the /64 of an IPv6 address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class LoginBrake:
    def __init__(self, *, per_client: int = 20, per_user_client: int = 5, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: seconds, only ever compared with itself (``time.monotonic``)."""
        if per_client < 1 or per_user_client < 1 or window <= 0:
            raise ValueError("a login brake needs per_client >= 1, per_user_client >= 1 and window > 0")
        self.per_client, self.per_user_client, self.window = per_client, per_user_client, window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reserve(self, client: str, username: str) -> float:
        """0.0: go ahead, this try counts as a failure until ``succeeded``. Otherwise the seconds until
        this client may try this username again (nothing is counted)."""
        keys = self._keys(client, username)
        with self._lock:
            now = self._clock()
            wait = max(self._wait(keys[0], self.per_client, now), self._wait(keys[1], self.per_user_client, now))
            if wait > 0:
                return wait
            for key in keys:
                self._recent(key, now).append(now)
            return 0.0

    def succeeded(self, client: str, username: str) -> None:
        """The reserved try was the right password: its place is given back, the pair starts afresh."""
        by_client, pair = self._keys(client, username)
        with self._lock:
            recent = self._failures.get(by_client)
            if recent:
                recent.pop()
            self._failures.pop(pair, None)

    def _keys(self, client: str, username: str) -> tuple[str, str]:
        who = client_key(client)
        return f"c\0{who}", f"u\0{who}\0{username}"

    def _wait(self, key: str, limit: int, now: float) -> float:
        recent = self._recent(key, now)
        if len(recent) < limit:
            return 0.0
        return max(0.0, recent[-limit] + self.window - now)

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.get(key)
        if recent is None:
            if len(self._failures) >= MOST_KEYS:
                self._failures.pop(next(iter(self._failures)))
            recent = self._failures[key] = deque()
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
