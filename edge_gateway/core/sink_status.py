"""What the gateway knows of a sink worker (the InfluxDB drain, the cloud push).

The workers live in ``sinks/``; the gateway holds each started one as a
:class:`RunningSink` until it stops them, and ``/healthz`` shows each one's
:class:`SinkStatus`. Neither names a sink's class nor asks a worker what it can do.
"""

from __future__ import annotations

from typing import Protocol


class SinkStatus(Protocol):
    """What ``/healthz`` shows of a sink worker (from any thread, without a query)."""

    @property
    def alive(self) -> bool: ...

    @property
    def last_error(self) -> str | None: ...

    def depth(self) -> int: ...


class RunningSink(SinkStatus, Protocol):
    """A started sink worker, as the gateway holds it."""

    def stop(self, timeout: float = 10.0) -> None: ...
