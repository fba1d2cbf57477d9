"""``rules.station_health``: when a station that keeps resetting raises ``station_resets``. Pure.

Kept apart from ``workshop.py`` so that ``station_health.py`` (the judgement) can import the workshop model
while the workshop model reads these rules. The defaults and why: ``docs/alarms.md``, "Station health".
"""

from __future__ import annotations

from dataclasses import dataclass

from sebiao_common.yamlfile import Node

KEYS = ("resets", "resets_within_minutes", "resets_quiet_minutes")


@dataclass(frozen=True, kw_only=True)
class HealthRules:
    # A station boots once per power-up: the owner's switch at night, a power cut. A flicker can make two
    # boots in a minute, an update one (two with a rollback). Three new boots within an hour is none of
    # these: a hang the watchdog ends, a reader the firmware keeps resetting for, a failing supply.
    resets: int = 3
    resets_within_minutes: int = 60
    # Cleared once the station ran this long without a new boot: a full window with no reset at all.
    resets_quiet_minutes: int = 60


def parse_health_rules(node: Node | None) -> HealthRules:
    """``rules.station_health`` of the config, or of the setup's plain form (the same keys)."""
    defaults = HealthRules()
    if node is None:
        return defaults
    node.mapping(optional=KEYS)
    resets, within, quiet = (node.get(k) for k in KEYS)
    return HealthRules(
        resets=resets.integer(2, 100) if resets else defaults.resets,
        resets_within_minutes=within.integer(1, 1440) if within else defaults.resets_within_minutes,
        resets_quiet_minutes=quiet.integer(1, 10080) if quiet else defaults.resets_quiet_minutes,
    )
