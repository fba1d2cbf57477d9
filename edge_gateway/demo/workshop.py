"""The demo's workshop: examples/workshop.yaml (shipped in the wheel as
``edge_gateway/_examples``), with the liveness window stretched for a compressed day."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from edge_gateway.config import load_config
from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.errors import SebiaoError

HERE = Path(__file__).resolve().parent.parent
CANDIDATES = (HERE / "_examples" / "workshop.yaml", HERE.parent / "examples" / "workshop.yaml")
# Stations send a status every few real seconds, which is hours of the demo's
# day: the silence that counts as offline is one whole (virtual) day.
OFFLINE_AFTER_S = 86400
# A fast demo squeezes a wash of minutes into milliseconds of its clock: any placed -> removed pair at the
# sink counts as the wash it stands for (rules.wash_min_seconds 0).
WASH_MIN_S = 0


def example_workshop_path() -> Path:
    for path in CANDIDATES:
        if path.is_file():
            return path
    raise SebiaoError("the example workshop is not installed: none of " + ", ".join(map(str, CANDIDATES)))


def demo_workshop() -> WorkshopConfig:
    config = load_config(example_workshop_path())
    if config.broker is not None:
        raise SebiaoError(f"{config.file}: has a broker section; the demo runs its own embedded broker")
    return replace(config, rules=replace(config.rules, station_offline_after_seconds=OFFLINE_AFTER_S,
                                         wash_min_seconds=WASH_MIN_S))
