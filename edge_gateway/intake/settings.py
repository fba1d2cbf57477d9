"""The ``intake:`` section of the workshop config: how much one station may send, how much bad input is kept.

Optional, every key too; parsed here, by the part that owns it, with the same
errors as the rest of the config (file, field path, reason)::

    intake:
      station_rate: 20          # messages a second one station may send on average (events and status)
      station_burst: 1000       # messages one station may send at once beyond that rate
      flood_pause_seconds: 60   # a flooding station's topics are shut out this long; it is flooding
                                # until it kept to its rate this long (station_flood then clears)
      dead_letters:
        max_rows: 10000         # rejected messages kept in the dead_letters table, newest
        max_mb: 16              # and at most this many MB of them

The rates are ``rates.py``'s; the dead-letter bound is the store's
(``Store.dead_letter``): past either limit the oldest dead letters are deleted
and counted (``/healthz``, ``/metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.yamlfile import Node

MB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class IntakeSettings:
    station_rate: int = 20
    station_burst: int = 1000
    flood_pause_seconds: int = 60
    dead_letters_max_rows: int = 10_000
    dead_letters_max_bytes: int = 16 * MB


def intake_settings(config: WorkshopConfig) -> IntakeSettings:
    return parse_intake(config.section("intake"), config.file)


def parse_intake(data: object, file: str = "workshop.yaml") -> IntakeSettings:
    if data is None:
        return IntakeSettings()
    node = Node(file, "intake", data).mapping(optional=("station_rate", "station_burst", "flood_pause_seconds",
                                                                   "dead_letters"))
    defaults = IntakeSettings()

    def number(parent: Node, key: str, default: int, low: int, high: int) -> int:
        child = parent.get(key)
        return child.integer(low, high) if child is not None else default

    dead = node.get("dead_letters")
    if dead is not None:
        dead.mapping(optional=("max_rows", "max_mb"))
    return IntakeSettings(
        station_rate=number(node, "station_rate", defaults.station_rate, 1, 1_000_000),
        station_burst=number(node, "station_burst", defaults.station_burst, 1, 10_000_000),
        flood_pause_seconds=number(node, "flood_pause_seconds", defaults.flood_pause_seconds, 1, 3600),
        dead_letters_max_rows=(number(dead, "max_rows", defaults.dead_letters_max_rows, 100, 100_000_000)
                               if dead else defaults.dead_letters_max_rows),
        dead_letters_max_bytes=(number(dead, "max_mb", defaults.dead_letters_max_bytes // MB, 1, 1_000_000) * MB
                                if dead else defaults.dead_letters_max_bytes),
    )
