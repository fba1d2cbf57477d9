"""The tool state machine: pure, frozen values in, a new state and what happened out.

A tool is ``on_rack`` at a rack, ``out`` (in use), ``at_sink`` at a sink, or
``unknown`` until first seen. State follows event time: an event older than the
state's ``since`` is *late* (a station sent its offline buffer); it never moves
the tool back in time, but it still counts as evidence of a wash.

A tool seen somewhere the state machine did not expect (placed twice, removed
from a rack it was not on, ...) means a station event was missed: the state is
repaired and the repair is reported, and the step that was not seen is not
judged (no unwashed-return alarm for a taking nobody saw).
"""

from __future__ import annotations

from dataclasses import dataclass

from sebiao_common.domain import Location, StationKind


@dataclass(frozen=True, kw_only=True)
class StationRef:
    id: str
    kind: StationKind
    zone: str


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One accepted station event as the state machine sees it."""

    station: StationRef
    action: str  # placed | removed
    ts: int  # effective event time, ms since the epoch


@dataclass(frozen=True, kw_only=True)
class WashCheck:
    """A return judgement (unwashed, or undisinfected when ``disinfect``) waiting until the evidence is complete."""

    taken_at: int
    returned_at: int
    rack: str
    disinfect: bool = False


@dataclass(frozen=True, kw_only=True)
class ToolState:
    tool: str
    color: str
    location: Location = Location.UNKNOWN
    station: str | None = None  # where it is, or the station it last left
    since: int = 0  # event time of the last observation applied to the location
    taken_at: int | None = None  # when it left a rack (start of the current use)
    washed: bool = False  # washed (a dwell) at a sink of its own colour since taken_at
    last_seen: int = 0  # event time of the newest read of its tag (label health)
    pending: tuple[WashCheck, ...] = ()  # returns not judged yet, oldest first
    disinfected: bool = False  # in a passing disinfection cycle since taken_at
    late_sink: str | None = None  # a late 'placed' at a sink of its colour, waiting for its late 'removed'
    late_sink_at: int = 0


@dataclass(frozen=True, kw_only=True)
class Step:
    """What one observation did to a tool."""

    before: ToolState
    after: ToolState
    late: bool  # older than the state: evidence only, the location did not move
    repair: str | None = None  # the missed event, in words, when the state was repaired
    judge_return: bool = False  # a return from a use that was seen: judge washing
    washed_now: bool = False  # this observation ends a wash (a dwell) at a sink of the tool's colour


def apply(state: ToolState, obs: Observation, wash_min_ms: int = 0) -> Step:
    own_sink = obs.station.kind is StationKind.SINK and obs.station.zone == state.color
    if obs.ts < state.since:
        return _late(state, obs, own_sink, wash_min_ms)
    if obs.station.kind is StationKind.RACK:
        return _rack(state, obs)
    return _sink(state, obs, own_sink, wash_min_ms)


def _moved(before: ToolState, obs: Observation, location: Location, taken_at: int | None, washed: bool,
           pending: tuple[WashCheck, ...] | None = None, disinfected: bool | None = None) -> ToolState:
    # Built directly rather than with dataclasses.replace: this runs for every event.
    return ToolState(tool=before.tool, color=before.color, location=location, station=obs.station.id,
                     since=obs.ts, taken_at=taken_at, washed=washed, last_seen=max(before.last_seen, obs.ts),
                     pending=before.pending if pending is None else pending,
                     disinfected=before.disinfected if disinfected is None else disinfected,
                     late_sink=before.late_sink, late_sink_at=before.late_sink_at)


def _late(before: ToolState, obs: Observation, own_sink: bool, wash_min_ms: int) -> Step:
    pending, washed = before.pending, before.washed
    late_sink, late_sink_at, wash_at = before.late_sink, before.late_sink_at, None
    if own_sink and obs.action == "placed":
        late_sink, late_sink_at = obs.station.id, obs.ts
    elif own_sink and late_sink == obs.station.id and obs.ts - late_sink_at >= wash_min_ms:
        wash_at, late_sink = late_sink_at, None  # a buffered wash, placed then removed, long enough
    if wash_at is not None:
        pending = tuple(c for c in before.pending if c.disinfect or not c.taken_at <= wash_at <= c.returned_at)
        if before.location in (Location.OUT, Location.AT_SINK) and (before.taken_at or 0) <= wash_at:
            washed = True
        elif (before.location is Location.ON_RACK and before.taken_at is not None
              and before.taken_at <= wash_at <= before.since):
            washed = True  # the use that ended with its return was washed (the closing roll call reads this)
    after = ToolState(tool=before.tool, color=before.color, location=before.location, station=before.station,
                      since=before.since, taken_at=before.taken_at, washed=washed,
                      last_seen=max(before.last_seen, obs.ts), pending=pending, disinfected=before.disinfected,
                      late_sink=late_sink, late_sink_at=late_sink_at)
    return Step(before=before, after=after, late=True, washed_now=wash_at is not None)


def _rack(before: ToolState, obs: Observation) -> Step:
    sid = obs.station.id
    if obs.action == "removed":
        repair = None
        if before.location is not Location.UNKNOWN and not (
            before.location is Location.ON_RACK and before.station == sid
        ):
            repair = f"missed: placed on {sid}"
        after = _moved(before, obs, Location.OUT, taken_at=obs.ts, washed=False, disinfected=False)
        return Step(before=before, after=after, late=False, repair=repair)
    # placed: the tool is back on a rack
    repair = None
    judged = before.location in (Location.OUT, Location.AT_SINK) and before.taken_at is not None
    if before.location in (Location.ON_RACK, Location.AT_SINK):
        repair = f"missed: removed from {before.station}"
    after = _moved(before, obs, Location.ON_RACK, before.taken_at, before.washed)
    return Step(before=before, after=after, late=False, repair=repair, judge_return=judged)


def _sink(before: ToolState, obs: Observation, own_sink: bool, wash_min_ms: int) -> Step:
    """A sink, or a disinfect station (never a wash): placed = being cleaned there, removed = left it."""
    sid = obs.station.id
    repair = None
    taken_at = before.taken_at
    if before.location is Location.ON_RACK:
        repair = f"missed: removed from {before.station}"
        taken_at = obs.ts
    washed_now = False
    if obs.action == "placed":
        if before.location is Location.AT_SINK and before.station != sid:
            repair = f"missed: removed from {before.station}"
        location = Location.AT_SINK
    else:
        seen_placed = before.location is Location.AT_SINK and before.station == sid
        if not seen_placed:
            repair = repair or f"missed: placed at {sid}"
        placed_at = before.since if seen_placed else before.late_sink_at if before.late_sink == sid else None
        washed_now = own_sink and placed_at is not None and obs.ts - placed_at >= wash_min_ms
        location = Location.OUT
    if before.location is Location.UNKNOWN:
        taken_at = None
    washed = (before.washed and repair is None) or washed_now
    after = _moved(before, obs, location, taken_at, washed)
    return Step(before=before, after=after, late=False, repair=repair, washed_now=washed_now)


def disinfected(state: ToolState, hold_start: int, hold_end: int) -> tuple[ToolState, bool]:
    """A passing cycle held from ``hold_start`` to ``hold_end`` had the tool in it. Returns the new state and
    whether the cycle belongs to the use that ended with the tool's last return (its return was judged without
    it: a cycle's message comes after the cycle, so the undisinfected alarm of that return is cleared)."""
    in_use = state.location in (Location.OUT, Location.AT_SINK)
    taken = state.taken_at or 0
    pending = tuple(c for c in state.pending
                    if not (c.disinfect and c.taken_at <= hold_end and hold_start <= c.returned_at))
    last_use = state.location is Location.ON_RACK and taken <= hold_end and hold_start <= state.since
    # The use that ended with the return was disinfected too (the closing roll call reads this).
    after = ToolState(tool=state.tool, color=state.color, location=state.location, station=state.station,
                      since=state.since, taken_at=state.taken_at, washed=state.washed, last_seen=state.last_seen,
                      pending=pending, disinfected=state.disinfected or (in_use and taken <= hold_end) or last_use,
                      late_sink=state.late_sink, late_sink_at=state.late_sink_at)
    return after, last_use or len(pending) != len(state.pending)
