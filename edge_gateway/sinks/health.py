"""Back-off and the ``sink_refused`` gateway alarm of a sink worker (the InfluxDB drain, the cloud push).

Both workers classify the server's answer the same way: a retryable failure
backs off exponentially with jitter and honours Retry-After; a refusal (wrong
token or address) keeps the rows, raises ``sink_refused`` once and retries at
the longest back-off; the next accepted write clears it.
"""

from __future__ import annotations

import logging
from typing import Callable, Protocol

from edge_gateway.model.rules import Clear, Raise
from sebiao_common.alarms import GatewayAlarmType, Severity
from sebiao_common.clock import Clock
from sebiao_common.http_answers import REFUSED, RETRY, backoff

log = logging.getLogger(__name__)

# The gateway's alarms about its sinks (besides the workshop alarm types of the contract).
SINK_REFUSED = GatewayAlarmType.SINK_REFUSED.value
SINK_REFUSED_SEVERITY = Severity.MAJOR.value
OUTBOX_BACKLOG = GatewayAlarmType.OUTBOX_BACKLOG.value
GATEWAY_ALARM_TYPES = tuple(t.value for t in GatewayAlarmType)  # also the store's and the intake's
SEVERITY = {OUTBOX_BACKLOG: Severity.MAJOR.value, SINK_REFUSED: SINK_REFUSED_SEVERITY}


class Answer(Protocol):
    """A sink server's answer (the InfluxDB writer's ``WriteResult``, the cloud client's ``PushResult``)."""

    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def retry_after(self) -> float | None: ...
    @property
    def outcome(self) -> str: ...


class SinkHealth:
    def __init__(self, name: str, subject: str, alarm: Callable[[Raise | Clear], None],
                 accepted_text: tuple[str, str], refused_text: Callable[[int, str], tuple[str, str]],
                 clock: Clock) -> None:
        """``name`` for logs ("InfluxDB"); ``refused_text(status, reason)`` gives the alarm's zh and en text;
        ``clock`` times the ``sink_refused`` alarm (the gateway's clock)."""
        self.clock = clock
        self.name, self.subject, self.alarm = name, subject, alarm
        self.accepted_text, self.refused_text = accepted_text, refused_text
        self.failures = 0
        self.retry_after: float | None = None
        self.refused = False
        self._cleared_once = False
        self.last_error: str | None = None

    def failed(self, status: int, reason: str) -> None:
        """Any answer but a success: remembered for /healthz until the next success."""
        self.last_error = f"HTTP {status}: {reason}" if status else reason

    def unavailable(self, retry_after: float | None) -> None:
        if not self.failures:  # once per outage, not at every retry
            log.warning("%s unavailable (%s); rows kept, retrying with back-off", self.name, self.last_error)
        self.failures += 1
        self.retry_after = retry_after

    def refuse(self, status: int, reason: str) -> None:
        self.failures += 1
        log.error("%s refuses our data (%s); rows kept", self.name, self.last_error)
        if not self.refused:
            self.refused = True
            zh, en = self.refused_text(status, reason[:200])
            self.alarm(Raise(type=SINK_REFUSED, severity=SINK_REFUSED_SEVERITY, subject=self.subject,
                             tool=None, tag=None, station=None, ts=self.clock(), text_zh=zh, text_en=en))

    def must_wait(self, answer: Answer) -> bool:
        """A failed answer noted; True when the rows must wait for the back-off (no answer, or refused)."""
        self.failed(answer.status, answer.reason)
        if answer.outcome == RETRY:
            self.unavailable(answer.retry_after)
            return True
        if answer.outcome == REFUSED:
            self.refuse(answer.status, answer.reason)
            return True
        return False

    def accepted(self) -> None:
        if self.failures:
            log.info("%s accepts our data again", self.name)
        self.failures = 0
        self.last_error = None
        if self.refused or not self._cleared_once:  # also clears one left from before a restart
            self.refused, self._cleared_once = False, True
            zh, en = self.accepted_text
            self.alarm(Clear(type=SINK_REFUSED, subject=self.subject, reason_zh=zh, reason_en=en))

    def backoff(self, cap: float) -> float:
        delay = backoff(failures=self.failures, cap=cap, refused=self.refused, retry_after=self.retry_after)
        self.retry_after = None
        return delay
