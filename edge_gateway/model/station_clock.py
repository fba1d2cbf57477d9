"""A station's clock, judged from its events: which time an event counts at, and the ``station_clock`` alarm. Pure.

A station stamps each event with its own clock (``ts``, NTP-set; 0 while unset).
The gateway cannot trust that clock blindly, and knows two things for sure:

- an event cannot have happened after the gateway received it, so ``ts`` later
  than the receive time means the station's clock is *ahead*;
- a station sends its events oldest first (its flash buffer is a queue, across
  reboots too), so an event cannot have happened before the events the station
  sent earlier: ``ts`` before the station's *mark* (the newest of its own
  times the gateway counted) means the station's clock went *back*. Without a mark (no
  event of the station stored yet), ``NO_MARK_WINDOW_MS`` before the receive
  time stands in: a station does not hold events that long. While the gateway's
  own clock is behind the mark (it was set back), nothing is judged *back*.

What it cannot tell is a clock slightly behind from an event sent late out of a
buffer: both look like an older ``ts``, so an older ``ts`` after the mark counts
as it is (``docs/protocol.md``, "Station clocks").

Such an event counts at the gateway's receive time; the station's ``ts`` is kept
as evidence (``events.station_ts``) and the event carries a note. Beyond
``CLOCK_TOLERANCE_MS`` ahead or ``BACK_TOLERANCE_MS`` back the ``station_clock``
alarm is raised; an event whose ``ts`` is within ``CLOCK_TOLERANCE_MS`` of its
receive time clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.model import alarm_text
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.model.workshop import Rules, Station
from sebiao_common.alarms import AlarmType

STATION_CLOCK = AlarmType.STATION_CLOCK.value
CLOCK_TOLERANCE_MS = 60_000  # NTP keeps a station within a second; a minute ahead is a clock that is wrong
# Back is judged against the station's own earlier events, which a scripted or re-flashed station may send a
# little out of order; minutes are a clock set back, not a reordering.
BACK_TOLERANCE_MS = 5 * 60_000
NO_MARK_WINDOW_MS = 30 * 24 * 3600 * 1000  # the broker forgets a session after 30 days (docs/broker.md)


@dataclass(frozen=True, kw_only=True)
class ClockReading:
    """How one event's time counts."""

    ts: int  # the time the event counts at (ms, gateway clock)
    trusted: bool = False  # the station's own ts counted (clamped to the receive time at most): it moves the mark
    note: str | None = None  # written on the event when its own ts was not used
    decision: Raise | Clear | None = None


def _span(ms: int) -> tuple[str, str]:
    seconds = abs(ms) // 1000
    for size, zh, en in ((86_400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {zh}", f"{seconds / size:.1f} {en}"
    return f"{seconds} 秒", f"{seconds} s"


def read_clock(station: Station, ts: int, received_at: int, mark: int | None, alarmed: bool,
               rules: Rules) -> ClockReading:
    """``ts``: the event's time as the station sent it (0: its clock is not set); ``mark``: the newest time
    counted for this station so far (None: none yet); ``alarmed``: its ``station_clock`` alarm is active."""
    if ts == 0:
        return ClockReading(ts=received_at)
    # The floor no event of this station can lie below. None when the gateway's own clock is behind the mark:
    # it was set back, and judges no station against it until it has passed the mark again.
    floor = received_at - NO_MARK_WINDOW_MS if mark is None else mark if mark <= received_at else None
    if ts > received_at + CLOCK_TOLERANCE_MS:
        span = _span(ts - received_at)
        text = alarm_text.station_clock_ahead(station, span)
        note = (f"站点时钟快 {span[0]}，按网关接收时间记录 / station clock {span[1]} ahead: counted at the "
                "gateway's receive time")
    elif floor is not None and ts < floor - BACK_TOLERANCE_MS:
        span = _span(floor - ts if mark is not None else received_at - ts)
        text = alarm_text.station_clock_back(station, span, earlier_events=mark is not None)
        note = (f"站点时钟倒退 {span[0]}，按网关接收时间记录 / station clock {span[1]} back: counted at the "
                "gateway's receive time")
    else:
        right = ts >= received_at - CLOCK_TOLERANCE_MS  # sent at once and on time, not out of a buffer
        clear = Clear(type=STATION_CLOCK, subject=station.id, reason_zh="读卡站时钟已正确",
                      reason_en="the station's clock is right again") if alarmed and right else None
        return ClockReading(ts=min(ts, received_at), trusted=True, decision=clear)
    decision = None if alarmed else Raise(
        type=STATION_CLOCK, severity=rules.severity_of(STATION_CLOCK), subject=station.id, tool=None, tag=None,
        station=station.id, ts=received_at, text_zh=text[0], text_en=text[1])
    return ClockReading(ts=received_at, note=note, decision=decision)
