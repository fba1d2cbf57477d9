"""What an HTTP sink's answer means, and how long to wait before trying again.

The InfluxDB drain, the cloud push and the cloud's own InfluxDB drain all sort
a server's answer the same way (:func:`classify`) and back off the same way
(:func:`backoff`): exponentially with jitter, honouring Retry-After; they
post through the same kind of connection pool (:func:`sink_pool`).
"""

from __future__ import annotations

import email.utils
import random
import time

import urllib3

OK, REJECTED, TOO_LARGE, REFUSED, RETRY = "ok", "rejected", "too_large", "refused", "retry"
# A cloud batch that carries an alarm transition says so (the push worker sets it): the cloud serves such
# batches in a lane of their own, ahead of the queue of the others (docs/cloud-ingest.md, "Back-pressure")
ALARM_HEADER = "X-Sebiao-Alarm"
FIRST_DELAY = 0.25  # seconds after the first failure; doubled per failure up to the cap
LONGEST_RETRY_AFTER = 3600.0  # a server's Retry-After is honoured up to an hour


def classify(status: int) -> str:
    """What to do with a batch after this answer.

    2xx done; 400/422 the lines are bad (dead letters, never retried forever);
    413 split the batch; 401/403 (and 404: no such database or bucket, and other
    4xx that mean a wrong URL) keep the rows and alarm; 429, 5xx and no answer:
    back off and retry.
    """
    if 200 <= status < 300:
        return OK
    if status in (400, 422):
        return REJECTED
    if status == 413:
        return TOO_LARGE
    if status == 429 or status >= 500 or status == 0:
        return RETRY
    return REFUSED


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(*, failures: int, cap: float, refused: bool = False, retry_after: float | None = None) -> float:
    """Seconds to wait after ``failures`` failures in a row; a refusal waits the longest (``cap``).

    Half the delay is random, so many gateways that lost the same server do not
    come back in step; a server's Retry-After is a floor.
    """
    delay = cap if refused else min(cap, FIRST_DELAY * 2 ** min(failures, 20))
    delay = delay / 2 + random.uniform(0, delay / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, LONGEST_RETRY_AFTER))
    return delay


def sink_pool(timeout_seconds: float) -> urllib3.PoolManager:
    """One kept-alive connection and no retries of urllib3's own: the worker owns retrying (:func:`backoff`)."""
    return urllib3.PoolManager(num_pools=1, maxsize=1, retries=False,
                               timeout=urllib3.Timeout(connect=min(5.0, timeout_seconds), read=timeout_seconds))
