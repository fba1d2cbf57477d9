"""Rate-limited logging for the embedded broker: a line a client can cause must not fill the disk.

amqtt logs per packet (a PUBACK for an unknown id, a refused publish), and so
do our own broker warnings (a message dropped for a stuck subscriber); a
misbehaving station or a burst would otherwise write one line per message
(hundreds of megabytes). :class:`LogLimit` lets ``burst`` records of one call
site (logger, file, line) through per ``period`` seconds and counts the rest;
the next record let through from that site says how many were left out.

amqtt logs on many loggers under ``amqtt``, and a logger's filters apply only
to the records logged on that very logger, so :func:`limit_amqtt_logs` adds
the filter to each of them (once the broker is built, when its plugins'
loggers exist). (The ``log-rate-limit`` package does the same per-site
limiting; this is the part we need, without a new dependency.)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

PERIOD_SECONDS = 60.0
BURST = 10  # lines per call site and period


@dataclass
class _Site:
    window_start: float
    passed: int = 0
    suppressed: int = 0


class LogLimit(logging.Filter):
    def __init__(self, burst: int = BURST, period: float = PERIOD_SECONDS) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._sites: dict[tuple[str, str, int], _Site] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.pathname, record.lineno)
        now = time.monotonic()
        with self._lock:
            site = self._sites.get(key)
            if site is None:
                site = self._sites[key] = _Site(window_start=now)
            elif now - site.window_start >= self.period:
                site.window_start, site.passed = now, 0
            if site.passed >= self.burst:
                site.suppressed += 1
                return False
            site.passed += 1
            suppressed, site.suppressed = site.suppressed, 0
        if suppressed:
            record.msg = f"{record.getMessage()} (另有 {suppressed} 条同类日志未记录 / {suppressed} similar lines left out)"
            record.args = None
        return True


LIMIT = LogLimit()  # one per process: amqtt's loggers and the embedded broker's share it


def limit_amqtt_logs(limit: LogLimit) -> None:
    """Route every record of amqtt's loggers through ``limit``."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (name == "amqtt" or name.startswith("amqtt.")) and isinstance(logger, logging.Logger) \
                and limit not in logger.filters:
            logger.addFilter(limit)
