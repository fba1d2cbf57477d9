"""Station liveness: pure functions over a station's state, like the tool rules.

A station is *online* from its retained status ``online: true`` or any message,
and *offline* on its last will or after ``station_offline_after_seconds`` of
silence (gateway clock). It is *current* -- its evidence complete -- when it is
online and its last status reported an empty offline buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edge_gateway.model import alarm_text
from edge_gateway.model.protocol import StationStatus
from edge_gateway.model.rules import Clear, Decision, Raise
from edge_gateway.model.workshop import Rules, Station


@dataclass(frozen=True, kw_only=True)
class StationState:
    id: str
    online: bool = False
    last_seen: int = 0  # gateway clock, ms
    buffer_depth: int = 0
    health_json: str = "{}"  # the last status' health fields, as received
    alarmed: bool = False  # a station_offline alarm was raised for this silence

    @property
    def current(self) -> bool:
        return self.online and self.buffer_depth == 0


def _back(station: Station) -> Clear:
    return Clear(type="station_offline", subject=station.id, reason_zh="读卡站已恢复在线",
                 reason_en="the station is back online")


def _offline(station: Station, now: int, will: bool, rules: Rules) -> Raise:
    zh, en = alarm_text.station_offline(station, will)
    return Raise(type="station_offline", severity=rules.severity_of("station_offline"), subject=station.id,
                 tool=None, tag=None, station=station.id, ts=now, text_zh=zh, text_en=en)


def on_status(state: StationState, status: StationStatus, health_json: str, station: Station,
              now: int, rules: Rules) -> tuple[StationState, tuple[Decision, ...]]:
    depth = status.health.get("buffer_depth", 0)
    depth = depth if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0 else 0
    after = replace(state, online=status.online, last_seen=now, buffer_depth=depth if status.online else 0,
                    health_json=health_json, alarmed=not status.online)
    if status.online:
        return after, ((_back(station),) if state.alarmed else ())
    return after, (_offline(station, now, will=True, rules=rules),)


def on_message(state: StationState, station: Station, now: int) -> tuple[StationState, tuple[Decision, ...]]:
    """Any event from the station proves it is alive."""
    after = replace(state, online=True, last_seen=now, alarmed=False)
    return after, ((_back(station),) if state.alarmed else ())


def on_tick(state: StationState, station: Station, now: int, rules: Rules
            ) -> tuple[StationState, tuple[Decision, ...]]:
    silent = now - state.last_seen > rules.station_offline_after_seconds * 1000
    if silent and not state.alarmed:
        return (replace(state, online=False, alarmed=True),
                (_offline(station, now, will=False, rules=rules),))
    return state, ()
