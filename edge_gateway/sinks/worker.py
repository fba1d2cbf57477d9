"""The life cycle the sink workers share (the InfluxDB drain, the cloud push).

One thread runs ``round()`` until stopped: a round returns how long to wait
before the next (0 = go on at once); disk trouble (``StoreError``) is kept in
``last_error`` for /healthz and tried again a second later. The depth is
counted once and then followed without a query per round: + the rows the
writer committed (``added``), - the rows this worker removed (``removed``).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Generic, Protocol, TypeVar

from edge_gateway.errors import StoreError
from edge_gateway.sinks.health import SinkHealth

log = logging.getLogger(__name__)


class WorkerOutbox(Protocol):
    """A worker's own connection to its outbox table."""

    def depth(self) -> int: ...
    def close(self) -> None: ...


class Sender(Protocol):
    """A worker's client to its sink."""

    def close(self) -> None: ...


OutboxT = TypeVar("OutboxT", bound=WorkerOutbox)


class SinkWorker(Generic[OutboxT]):
    def __init__(self, name: str, outbox: OutboxT, sender: Sender, added: Callable[[], int],
                 health: SinkHealth) -> None:
        """``outbox``: the worker's own connection (``close()``, ``depth()``); ``sender``: its
        client to the sink (``close()``); ``added``: rows the writer committed so far;
        ``health``: its back-off and ``sink_refused`` state, which also holds the last error."""
        self.worker_name, self.outbox, self._sender, self._added = name, outbox, sender, added
        self.health = health
        self._base = outbox.depth() - added()
        self.removed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sebiao-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._sender.close()
        if not self._thread.is_alive():
            self.outbox.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def depth(self) -> int:
        """Rows waiting (for /healthz and /metrics, from any thread; no query)."""
        return self._base + self._added() - self.removed

    @property
    def last_error(self) -> str | None:
        return self.health.last_error

    @last_error.setter
    def last_error(self, value: str | None) -> None:
        self.health.last_error = value

    def round(self) -> float:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.round()
            except StoreError as exc:  # disk trouble: reported, tried again
                self.last_error = str(exc)
                log.error("%s: %s", self.worker_name, exc)
                delay = 1.0
            if delay:
                self._stop.wait(delay)
