"""The drain worker of the central InfluxDB: outbox rows to InfluxDB's v2 write API, deleted once accepted.

One thread per cloud process, started and stopped by the app's lifespan when
the config has ``influx:``. Each round claims the oldest ``batch_points`` rows
(``influx_outbox.claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the backlog and never write the same rows) and writes
them with influxdb-client's synchronous v2 write API (the gateway's
``V2Sink``; InfluxDB 1.8+, 2.x, Cloud, VictoriaMetrics). The answer decides:

- 2xx: the rows are deleted, in the claim's transaction;
- 429, 5xx, no answer: rows kept, exponential back-off with jitter (at least
  the server's Retry-After), logged once per outage;
- 401/403/404: rows kept, logged as a configuration error, longest back-off;
- 400/422/413: the batch is split in halves down to the lines the server
  refuses; such a line is logged with the reason and deleted (its facts stay
  in the cloud's tables, from which it was built).

A point written twice (a worker killed between the write and the delete)
overwrites itself: same series, same timestamp.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from cloud_ingest.config import InfluxHook
from cloud_ingest.influx import outbox as influx_outbox
from cloud_ingest.store import db
from cloud_ingest.store.schema import influx_outbox as table
from cloud_ingest.store.worker_loop import RoundWorker
from sebiao_common.http_answers import OK, REFUSED, RETRY, backoff
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.influx.writer import Sink, make_sink

log = logging.getLogger(__name__)

IDLE_POLL = 0.5


def sink_for(hook: InfluxHook) -> Sink:
    """The gateway's v2 sink, aimed at the central server (``database`` is the bucket)."""
    return make_sink(InfluxSettings(url=hook.url, api="v2", token=hook.token, org=hook.org, bucket=hook.database,
                                    timeout_seconds=hook.timeout_seconds, retry_max_seconds=hook.retry_max_seconds))


@dataclass
class Backoff:
    """Exponential with jitter (several workers do not retry in step), at least Retry-After."""

    cap: float
    failures: int = 0
    refused: bool = False
    last_error: str | None = None
    retry_after: float | None = field(default=None)

    def delay(self) -> float:
        delay = backoff(failures=self.failures, cap=self.cap, refused=self.refused, retry_after=self.retry_after)
        self.retry_after = None
        return delay


class InfluxDrain(RoundWorker):
    THREAD = "sebiao-cloud-influx"
    SUBJECT = "central InfluxDB outbox"

    def __init__(self, engine: Engine, hook: InfluxHook, sink: Sink | None = None) -> None:
        super().__init__()
        self.engine, self.hook = engine, hook
        self.sink = sink or sink_for(hook)
        self.backoff = Backoff(hook.retry_max_seconds)
        self.written = 0
        self.dropped = 0

    def close(self) -> None:
        self.sink.close()

    def failed(self, error: str) -> None:
        self.backoff.last_error = error

    def round(self) -> float:
        """One batch: how long to wait before the next (0 = go on at once)."""
        if self.engine.dialect.name == "postgresql":
            with db.converted(), influx_outbox.claim(self.engine, self.hook.batch_points) as (conn, claim):
                if not claim.ids:
                    return IDLE_POLL
                done = self._write(claim.ids, claim.lines)
                influx_outbox.remove(conn, done)
        else:  # one worker: read, write outside any transaction, then delete
            with db.read(self.engine) as conn:
                rows = conn.execute(select(table.c.id, table.c.line).order_by(table.c.id)
                                    .limit(self.hook.batch_points)).all()
            if not rows:
                return IDLE_POLL
            ids = [r[0] for r in rows]
            done = self._write(ids, [r[1] for r in rows])
            with db.write(self.engine) as conn:
                influx_outbox.remove(conn, done)
        return 0.0 if self.backoff.failures == 0 else self.backoff.delay()

    def _write(self, ids: list[int], lines: list[str]) -> list[int]:
        """Writes the lines; returns the ids to delete (written, or refused by the server for good)."""
        result = self.sink.write("\n".join(lines))
        outcome = result.outcome
        if outcome == OK:
            if self.backoff.failures:
                log.info("central InfluxDB accepts writes again")
            self.backoff.failures, self.backoff.refused, self.backoff.last_error = 0, False, None
            self.written += len(ids)
            return ids
        self.backoff.last_error = f"HTTP {result.status}: {result.reason}" if result.status else result.reason
        if outcome in (RETRY, REFUSED):
            if not self.backoff.failures:  # once per outage, not at every retry
                log.warning("central InfluxDB %s (%s); rows kept", "refuses our writes" if outcome == REFUSED
                            else "unavailable", self.backoff.last_error)
            self.backoff.failures += 1
            self.backoff.refused = outcome == REFUSED
            self.backoff.retry_after = result.retry_after
            return []
        if len(ids) == 1:  # rejected or too large on its own: it can never be written
            log.error("central InfluxDB refused a line for good (%s), deleted: %s", self.backoff.last_error,
                      lines[0][:300])
            self.dropped += 1
            return ids
        mid = len(ids) // 2
        first = self._write(ids[:mid], lines[:mid])
        if self.backoff.failures:
            return first
        return first + self._write(ids[mid:], lines[mid:])


def start_drain(engine: Engine, hook: InfluxHook | None) -> InfluxDrain | None:
    """The process's worker for ``config.influx`` (None without it), started."""
    return InfluxDrain(engine, hook).start() if hook is not None else None
