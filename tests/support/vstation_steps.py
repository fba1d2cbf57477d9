"""Stepping a virtual station (``edge_gateway.vstation.runner.VirtualStation``) in a test until something holds."""

from __future__ import annotations

import time
from collections.abc import Callable


def step_until(vs, condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Step ``vs`` every 20 ms until ``condition()`` is true; else AssertionError saying what was awaited and
    the station's state (its backlog, the link's last error, its remote settings and secrets)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        vs.step()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"{vs.id}: {what}: not reached in {timeout} s (backlog {vs.backlog}, link: "
                         f"{vs.station.link.last_error!r}, remote: {getattr(vs.station, 'remote', None)!r})")
