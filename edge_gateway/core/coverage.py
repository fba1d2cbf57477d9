"""How long today the readers covered the workshop: the time during which every station was online.

The shop-front display claims only what the readers saw, so it also says for
how long they saw it. The engine calls :meth:`CoverageClock.tick` at each of its
ticks with whether every station of the config is online now; the time between
two ticks counts when every station was online at the first of them. The day's
total is kept in the store (``coverage_days``), written at most every
``flush_ms`` and when the day turns, so a restart loses at most that much and a
gateway that was not running covered nothing.
"""

from __future__ import annotations

from edge_gateway.store.writer import Store
from sebiao_common.clock import local_day_start_ms


class CoverageClock:
    def __init__(self, flush_ms: int = 30_000) -> None:
        self.flush_ms = flush_ms
        self.day = -1
        self.covered = 0  # ms of today with every station online
        self.last: int | None = None  # the previous tick
        self.all_online = False  # at the previous tick
        self.flushed_at = 0

    def tick(self, now: int, all_online: bool, store: Store) -> None:
        day = local_day_start_ms(now)
        if day != self.day:
            self.day, self.covered, self.flushed_at = day, store.coverage_ms(day), 0
        if self.last is not None and self.all_online and now > self.last:
            self.covered += now - max(self.last, day)  # a span across midnight counts from midnight
        self.last, self.all_online = now, all_online
        if now - self.flushed_at >= self.flush_ms:
            store.save_coverage(day, self.covered, now)
            self.flushed_at = now
