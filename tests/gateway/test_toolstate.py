"""The tool state machine, table-driven: (state before, observation) -> state after."""

import pytest

from edge_gateway.model.toolstate import (
    Observation,
    StationRef,
    ToolState,
    WashCheck,
    apply,
    disinfected,
)
from sebiao_common.domain import Location, StationKind

RACK_R = StationRef(id="rack-red-1", kind=StationKind.RACK, zone="red")
RACK_R2 = StationRef(id="rack-red-2", kind=StationKind.RACK, zone="red")
SINK_R = StationRef(id="sink-red-1", kind=StationKind.SINK, zone="red")
SINK_W = StationRef(id="sink-white-1", kind=StationKind.SINK, zone="white")
DIS = StationRef(id="dis-1", kind=StationKind.DISINFECT, zone="white")
DWELL = 15_000  # rules.wash_min_seconds in ms
ON, OUT, SINK, UNK = Location.ON_RACK, Location.OUT, Location.AT_SINK, Location.UNKNOWN


def state(location, station=None, since=0, taken_at=None, washed=False, pending=()):
    return ToolState(tool="KN-R-01", color="red", location=location, station=station, since=since,
                     taken_at=taken_at, washed=washed, last_seen=since, pending=pending)


# before, station, action, ts -> location, station, taken_at, washed, late, repair?, judge_return
CASES = [
    ("first seen on its rack", state(UNK), RACK_R, "placed", 10, ON, "rack-red-1", None, False, False, False, False),
    ("first seen taken", state(UNK), RACK_R, "removed", 10, OUT, "rack-red-1", 10, False, False, False, False),
    ("taken from its rack", state(ON, "rack-red-1", 5), RACK_R, "removed", 10, OUT, "rack-red-1", 10, False, False, False, False),
    ("at its colour's sink: not washed until it leaves", state(OUT, "rack-red-1", 10, 10), SINK_R, "placed", 20, SINK, "sink-red-1", 10, False, False, False, False),
    ("left its colour's sink after the dwell: washed", state(SINK, "sink-red-1", 20, 10), SINK_R, "removed", 20 + DWELL, OUT, "sink-red-1", 10, True, False, False, False),
    ("left its colour's sink too soon: a tag passing by", state(SINK, "sink-red-1", 20, 10), SINK_R, "removed", 19 + DWELL, OUT, "sink-red-1", 10, False, False, False, False),
    ("left the sink, still washed", state(SINK, "sink-red-1", 20, 10, True), SINK_R, "removed", 30, OUT, "sink-red-1", 10, True, False, False, False),
    ("returned after a wash", state(OUT, "sink-red-1", 30, 10, True), RACK_R, "placed", 40, ON, "rack-red-1", 10, True, False, False, True),
    ("returned without a wash", state(OUT, "rack-red-1", 10, 10), RACK_R, "placed", 40, ON, "rack-red-1", 10, False, False, False, True),
    ("at another colour's sink: no wash", state(OUT, "rack-red-1", 10, 10), SINK_W, "placed", 20, SINK, "sink-white-1", 10, False, False, False, False),
    ("returned straight from the sink (missed removal)", state(SINK, "sink-red-1", 20, 10, True), RACK_R, "placed", 40, ON, "rack-red-1", 10, True, False, True, True),
    ("placed twice: missed removal, not judged", state(ON, "rack-red-1", 5), RACK_R2, "placed", 40, ON, "rack-red-2", None, False, False, True, False),
    ("removed from a rack it was not on", state(ON, "rack-red-1", 5), RACK_R2, "removed", 40, OUT, "rack-red-2", 40, False, False, True, False),
    ("seen at the sink while on the rack: missed taking", state(ON, "rack-red-1", 5), SINK_R, "placed", 40, SINK, "sink-red-1", 40, False, False, True, False),
    ("left a sink it was not seen at: no dwell, no wash", state(OUT, "rack-red-1", 10, 10), SINK_R, "removed", 40, OUT, "sink-red-1", 10, False, False, True, False),
    ("in and out of a disinfect station: no wash", state(SINK, "dis-1", 20, 10), DIS, "removed", 20 + 10 * DWELL, OUT, "dis-1", 10, False, False, False, False),
    ("late event does not move the tool", state(ON, "rack-red-1", 100, 50, True), RACK_R, "removed", 60, ON, "rack-red-1", 50, True, True, False, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_transitions(case):
    _, before, station, action, ts, location, where, taken_at, washed, late, repaired, judged = case
    step = apply(before, Observation(station=station, action=action, ts=ts), DWELL)
    after = step.after
    assert (after.location, after.station, after.taken_at, after.washed) == (location, where, taken_at, washed)
    assert step.late is late
    assert (step.repair is not None) is repaired
    assert step.judge_return is judged
    assert after.last_seen == max(before.last_seen, ts)


def test_late_wash_inside_a_pending_check_resolves_it():
    before = state(ON, "rack-red-1", 100_000, 10, False,
                   pending=(WashCheck(taken_at=10, returned_at=100_000, rack="rack-red-1"),))
    placed = apply(before, Observation(station=SINK_R, action="placed", ts=50), DWELL)
    assert placed.late and not placed.washed_now and placed.after.pending == before.pending
    step = apply(placed.after, Observation(station=SINK_R, action="removed", ts=50 + DWELL), DWELL)
    assert step.late and step.washed_now
    assert step.after.pending == ()


def test_a_late_tag_passing_the_sink_is_no_wash():
    check = WashCheck(taken_at=10, returned_at=100_000, rack="rack-red-1")
    before = state(ON, "rack-red-1", 100_000, 10, False, pending=(check,))
    placed = apply(before, Observation(station=SINK_R, action="placed", ts=50), DWELL)
    step = apply(placed.after, Observation(station=SINK_R, action="removed", ts=1050), DWELL)
    assert not step.washed_now and step.after.pending == (check,)


DISINFECTED = [
    # name, state, hold (start, end) -> disinfected, covers the last return, pending left
    ("in use, cycle after the taking", state(OUT, "dis-1", 500, 10), (100, 400), True, False, 0),
    # The use that ended with the return was disinfected: the closing roll call reads it (as ``washed``).
    ("back on its rack, cycle in that use", state(ON, "rack-red-1", 500, 10), (100, 400), True, True, 0),
    ("back on its rack, cycle of an older use", state(ON, "rack-red-1", 500, 300), (100, 200), False, False, 0),
    ("a pending check inside the cycle's use",
     state(ON, "rack-red-1", 900, 600, pending=(WashCheck(taken_at=10, returned_at=500, rack="r", disinfect=True),)),
     (100, 400), False, True, 0),
    ("a wash check is not a disinfection check",
     state(ON, "rack-red-1", 900, 600, pending=(WashCheck(taken_at=10, returned_at=500, rack="r"),)),
     (100, 400), False, False, 1),
]


@pytest.mark.parametrize("case", DISINFECTED, ids=[c[0] for c in DISINFECTED])
def test_a_passing_cycle_disinfects_the_tools_in_it(case):
    _, before, (start, end), is_disinfected, covers, pending = case
    after, last = disinfected(before, start, end)
    assert (after.disinfected, last, len(after.pending)) == (is_disinfected, covers, pending)


def test_late_wash_outside_the_interval_keeps_the_check():
    check = WashCheck(taken_at=10, returned_at=100, rack="rack-red-1")
    before = state(ON, "rack-red-1", 200, 10, False, pending=(check,))
    placed = apply(before, Observation(station=SINK_R, action="placed", ts=150), DWELL)
    assert apply(placed.after, Observation(station=SINK_R, action="removed", ts=150 + DWELL),
                 DWELL).after.pending == (check,)


def test_late_wash_at_another_colour_does_not_count():
    before = state(ON, "rack-red-1", 100, 10, False,
                   pending=(WashCheck(taken_at=10, returned_at=100, rack="rack-red-1"),))
    placed = apply(before, Observation(station=SINK_W, action="placed", ts=50), DWELL)
    assert apply(placed.after, Observation(station=SINK_W, action="removed", ts=50 + DWELL), DWELL).after.pending
