"""The notify worker: sends the ``notify_outbox`` rows, each channel on its own.

Per round it reads the waiting rows in order and, for each channel not backing off, sends them one by one.
Quiet hours: in the window only rows of the chosen severities go; the rest wait (in order) until it ends and
then go, each with the time it happened. Pacing: at most ``PER_MINUTE`` messages a minute to one channel (the
robots' limit is 20); a rate-limit answer backs the channel off and the row is sent again. A channel that keeps
failing for ``failed_after_minutes`` (or refuses our key at once) raises ``notify_failed``; its next success
clears it. Nothing is dropped: only a message the receiver itself rejects (HTTP 400/413/422) is given up,
counted and kept with the reason.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Callable

import urllib3
from prometheus_client import Counter, Gauge
from prometheus_client.registry import CollectorRegistry

from edge_gateway.core.pipeline import Pipeline
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.health import SinkHealth
from edge_gateway.sinks.notify.config import NOTIFY_FAILED, Channel, NotifySettings
from edge_gateway.sinks.notify.outbox import NotifyOutbox, Row
from edge_gateway.sinks.worker import SinkWorker
from edge_gateway.store.writer import Store
from sebiao_common import strict_json
from sebiao_common.alarms import Severity
from sebiao_common.clock import Clock
from sebiao_common.http_answers import OK, REFUSED, REJECTED, backoff, sink_pool
from sebiao_common.notify.message import local_time
from sebiao_common.notify.send import Result, post

log = logging.getLogger(__name__)
PER_MINUTE = 18  # under the robots' 20 a minute, so a burst never meets their limit
POLL_SECONDS = 0.5
PRUNE_EVERY_MS = 3600_000


class _ChannelState:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.failures = 0
        self.failing_since: int | None = None
        self.wait_until = 0
        self.alarmed = False
        self.recent: deque[int] = deque()  # send times in the last minute (ms)


class _Pool:
    """The worker's HTTP pool as the worker base's sender (closed when the worker stops)."""

    def __init__(self, http: urllib3.PoolManager) -> None:
        self.http = http

    def close(self) -> None:
        self.http.clear()


class NotifyWorker(SinkWorker[NotifyOutbox]):
    def __init__(self, settings: NotifySettings, outbox: NotifyOutbox, alarm: Callable[[Raise | Clear], None],
                 registry: CollectorRegistry, clock: Clock) -> None:
        self.settings, self.alarm, self.clock = settings, alarm, clock
        self.http = sink_pool(settings.timeout_seconds)
        self.channels = {c.name: _ChannelState(c) for c in settings.channels}
        # the worker base keeps last_error in a SinkHealth; notify_failed is this worker's own (per channel)
        health = SinkHealth("notify", "notify", alarm, ("", ""), lambda s, r: ("", ""), clock)
        super().__init__("notify", outbox, _Pool(self.http), lambda: 0, health)
        self._given_up_removed(outbox)
        self._depth = outbox.depth()
        self._counts = {c.name: {"sent": 0, "failed": 0, "given_up": 0} for c in settings.channels}
        self._next_prune = 0
        self.sent = Counter("sebiao_notify_sent", "Alarm messages a channel accepted", ["channel"], registry=registry)
        self.failed = Counter("sebiao_notify_failures", "Alarm messages not accepted (each try)", ["channel"],
                              registry=registry)
        self.gave_up = Counter("sebiao_notify_given_up", "Alarm messages the receiver rejected for good",
                               ["channel"], registry=registry)
        Gauge("sebiao_notify_waiting", "Alarm messages waiting to be sent", registry=registry
              ).set_function(lambda: self._depth)

    def depth(self) -> int:
        return self._depth

    def counts(self) -> dict[str, object]:
        """For /healthz: messages sent, failed tries and messages given up since start, in all and by channel."""
        totals = {key: sum(c[key] for c in self._counts.values()) for key in ("sent", "failed", "given_up")}
        return {**totals, "channels": {name: dict(c) for name, c in self._counts.items()}}

    def _given_up_removed(self, outbox: NotifyOutbox) -> None:
        """Rows for channels no longer in the config are set aside (kept, with the reason), not waited for."""
        names = tuple(self.channels)
        orphans = outbox.abandon(names, self.clock())
        if orphans:
            log.warning("notify: %d message(s) for channels no longer configured set aside in notify_outbox",
                        orphans)

    def quiet(self, now: int) -> bool:
        hours = self.settings.quiet_hours
        return hours is not None and hours.quiet_at(local_time(now, self.settings.timezone).time())

    def round(self) -> float:
        now = self.clock()
        if now >= self._next_prune:
            self.outbox.prune(now)
            self._next_prune = now + PRUNE_EVERY_MS
        hours = self.settings.quiet_hours
        only = hours.severities if hours is not None and self.quiet(now) else None  # None: every severity
        for state in self.channels.values():  # each channel on its own: one failing holds no other back
            if only == () or self._stopping() or self.clock() < state.wait_until:
                continue
            for row in self.outbox.waiting(state.channel.name, only, PER_MINUTE):
                now = self.clock()
                if self._stopping() or not self._pace(state, now):
                    break
                if not self._send(state, row, now):
                    break  # in order: the next waits for this one
        self._depth = self.outbox.depth()
        return POLL_SECONDS

    def _send(self, state: _ChannelState, row: Row, now: int) -> bool:
        try:
            result = post(self.http, state.channel, strict_json.loads(row.notice), now)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a row that cannot be read
            result = Result(outcome=REJECTED, status=0, reason=f"unreadable notice: {type(exc).__name__}: {exc}")
        return self._settle(state, row.id, result, self.clock())

    def _stopping(self) -> bool:
        return self._stop.is_set()

    def _pace(self, state: _ChannelState, now: int) -> bool:
        while state.recent and state.recent[0] <= now - 60_000:
            state.recent.popleft()
        return len(state.recent) < PER_MINUTE

    def _settle(self, state: _ChannelState, row_id: int, result: Result, now: int) -> bool:
        """The answer recorded; False when the channel must wait before its next message."""
        name = state.channel.name
        state.recent.append(now)
        if result.outcome == OK:
            self.outbox.sent(row_id, now)
            self.sent.labels(name).inc()
            self._counts[name]["sent"] += 1
            self._recovered(state)
            return True
        self.failed.labels(name).inc()
        self._counts[name]["failed"] += 1
        self.last_error = f"{name}: {result.reason}"
        if result.outcome == REJECTED:  # this message only: kept with the reason, the channel goes on
            self.outbox.failed(row_id, result.reason, give_up_at=now)
            self.gave_up.labels(name).inc()
            self._counts[name]["given_up"] += 1
            log.error("notify %s rejected message %d for good: %s", name, row_id, result.reason)
            return True
        self.outbox.failed(row_id, result.reason)
        if not state.failures:
            log.warning("notify %s failing (%s); messages kept, retrying with back-off", name, result.reason)
        state.failures += 1
        state.failing_since = state.failing_since or now
        refused = result.outcome == REFUSED
        delay = backoff(failures=state.failures, cap=self.settings.retry_max_seconds, refused=refused,
                        retry_after=result.retry_after)
        state.wait_until = now + int(delay * 1000)
        if not state.alarmed and (refused or now - state.failing_since >= self.settings.failed_after_minutes * 60_000):
            state.alarmed = True
            self.alarm(Raise(type=NOTIFY_FAILED, severity=Severity.MAJOR.value, subject=f"notify:{name}", tool=None,
                             tag=None, station=None, ts=now,
                             text_zh=f"告警推送通道「{name}」发送失败：{result.reason[:120]}；消息已保留，恢复后补发",
                             text_en=f"alarm channel {name!r} is failing: {result.reason[:120]}; messages are kept "
                                     "and sent when it is back"))
        return False

    def _recovered(self, state: _ChannelState) -> None:
        name = state.channel.name
        if state.failures:
            log.info("notify %s accepts messages again", name)
        state.failures, state.failing_since, state.wait_until = 0, None, 0
        if not any(s.failures for s in self.channels.values()):
            self.last_error = None
        if state.alarmed:
            state.alarmed = False
            self.alarm(Clear(type=NOTIFY_FAILED, subject=f"notify:{name}", reason_zh="推送通道已恢复",
                             reason_en="the channel accepts messages again"))


def start_notifier(settings: NotifySettings | None, store: Store, pipeline: Pipeline, registry: CollectorRegistry,
                   *, clock: Clock) -> NotifyWorker | None:
    if settings is None:
        return None

    def alarm(decision: Raise | Clear) -> None:
        pipeline.call(lambda engine, now, out: engine.gateway_alarm(decision, now, out))

    worker = NotifyWorker(settings, NotifyOutbox(store.path), alarm, registry, clock)
    worker.outbox.writer = pipeline.write  # its writes in the single writer's batches (store/worker_db.py)
    worker.start()
    return worker
