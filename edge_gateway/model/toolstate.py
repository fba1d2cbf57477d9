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
    """An unwashed-return judgement waiting until the sinks' evidence is complete."""

    taken_at: int
    returned_at: int
    rack: str


@dataclass(frozen=True, kw_only=True)
class ToolState:
    tool: str
    color: str
    location: Location = Location.UNKNOWN
    station: str | None = None  # where it is, or the station it last left
    since: int = 0  # event time of the last observation applied to the location
    taken_at: int | None = None  # when it left a rack (start of the current use)
    washed: bool = False  # seen at a sink of its own colour since taken_at
    last_seen: int = 0  # event time of the newest read of its tag (label health)
    pending: tuple[WashCheck, ...] = ()  # returns not judged yet, oldest first


@dataclass(frozen=True, kw_only=True)
class Step:
    """What one observation did to a tool."""

    before: ToolState
    after: ToolState
    late: bool  # older than the state: evidence only, the location did not move
    repair: str | None = None  # the missed event, in words, when the state was repaired
    judge_return: bool = False  # a return from a use that was seen: judge washing
    washed_now: bool = False  # this observation is a wash at a sink of the tool's colour


def apply(state: ToolState, obs: Observation) -> Step:
    own_sink = obs.station.kind is StationKind.SINK and obs.station.zone == state.color
    if obs.ts < state.since:
        return _late(state, obs, own_sink)
    if obs.station.kind is StationKind.RACK:
        return _rack(state, obs)
    return _sink(state, obs, own_sink)


def _moved(before: ToolState, obs: Observation, location: Location, taken_at: int | None, washed: bool,
           pending: tuple[WashCheck, ...] | None = None) -> ToolState:
    # Built directly rather than with dataclasses.replace: this runs for every event.
    return ToolState(tool=before.tool, color=before.color, location=location, station=obs.station.id,
                     since=obs.ts, taken_at=taken_at, washed=washed, last_seen=max(before.last_seen, obs.ts),
                     pending=before.pending if pending is None else pending)


def _late(before: ToolState, obs: Observation, own_sink: bool) -> Step:
    pending, washed = before.pending, before.washed
    if own_sink:
        pending = tuple(c for c in before.pending if not c.taken_at <= obs.ts <= c.returned_at)
        if before.location in (Location.OUT, Location.AT_SINK) and (before.taken_at or 0) <= obs.ts:
            washed = True
    after = ToolState(tool=before.tool, color=before.color, location=before.location, station=before.station,
                      since=before.since, taken_at=before.taken_at, washed=washed,
                      last_seen=max(before.last_seen, obs.ts), pending=pending)
    return Step(before=before, after=after, late=True, washed_now=own_sink)


def _rack(before: ToolState, obs: Observation) -> Step:
    sid = obs.station.id
    if obs.action == "removed":
        repair = None
        if before.location is not Location.UNKNOWN and not (
            before.location is Location.ON_RACK and before.station == sid
        ):
            repair = f"missed: placed on {sid}"
        after = _moved(before, obs, Location.OUT, taken_at=obs.ts, washed=False)
        return Step(before=before, after=after, late=False, repair=repair)
    # placed: the tool is back on a rack
    repair = None
    judged = before.location in (Location.OUT, Location.AT_SINK) and before.taken_at is not None
    if before.location in (Location.ON_RACK, Location.AT_SINK):
        repair = f"missed: removed from {before.station}"
    after = _moved(before, obs, Location.ON_RACK, before.taken_at, before.washed)
    return Step(before=before, after=after, late=False, repair=repair, judge_return=judged)


def _sink(before: ToolState, obs: Observation, own_sink: bool) -> Step:
    sid = obs.station.id
    repair = None
    taken_at = before.taken_at
    if before.location is Location.ON_RACK:
        repair = f"missed: removed from {before.station}"
        taken_at = obs.ts
    if obs.action == "placed":
        if before.location is Location.AT_SINK and before.station != sid:
            repair = f"missed: removed from {before.station}"
        location = Location.AT_SINK
    else:
        if not (before.location is Location.AT_SINK and before.station == sid):
            repair = repair or f"missed: placed at {sid}"
        location = Location.OUT
    if before.location is Location.UNKNOWN:
        taken_at = None
    washed = (before.washed and repair is None) or own_sink
    after = _moved(before, obs, location, taken_at, washed)
    return Step(before=before, after=after, late=False, repair=repair, washed_now=own_sink)
