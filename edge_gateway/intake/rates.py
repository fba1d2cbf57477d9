"""How fast one station may send: a token bucket per station, so one station cannot starve the others.

Why at the gateway, and why over-rate messages are dropped there: the broker
acknowledges a station's QoS 1 message itself, at once, and queues it for the
gateway's one persistent session, a queue all stations share (Mosquitto's
``max_queued_messages``, past which it drops silently, whoever sent the
message). Holding the gateway's PUBACK back would not slow the station down
(its flow control ends at the broker); it would only fill the gateway's shared
in-flight window, so the broker would queue and drop the *other* stations'
events sooner. Mosquitto has no per-publisher rate limit. So the gateway takes
a station's messages off the broker's queue as fast as they come, and what a
station sends beyond its rate is acknowledged and dropped at once, counted,
its first of a spell kept as a dead letter, and the ``station_flood`` gateway
alarm raised: the queue never fills, and the other stations' events go through.

A real station never comes near the rate: the firmware sends one event at a
time, at most ``timing.replay_per_s`` a second (10 by default), even when it
empties its buffer after an outage. What the broker held for the gateway while
the gateway was away comes at once when it reconnects, so each station is then
granted an allowance for that time (:meth:`StationRates.allow_backlog`).
"""

from __future__ import annotations

from collections.abc import Iterable

from edge_gateway.model.rules import Clear, Raise
from sebiao_common.alarms import GatewayAlarmType, Severity

STATION_FLOOD = GatewayAlarmType.STATION_FLOOD.value
OTHER = ""  # the bucket of topics that name no station of the workshop
# A station's traffic while the gateway is away, generously: a status every
# 60 s and a busy rack's events come to about 100 an hour.
BACKLOG_PER_HOUR = 600
BACKLOG_HOURS_MAX = 48  # the broker queues about two days of a workshop (docs/broker.md)


class StationRates:
    """Token buckets by station id; not thread-safe (the MQTT thread alone uses it)."""

    def __init__(self, rate: float, burst: int, stations: Iterable[str]) -> None:
        """``rate``: messages a second a station may send on average; ``burst``: how many at once beyond that."""
        self.rate, self.burst = rate, burst
        self._level = {station: float(burst) for station in (*stations, OTHER)}
        self._at: dict[str, float] = {}  # when each bucket was last filled (monotonic s)

    def key(self, station: str) -> str:
        return station if station in self._level else OTHER

    def admit(self, station: str, now: float) -> bool:
        """Take a token of ``station``'s bucket (``now``: monotonic seconds); False when it has none."""
        key = self.key(station)
        level = self._level[key]
        if level < self.burst:
            level = min(self.burst, level + (now - self._at.get(key, now)) * self.rate)
        self._at[key] = now
        if level < 1:
            self._level[key] = level
            return False
        self._level[key] = level - 1
        return True

    def full(self, station: str, now: float) -> bool:
        """Whether ``station``'s bucket has filled up again (it has kept to its rate for a while)."""
        key = self.key(station)
        return self._level[key] + (now - self._at.get(key, now)) * self.rate >= self.burst

    def allow_backlog(self, away_seconds: float) -> None:
        """The broker delivers at once what it queued while the gateway was away: allow each station that much."""
        hours = min(max(away_seconds, 0.0) / 3600, BACKLOG_HOURS_MAX)
        extra = hours * BACKLOG_PER_HOUR
        for key, level in self._level.items():
            self._level[key] = max(level, self.burst + extra)


def flood_raise(station: str, rate: int, burst: int, ts: int) -> Raise:
    who = station or "(other)"
    return Raise(type=STATION_FLOOD, severity=Severity.MAJOR.value, subject=who, tool=None, tag=None,
                 station=station or None, ts=ts,
                 text_zh=f"读卡站消息过多：{who} 每秒发送超过 {rate} 条（可突发 {burst} 条），超出部分已确认并丢弃"
                         "（已计数），以免挤掉其他读卡站的事件。请检查该读卡站是否故障或被冒用。",
                 text_en=f"Station flooding: {who} sends more than {rate} messages a second (bursts of {burst}); "
                         "the excess is acknowledged and dropped (counted) so the other stations' events get "
                         "through. Check the station for a fault or a stolen account.")


def flood_clear(station: str) -> Clear:
    return Clear(type=STATION_FLOOD, subject=station or "(other)", reason_zh="读卡站已恢复正常发送速率",
                 reason_en="the station keeps to its rate again")
