"""The outbox drain worker: ships outbox rows to InfluxDB, deletes them once accepted.

One thread with its own SQLite connection. Each round takes up to
``batch_lines`` rows (joined into one body inside SQLite), sends them gzipped
and acts on the answer (:func:`influx_sink.classify`):

- 2xx: the rows are deleted;
- 400/422: the lines the server names (``unable to parse '<line>'`` from 1.x,
  ``line N`` from 2.x) go to ``outbox_dead`` with its reason and the rest is
  sent again; when it names none, the batch is bisected down to the bad lines.
  InfluxDB 1.x answers 400 ``partial write`` after writing the good lines:
  sending those again is harmless, a point sent twice overwrites itself;
- 413: the batch is split in halves (a single line that is still too large is
  a dead letter);
- 401/403/404 (wrong token, user, database or bucket): rows kept, the
  ``sink_refused`` gateway alarm raised, retried at the longest back-off;
- 429, 5xx, no answer: rows kept, exponential back-off with jitter, at least
  the server's Retry-After.

The outbox is bounded (``outbox.max_rows``): past it the oldest telemetry rows
are dropped and counted, alarm rows never; the ``outbox_backlog`` alarm is
raised at ``warn_percent`` of the bound, well before. The intake path never
waits on this worker beyond SQLite's write lock for one short delete.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.health import (
    OUTBOX_BACKLOG,
    SEVERITY,
    SinkHealth,
)
from edge_gateway.sinks.influx.outbox import InfluxOutbox
from edge_gateway.sinks.worker import SinkWorker
from sebiao_common.clock import Clock
from sebiao_common.http_answers import OK, REJECTED, TOO_LARGE
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.influx.writer import Sink, WriteResult

log = logging.getLogger(__name__)

SUBJECT = "influx"

def _refused_text(status: int, reason: str) -> tuple[str, str]:
    return (f"InfluxDB 拒绝写入（HTTP {status}）：请检查 token、用户、数据库或 bucket。数据保留在本地待发。",
            f"InfluxDB refuses our writes (HTTP {status}: {reason}): check the token, user, database or "
            "bucket in the influx: section. The data is kept in the outbox.")


_LINE_NO = re.compile(r"line (\d+)")
IDLE_POLL = 0.2


class InfluxOutboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.depth = Gauge("sebiao_outbox_rows", "Rows waiting in the InfluxDB outbox", registry=r)
        self.oldest_age = Gauge("sebiao_outbox_oldest_age_seconds", "Age of the oldest outbox row", registry=r)
        self.sent = Counter("sebiao_outbox_sent_lines", "Lines the InfluxDB server accepted", registry=r)
        self.dead = Counter("sebiao_outbox_dead_lines", "Lines the server rejected (kept in outbox_dead)",
                            registry=r)
        self.dropped = Counter("sebiao_outbox_dropped_lines",
                               "Telemetry lines dropped, oldest first, past the outbox bound", registry=r)
        self.failures = Counter("sebiao_outbox_write_failures", "Write requests not accepted, by outcome",
                                ["outcome"], registry=r)
        self.write_seconds = Histogram("sebiao_outbox_write_seconds", "Time of one write request",
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10), registry=r)


class InfluxDrainer(SinkWorker[InfluxOutbox]):
    """The worker. ``alarm`` hands a Raise or Clear to the pipeline (never waits for it)."""

    def __init__(self, path: Path, sink: Sink, settings: InfluxSettings, metrics: InfluxOutboxMetrics,
                 alarm: Callable[[Raise | Clear], None], added: Callable[[], int], *, clock: Clock) -> None:
        """``added``: outbox rows committed by the writer so far (``Store.outbox_added``);
        ``clock``: the gateway's clock (ms), which the rows' ``created`` was taken from."""
        self.clock = clock
        self.path, self.sink, self.settings, self.metrics = path, sink, settings, metrics
        self.alarm = alarm
        super().__init__("outbox", InfluxOutbox(path), sink, added,
                         SinkHealth("InfluxDB", SUBJECT, alarm, ("InfluxDB 已接受写入", "InfluxDB accepts writes again"),
                                    _refused_text, clock))
        self._backlog = False
        metrics.depth.set_function(self.depth)

    def round(self) -> float:
        """One batch: returns how long to wait before the next (0 = go on at once)."""
        self._bound()
        batch = self.outbox.take(self.settings.outbox.batch_lines)
        if batch is None:
            self.metrics.oldest_age.set(0)
            return IDLE_POLL
        self._age()
        if self._send(batch.body, batch.first, batch.last, batch.count, rows=None):
            # a tenth of a batch or more: a backlog or a burst, go on; a trickle waits for more rather than a
            # request for every few lines, whose work would take the interpreter from the intake beside it
            # (dashboards read every few seconds)
            return 0.0 if batch.count * 10 >= self.settings.outbox.batch_lines else IDLE_POLL
        return self._backoff()

    def _send(self, body: str, first: int, last: int, count: int, rows: list[tuple[int, str]] | None) -> bool:
        """Send lines ``first..last``; False when the rest must wait (back-off)."""
        started = time.perf_counter()
        result = self.sink.write(body)
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        outcome = result.outcome
        if outcome == OK:
            self.outbox.delete(first, last)
            self.removed += count
            self.metrics.sent.inc(count)
            self.health.accepted()
            return True
        self.metrics.failures.labels(outcome).inc()
        if self.health.must_wait(result):
            return False
        rows = rows if rows is not None else self.outbox.rows(first, last)
        if outcome == REJECTED:
            bad = _named(result.reason, rows)
            if bad:
                self._dead([rows[i] for i in bad], result)
                rest = [r for i, r in enumerate(rows) if i not in bad]
                return self._send_rows(rest) if rest else True
            if len(rows) == 1:
                self._dead(rows, result)
                return True
        elif outcome == TOO_LARGE and len(rows) == 1:
            self._dead(rows, result)
            return True
        mid = len(rows) // 2
        return self._send_rows(rows[:mid]) and self._send_rows(rows[mid:])

    def _send_rows(self, rows: list[tuple[int, str]]) -> bool:
        return self._send("\n".join(r[1] for r in rows), rows[0][0], rows[-1][0], len(rows), rows)

    def _dead(self, rows: list[tuple[int, str]], result: WriteResult) -> None:
        self.outbox.dead_letter([r[0] for r in rows], result.status, result.reason or f"HTTP {result.status}",
                               at=self.clock())
        self.removed += len(rows)
        self.metrics.dead.inc(len(rows))
        log.error("outbox: %d line(s) rejected by InfluxDB, kept in outbox_dead: %s", len(rows), result.reason)

    def _backoff(self) -> float:
        return self.health.backoff(self.settings.retry_max_seconds)


    def _bound(self) -> None:
        ob = self.settings.outbox
        depth = self.depth()
        if depth > ob.max_rows:
            dropped = self.outbox.drop_oldest_telemetry(depth - ob.max_rows)
            if dropped:
                self.removed += dropped
                self.metrics.dropped.inc(dropped)
                log.error("outbox: full (%d rows): dropped the %d oldest telemetry rows", depth, dropped)
            depth = self.depth()
        warn_at = ob.max_rows * ob.warn_percent // 100
        if depth >= warn_at and not self._backlog:
            self._backlog = True
            now = self.clock()
            self.alarm(Raise(
                type=OUTBOX_BACKLOG, severity=SEVERITY[OUTBOX_BACKLOG], subject=SUBJECT,
                tool=None, tag=None, station=None, ts=now,
                text_zh=f"待发往 InfluxDB 的数据积压 {depth} 条（上限 {ob.max_rows}），超过上限将丢弃最旧的遥测数据。",
                text_en=f"The InfluxDB outbox holds {depth} rows ({ob.warn_percent} % of its bound {ob.max_rows}); "
                f"past the bound the oldest telemetry is dropped (alarms never)."))
        elif self._backlog and depth < warn_at * 3 // 4:
            self._backlog = False
            self.alarm(Clear(type=OUTBOX_BACKLOG, subject=SUBJECT, reason_zh="积压已消除",
                             reason_en="the outbox backlog has drained"))

    def _age(self) -> None:
        row = self.outbox.conn.execute("SELECT created FROM outbox WHERE id > ? ORDER BY id LIMIT 1",
                                       (self.outbox.shipped,)).fetchone()
        if row:
            self.metrics.oldest_age.set(max(0.0, (self.clock() - row[0]) / 1000))


def _named(reason: str, rows: list[tuple[int, str]]) -> set[int]:
    """Indexes of the rows a 400 answer names: ``unable to parse '<line>'`` (1.x) or ``line N`` (2.x)."""
    found = set()
    if "unable to parse '" in reason:
        found = {i for i, (_, line) in enumerate(rows) if f"unable to parse '{line}'" in reason}
    if not found:
        for match in _LINE_NO.finditer(reason):
            n = int(match.group(1))
            if 1 <= n <= len(rows):
                found.add(n - 1)
    return found


def start_drainer(settings: InfluxSettings | None, store, pipeline, registry: CollectorRegistry,
                  clock: Clock) -> InfluxDrainer | None:
    """The gateway's drain worker for its ``influx:`` section (None without one), started.

    Gateway alarms go through the pipeline like any command, so the single
    writer raises and clears them and they reach MQTT and the outbox as usual.
    """
    if settings is None:
        return None
    from sebiao_common.influx.writer import make_sink

    def alarm(decision: Raise | Clear) -> None:
        pipeline.call(lambda engine, now, out: engine.gateway_alarm(decision, now, out))

    drainer = InfluxDrainer(store.path, make_sink(settings), settings, InfluxOutboxMetrics(registry), alarm,
                            lambda: store.outbox_added, clock=clock)
    drainer.outbox.writer = pipeline.write  # its writes in the single writer's batches (store/worker_db.py)
    drainer.outbox.writer_soon = pipeline.write_soon  # its deletes of shipped rows in the next one
    drainer.start()
    return drainer
