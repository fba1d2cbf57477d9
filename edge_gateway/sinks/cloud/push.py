"""The cloud push worker: ships the cloud outbox to ``POST /api/v1/ingest``, deletes what was accepted.

One thread with its own SQLite connection. It lingers for a fuller batch:
rows go when ``batch_items`` of them wait, when an alarm transition waits
(inspectors see alarms at once), or when the oldest waiting row is
``linger_seconds`` old; until then it only looks at the oldest row's id and
time (one primary-key lookup per poll). A city of gateways pushing on every
poll would cost the cloud one request per gateway and poll; lingering makes it
one per gateway and ``linger_seconds`` (0 sends at once, as soon as anything
waits). Whether an alarm row waits is known without a query: the writer
reports the id of the newest alarm row it committed (``Store.cloud_alarm_id``,
and one scan at start for rows of an earlier run); one waits while that id is
not below the oldest waiting row's (an alarm row dead-lettered ahead of others
may make one batch go early, never one wait).

Each round takes up to ``batch_items`` rows, sends them as one gzip JSON batch whose id is
``{epoch}-{first}-{last}-{count}`` (the same rows always make the same id and
the same bytes, so a batch retried after a lost answer or a kill -9 is
recognised by the cloud as a replay) and acts on the answer
(:func:`cloud_client.classify`):

- 2xx: the rows are deleted; an answer with ``"linger_seconds": N`` (the cloud
  is busy: back-pressure) makes the worker linger N seconds (at most 600)
  instead of ``linger_seconds`` until an answer without it, when its own
  ``linger_seconds`` is not 0; alarm transitions still go at once, and a batch
  holding the newest alarm transition is marked ``X-Sebiao-Alarm: 1`` (the
  cloud serves it ahead of the others);
- 400/422 naming ``items[N]``: that row goes to ``cloud_outbox_dead`` with the
  cloud's reason and the rest is sent again (a new id: another body); naming no
  item, the batch is bisected down to the bad rows;
- 413: split in halves (a single row that is still too large is a dead letter);
- 401/403 (and 404, 409): rows kept, the ``sink_refused`` gateway alarm with
  subject ``cloud`` raised, retried at the longest back-off;
- 429, 5xx, no answer: rows kept, exponential back-off with jitter, at least
  the cloud's Retry-After.

Beside the batches it asks the cloud, with the gateway's token, for the last
accepted setup's rules and for the address of the workshop's public page
(``GET /api/v1/gateway/public-page``), kept in ``meta.cloud_public_page:<workshop>``: the
display's QR code carries it (docs/display.md).

The outbox is bounded (``cloud.max_rows``): past it the oldest *status* rows
are dropped and counted; events and alarm transitions are the inspectors'
evidence and are never dropped. The ``outbox_backlog`` gateway alarm (subject
``cloud``) is raised at ``warn_percent`` of the bound and cleared below three
quarters of that. The intake path never waits on this worker beyond SQLite's
write lock for one short delete.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_gateway.core.engine import public_page_key
from edge_gateway.core.metrics import CloudMetrics
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.cloud.client import CloudClient, PushResult, batch_body
from edge_gateway.sinks.cloud.config import CloudSettings
from edge_gateway.sinks.cloud.outbox import CloudOutbox, Row
from edge_gateway.sinks.health import OUTBOX_BACKLOG, SEVERITY, SinkHealth
from edge_gateway.sinks.worker import SinkWorker
from sebiao_common.clock import Clock
from sebiao_common.http_answers import OK, REJECTED

log = logging.getLogger(__name__)

SUBJECT = "cloud"
IDLE_POLL = 0.2
# An alarm goes at once, but no sooner than this after the batch before: at 200 alarm transitions a second the
# worker sent a request every few milliseconds, each carrying one or two, and each request's Python work took
# the interpreter from the intake beside it; 0.1 s gathers them ten to a request.
ALARM_GAP = 0.1
ACCEPTED_EVERY_MS = 300_000  # how often the last accepted setup's rules are asked for (core/baseline.py)
PAGE_RETRY_MS = 10_000  # how often the public page's address is asked for while the cloud has not answered it


class CloudPusher(SinkWorker[CloudOutbox]):
    """The worker. ``alarm`` hands a Raise or Clear to the pipeline (never waits for it)."""

    def __init__(self, path: Path, client: CloudClient, settings: CloudSettings, workshop: str,
                 alarm: Callable[[Raise | Clear], None], metrics: CloudMetrics,
                 added: Callable[[], int], *, alarm_added: Callable[[], int] = lambda: 0,
                 clock: Clock, accepted: Callable[[dict], None] = lambda doc: None,
                 public_page: Callable[[str], None] = lambda url: None) -> None:
        """``added``: cloud outbox rows committed by the writer so far (``Store.cloud_added``);
        ``alarm_added``: the id of its newest committed alarm row (``Store.cloud_alarm_id``);
        ``clock``: the gateway's clock (ms), which the rows' ``created`` was taken from;
        ``accepted``: takes the cloud's last accepted rules, asked for at start and every
        ``ACCEPTED_EVERY_MS``; ``public_page``: takes the address of the workshop's public page on the cloud,
        asked for as often (the display's QR code carries it)."""
        self.settings, self.client, self.workshop, self.alarm = settings, client, workshop, alarm
        self.metrics, self._alarm_added, self.clock = metrics, alarm_added, clock
        super().__init__("cloud", CloudOutbox(path), client, added,
                         SinkHealth("the cloud", SUBJECT, alarm, ("云端已接受数据", "the cloud accepts our batches again"),
                                    _refused_text, clock))
        self._alarm_before = self.outbox.last_alarm_id() if settings.linger_seconds else 0
        self._backlog = False
        self._sent_at: int | None = None  # when the last batch was sent (ms, the gateway's clock)
        self._asked_linger = 0.0  # the cloud's "linger_seconds" in its last answer: it is busy (back-pressure)
        self._accepted, self._accepted_at = accepted, None
        self._public_page, self._page_at, self._page_known = public_page, None, False
        self.sent = 0
        self.dead = 0
        self.dropped = 0
        metrics.depth.set_function(self.depth)

    def round(self) -> float:
        """One batch: how long to wait before the next (0 = go on at once)."""
        self._bound()
        self._ask_accepted()
        self._ask_public_page()
        if self.settings.linger_seconds:
            wait = self.linger()
            if wait:
                return wait
        rows = self.outbox.take(self.settings.batch_items)
        if not rows:
            self.metrics.oldest_age.set(0)
            return IDLE_POLL
        self.metrics.oldest_age.set(max(0.0, (self.clock() - rows[0][1]) / 1000))
        self._sent_at = self.clock()
        return 0.0 if self._send(rows) else self._backoff()

    def _ask_accepted(self) -> None:
        now = self.clock()
        if self._accepted_at is not None and now - self._accepted_at < ACCEPTED_EVERY_MS:
            return
        self._accepted_at = now
        doc = self.client.accepted_setup()
        if doc is not None:
            self._accepted(doc)

    def _ask_public_page(self) -> None:
        """The public page's address: every ``ACCEPTED_EVERY_MS`` once known (a rotated slug reaches the QR code
        within that), every ``PAGE_RETRY_MS`` until the cloud first answers it."""
        now = self.clock()
        every = ACCEPTED_EVERY_MS if self._page_known else PAGE_RETRY_MS
        if self._page_at is not None and now - self._page_at < every:
            return
        self._page_at = now
        page = self.client.public_page()
        if page is not None:
            self._page_known = True
            self._public_page(page)

    def linger(self) -> float:
        """0 when a batch should go now, else how long to wait before looking again."""
        head = self.outbox.head()
        if head is None:
            self.metrics.oldest_age.set(0)
            return IDLE_POLL
        first, created = head
        age = max(0.0, (self.clock() - created) / 1000)
        self.metrics.oldest_age.set(age)
        if self.depth() >= self.settings.batch_items:
            return 0.0
        if self.alarm_waiting(first):
            return self._alarm_gap()
        left = max(self.settings.linger_seconds, self._asked_linger) - age
        # Look again at the poll interval: an alarm or a full batch may come meanwhile.
        return min(left, IDLE_POLL) if left > 0 else 0.0

    def _alarm_gap(self) -> float:
        """How long an alarm batch still waits for ``ALARM_GAP`` after the last batch (0: go now; a clock that
        went back counts as the gap passed)."""
        elapsed = (self.clock() - self._sent_at) / 1000 if self._sent_at is not None else ALARM_GAP
        return ALARM_GAP - elapsed if 0 <= elapsed < ALARM_GAP else 0.0

    def alarm_waiting(self, first: int) -> bool:
        """Whether an alarm-transition row waits, ``first`` being the oldest waiting row's id."""
        return max(self._alarm_before, self._alarm_added()) >= first

    def batch_id(self, rows: list[Row]) -> str:
        return f"{self.outbox.epoch}-{rows[0][0]}-{rows[-1][0]}-{len(rows)}"

    def _send(self, rows: list[Row]) -> bool:
        """Send these rows; False when the rest must wait (back-off)."""
        batch_id = self.batch_id(rows)
        newest_alarm = max(self._alarm_before, self._alarm_added())
        result = self.client.push(batch_body(self.workshop, batch_id, [r[2] for r in rows]),
                                  workshop=self.workshop, batch=batch_id,
                                  alarm=rows[0][0] <= newest_alarm <= rows[-1][0])  # served first by the cloud
        outcome = result.outcome
        self.metrics.batches.labels(outcome).inc()
        if outcome == OK:
            # back-pressure: the cloud asks for fewer requests while busy, each answer anew (alarms still go at once)
            self._asked_linger = result.linger_seconds or 0.0
            self.outbox.delete(rows[0][0], rows[-1][0])
            self.removed += len(rows)
            self.sent += len(rows)
            self.metrics.pushed.inc(len(rows))
            self.health.accepted()
            return True
        if self.health.must_wait(result):
            return False
        bad = result.item if outcome == REJECTED else None
        if bad is not None and bad < len(rows):
            self._dead([rows[bad]], result)
            rest = rows[:bad] + rows[bad + 1:]
            return self._send(rest) if rest else True
        if len(rows) == 1:
            self._dead(rows, result)
            return True
        mid = len(rows) // 2
        return self._send(rows[:mid]) and self._send(rows[mid:])

    def _dead(self, rows: list[Row], result: PushResult) -> None:
        self.outbox.dead_letter([r[0] for r in rows], result.status, result.reason or f"HTTP {result.status}",
                               at=self.clock())
        self.removed += len(rows)
        self.dead += len(rows)
        self.metrics.dead.inc(len(rows))
        log.error("cloud: %d item(s) refused by the cloud, kept in cloud_outbox_dead: %s", len(rows),
                  result.reason)

    def _backoff(self) -> float:
        return self.health.backoff(self.settings.retry_max_seconds)

    def _bound(self) -> None:
        """Drop the oldest status rows past ``max_rows``; raise or clear ``outbox_backlog``."""
        s = self.settings
        depth = self.depth()
        if depth > s.max_rows:
            dropped = self.outbox.drop_oldest_status(depth - s.max_rows)
            if dropped:
                self.removed += dropped
                self.dropped += dropped
                self.metrics.dropped.inc(dropped)
                log.error("cloud: outbox full (%d rows): dropped the %d oldest status rows", depth, dropped)
            depth = self.depth()
        if depth >= s.warn_rows and not self._backlog:
            self._backlog = True
            self.alarm(Raise(
                type=OUTBOX_BACKLOG, severity=SEVERITY[OUTBOX_BACKLOG], subject=SUBJECT,
                tool=None, tag=None, station=None, ts=self.clock(),
                text_zh=f"待发往云端的数据积压 {depth} 条（上限 {s.max_rows}），超过上限将丢弃最旧的站点状态；"
                "事件与报警记录不会丢弃。",
                text_en=f"The cloud outbox holds {depth} rows ({s.warn_percent} % of its bound {s.max_rows}); past the "
                "bound the oldest station status is dropped (events and alarm transitions never)."))
        elif self._backlog and depth < s.warn_rows * 3 // 4:
            self._backlog = False
            self.alarm(Clear(type=OUTBOX_BACKLOG, subject=SUBJECT, reason_zh="云端积压已消除",
                             reason_en="the cloud outbox backlog has drained"))



def _refused_text(status: int, reason: str) -> tuple[str, str]:
    return (f"云端拒绝接收（HTTP {status}）：请检查 cloud: 中的 token 与地址，以及本网关的公钥（sebiao gateway-key）"
            "是否已随令牌在云端登记。数据保留在本地待发。",
            f"The cloud refuses our batches (HTTP {status}: {reason}): check the token and URL in the "
            "cloud: section, and that this gateway's public key (`sebiao gateway-key`) is registered with the "
            "token. The data is kept in the cloud outbox.")


def start_pusher(settings: CloudSettings | None, store, pipeline, workshop: str, metrics: CloudMetrics,
                 clock: Clock, key: Ed25519PrivateKey) -> CloudPusher | None:
    """The gateway's push worker for its ``cloud:`` section (None without one), started."""
    if settings is None:
        return None

    def alarm(decision: Raise | Clear) -> None:
        pipeline.call(lambda engine, now, out: engine.gateway_alarm(decision, now, out))

    def accepted(doc: dict) -> None:
        def said(future) -> None:  # type: ignore[no-untyped-def]
            if future.exception() is None and future.result() is False:
                log.warning("cloud: the last accepted setup's rules (version %s) do not fit this config: alarms a "
                            "relaxed requirement silences are not looked for", doc.get("version"))
        pipeline.call(lambda engine, now, out: engine.accepted_setup(doc, now, out)).add_done_callback(said)

    def public_page(url: str) -> None:
        def keep(engine, now, out) -> None:  # type: ignore[no-untyped-def]
            key = public_page_key(workshop)
            if engine.store.meta(key) != url:
                engine.store.set_meta(key, url)
                out.changed = True  # the display shows the new address
                log.info("cloud: the workshop's public page is %s (the display's QR code carries it)", url)
        pipeline.call(keep)

    pusher = CloudPusher(store.path, CloudClient(settings, key=key), settings, workshop, alarm, metrics,
                         lambda: store.cloud_added, alarm_added=lambda: store.cloud_alarm_id, clock=clock,
                         accepted=accepted, public_page=public_page)
    pusher.outbox.writer = pipeline.write  # its writes in the single writer's batches (store/worker_db.py)
    pusher.outbox.writer_soon = pipeline.write_soon  # its deletes of shipped rows in the next one
    pusher.start()
    return pusher
