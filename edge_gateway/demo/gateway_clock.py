"""Give the in-process gateway the demo's day clock.

The gateway reads its clock through ``now_ms()`` in three modules (the
pipeline's "now" for rules and ticks, the receive time of each message, the
engine's start time). The demo replaces those three names in this process
only; a missing name fails loudly instead of leaving the gateway on real time.
A ``GatewayOptions.clock`` would make this unnecessary (asked for in the
demo's report).
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..errors import SebiaoError

MODULES = ("edge_gateway.pipeline", "edge_gateway.mqtt_link", "edge_gateway.gateway")


def use_clock(now_ms: Callable[[], int]) -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        if not callable(getattr(module, "now_ms", None)):
            raise SebiaoError(f"{name} has no now_ms(): the demo cannot give the gateway its day clock")
        setattr(module, "now_ms", now_ms)
