"""Every alarm type is raised when it should be, and a clean working day raises none.

The engine runs in-process against a real SQLite store, with a controlled clock.
"""

import dataclasses

import pytest
from workshop_sim import EXAMPLE, Sim

from edge_gateway.config import load_config
from edge_gateway.errors import AlarmActionError, PayloadError

SINK_OF = {"red": "sink-red-1", "green": "sink-green-1", "yellow": "sink-yellow-1", "white": "sink-white-1"}


def test_a_clean_working_day_raises_no_alarm(tmp_path):
    sim = Sim(tmp_path).all_online()
    start = 0
    for round_ in range(3):
        for tool in sim.config.tools:
            for station in sim.config.stations:  # heartbeats keep every station online
                sim.at(start).status(station.id)
            sink = SINK_OF[tool.color] if tool.kind in sim.config.rules.wash_required else None
            sim.use(tool.id, tool.home, sink, start=start, minutes=20)
            start += 60
        sim.at(start).tick()
    assert sim.raised == []
    assert all(s.location.value == "on_rack" for s in sim.engine.tools.values())
    assert sim.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3 * 4 * len(sim.config.tools)


CASES = [
    # name, steps, expected (type, subject, severity)
    ("raw tool on a white rack is critical",
     [("rack-red-1", "KN-R-01", "removed"), ("rack-white-1", "KN-R-01", "placed")],
     ("cross_zone", "KN-R-01", "critical")),
    ("green tool on a red rack is major",
     [("rack-green-1", "KN-G-01", "removed"), ("rack-red-1", "KN-G-01", "placed")],
     ("cross_zone", "KN-G-01", "major")),
    ("yellow tool on a white rack is major (not raw)",
     [("rack-yellow-1", "CT-Y-01", "removed"), ("rack-white-1", "CT-Y-01", "placed")],
     ("cross_zone", "CT-Y-01", "major")),
    ("raw tool at a white sink is critical",
     [("rack-red-1", "KN-R-01", "removed"), ("sink-white-1", "KN-R-01", "placed")],
     ("cross_zone_wash", "KN-R-01", "critical")),
    ("white tool at a red sink is major",
     [("rack-white-1", "KN-W-01", "removed"), ("sink-red-1", "KN-W-01", "placed")],
     ("cross_zone_wash", "KN-W-01", "major")),
    ("knife returned without a wash",
     [("rack-red-1", "KN-R-01", "removed"), ("rack-red-1", "KN-R-01", "placed")],
     ("unwashed_return", "KN-R-01", "major")),
    ("returned to a rack of its colour that is not its home",
     [("rack-red-1", "KN-R-01", "removed"), ("sink-red-1", "KN-R-01", "placed"),
      ("sink-red-1", "KN-R-01", "removed"), ("rack-red-2", "KN-R-01", "placed")],
     ("misplaced", "KN-R-01", "warning")),
    ("a tag no tool has",
     [("rack-green-1", "04DEADBEEF0001", "placed")],
     ("unknown_tag", "tag:04DEADBEEF0001", "warning")),
]


@pytest.mark.parametrize("name, steps, expected", CASES, ids=[c[0] for c in CASES])
def test_each_misuse_raises_its_alarm(tmp_path, name, steps, expected):
    sim = Sim(tmp_path).all_online()
    for i, (station, tool, action) in enumerate(steps):
        sim.at(10 + i * 30).event(station, tool, action)
    assert sim.raised == [expected]


def test_a_config_that_lists_wash_required_keeps_its_list(tmp_path):
    rules = dataclasses.replace(load_config(EXAMPLE).rules, wash_required=("knife", "scissors", "cutting_board"))
    sim = Sim(tmp_path, dataclasses.replace(load_config(EXAMPLE), rules=rules)).all_online()  # cloths not listed
    sim.use("CL-R-01", "rack-red-1", None)
    assert sim.raised == []


WASH_DWELL = [
    # seconds at the sink (placed -> removed), an unwashed return?
    (1, True),  # a tag held at the sink for a second is no wash
    (14, True),
    (15, False),  # rules.wash_min_seconds (default 15)
    (120, False),
]


@pytest.mark.parametrize("dwell, unwashed", WASH_DWELL)
def test_a_wash_counts_only_after_the_dwell(tmp_path, dwell, unwashed):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(100).event("sink-red-1", "KN-R-01", "placed")
    sim.at(100 + dwell).event("sink-red-1", "KN-R-01", "removed")
    sim.at(200).event("rack-red-1", "KN-R-01", "placed")
    assert sim.types() == (["unwashed_return"] if unwashed else [])


def test_overdue_after_the_configured_minutes(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(0).event("rack-red-1", "KN-R-01", "removed")
    for minute in range(30, 241, 30):
        sim.at(minute * 60).heartbeat().tick()
    assert sim.raised == []
    sim.at(241 * 60).heartbeat().tick()
    assert sim.raised == [("overdue", "KN-R-01", "minor")]
    sim.at(242 * 60).heartbeat().tick()
    assert len(sim.raised) == 1  # one alarm, not one per tick
    sim.at(243 * 60).event("sink-red-1", "KN-R-01", "placed")
    sim.at(244 * 60).event("sink-red-1", "KN-R-01", "removed")
    sim.at(245 * 60).event("rack-red-1", "KN-R-01", "placed")
    assert sim.engine.active == {}  # overdue clears itself when the tool is back


def test_station_offline_after_silence_and_back(tmp_path):
    sim = Sim(tmp_path).all_online()
    for station in sim.config.stations:
        if station.id != "sink-white-1":
            sim.at(80).status(station.id)
    sim.at(89).tick()
    assert sim.raised == []
    sim.at(91).tick()
    assert sim.raised == [("station_offline", "sink-white-1", "major")]
    sim.at(92).status("sink-white-1")
    assert ("station_offline", "sink-white-1") not in sim.engine.active


def test_station_last_will_raises_offline_at_once(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(5).status("rack-red-1", online=False)
    assert sim.raised == [("station_offline", "rack-red-1", "major")]


def test_repeats_are_counted_on_one_active_alarm(tmp_path):
    sim = Sim(tmp_path).all_online()
    for i in range(3):
        sim.at(10 + i).event("rack-green-1", "04DEADBEEF0001", "placed")
    (alarm,) = sim.engine.active.values()
    assert alarm.count == 3
    assert len(sim.raised) == 1


def test_cross_zone_is_latched_and_needs_a_person_with_a_comment(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(20).event("rack-white-1", "KN-R-01", "placed")
    alarm = sim.engine.active[("cross_zone", "KN-R-01")]
    # the tool goes home properly: a latched alarm stays
    sim.at(30).event("rack-white-1", "KN-R-01", "removed")
    sim.at(40).event("sink-red-1", "KN-R-01", "placed")
    sim.at(56).event("sink-red-1", "KN-R-01", "removed")  # a wash: 16 s at the sink
    sim.at(60).event("rack-red-1", "KN-R-01", "placed")
    assert ("cross_zone", "KN-R-01") in sim.engine.active
    with pytest.raises(AlarmActionError, match="corrective-action comment"):
        sim._run(lambda out: sim.engine.clear(alarm.id, "王师傅", "  ", sim.now, out))
    with pytest.raises(AlarmActionError, match="'by' must name the person"):
        sim._run(lambda out: sim.engine.acknowledge(alarm.id, "", None, sim.now, out))
    sim._run(lambda out: sim.engine.acknowledge(alarm.id, "王师傅", "看到了", sim.now, out))
    with pytest.raises(AlarmActionError, match="already acknowledged"):
        sim._run(lambda out: sim.engine.acknowledge(alarm.id, "王师傅", None, sim.now, out))
    sim._run(lambda out: sim.engine.clear(alarm.id, "王师傅", "白色架已消毒，刀具已回红区", sim.now, out))
    assert sim.engine.active == {}
    history = sim.store.conn.execute(
        "SELECT action, state, acked, by, comment FROM alarm_history WHERE alarm_id=? ORDER BY id",
        (alarm.id,)).fetchall()
    assert [tuple(r) for r in history] == [
        ("raised", "active", 0, "system", None),
        ("acknowledged", "active", 1, "王师傅", "看到了"),
        ("cleared", "cleared", 1, "王师傅", "白色架已消毒，刀具已回红区"),
    ]
    # feedback went to the station where the misuse happened, and the clear too
    cmds = [m for m in sim.messages if m.topic.endswith("rack-white-1/cmd")]
    assert [b'"pattern":"misuse"' in m.payload for m in cmds] == [True, False]


def test_alarm_history_is_append_only(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-green-1", "04DEADBEEF0001", "placed")
    with pytest.raises(Exception, match="append-only"):
        sim.store.conn.execute("UPDATE alarm_history SET by='x'")
    with pytest.raises(Exception, match="append-only"):
        sim.store.conn.execute("DELETE FROM alarm_history")


def test_non_latched_alarms_clear_by_themselves(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-green-1", "04DEADBEEF0001", "placed")
    sim.at(20).event("rack-green-1", "04DEADBEEF0001", "removed")
    sim.use("KN-R-01", "rack-red-1", "sink-red-1", back_to="rack-red-2", start=30)
    assert ("misplaced", "KN-R-01") in sim.engine.active
    sim.at(1000).event("rack-red-2", "KN-R-01", "removed")
    sim.at(1010).event("sink-red-1", "KN-R-01", "placed")
    sim.at(1030).event("sink-red-1", "KN-R-01", "removed")
    sim.at(1040).event("rack-red-1", "KN-R-01", "placed")
    assert sim.engine.active == {}
    assert sorted(sim.types()) == ["misplaced", "unknown_tag"]


def test_late_wash_from_a_replaying_sink_raises_no_false_alarm(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(0).status("sink-red-1", online=False)  # the sink lost Wi-Fi; it buffers
    sim.raised.clear()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(200).event("rack-red-1", "KN-R-01", "placed")  # the wash at t=100 is still in the sink's buffer
    sim.at(201).heartbeat(skip=("sink-red-1",)).tick()
    assert "unwashed_return" not in sim.types()
    sim.at(300).status("sink-red-1", buffer_depth=2)  # back, replaying
    sim.at(301).event("sink-red-1", "KN-R-01", "placed", ts=sim.now - 201_000)
    sim.at(302).event("sink-red-1", "KN-R-01", "removed", ts=sim.now - 172_000)
    sim.at(303).status("sink-red-1", buffer_depth=0)
    sim.at(304).heartbeat().tick()
    assert sim.types() == []
    assert sim.engine.tools["KN-R-01"].location.value == "on_rack"  # late events did not move it
    late = sim.store.conn.execute("SELECT COUNT(*) FROM events WHERE late=1").fetchone()[0]
    assert late == 2


def test_a_return_judged_when_the_sink_is_back_with_no_wash(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(0).status("sink-red-1", online=False)
    sim.raised.clear()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(200).event("rack-red-1", "KN-R-01", "placed")
    sim.at(300).status("sink-red-1", buffer_depth=0)
    sim.at(301).heartbeat().tick()
    assert sim.raised == [("unwashed_return", "KN-R-01", "major")]
    (alarm,) = [a for a in sim.engine.active.values() if a.type == "unwashed_return"]
    assert alarm.late and alarm.ts == sim.at(200).now


def test_missed_event_is_repaired_without_a_misuse_alarm(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "placed")
    # the removal from rack-red-1 was missed; the knife shows up at rack-red-1 again
    sim.at(500).event("rack-red-1", "KN-R-01", "placed")
    sim.at(600).event("rack-red-2", "CB-R-01", "placed")
    sim.at(700).event("rack-red-1", "CB-R-01", "removed")  # taken from a rack it was not seen on
    assert sim.raised == []
    notes = [r[0] for r in sim.store.conn.execute("SELECT note FROM events WHERE note IS NOT NULL")]
    assert notes == ["missed: removed from rack-red-1", "missed: placed on rack-red-1"]


def test_late_cross_zone_is_still_raised_without_feedback(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(300).event("sink-red-1", "KN-R-01", "placed")
    sim.at(400).event("rack-white-1", "KN-R-01", "placed", ts=sim.at(100).now)  # late, from a buffer
    assert sim.types() == ["cross_zone"]
    assert not [m for m in sim.messages if m.topic.endswith("/cmd")]


def test_redelivery_is_applied_once_and_a_replay_is_refused(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed", seq=5)
    sim.at(11).event("rack-red-1", "KN-R-01", "removed", ts=sim.at(10).now, seq=5)
    assert sim.last_result is False
    with pytest.raises(PayloadError, match="already used"):
        sim.at(12).event("rack-red-1", "KN-R-01", "placed", seq=5)


def test_a_recorded_exception_excuses_the_alarm(tmp_path):
    import copy

    import yaml
    from workshop_sim import EXAMPLE

    from edge_gateway.model.workshop import parse_config

    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data["rules"]["exceptions"] = [{"station": "sink-red-1", "color": "green", "reason": "备案：蔬菜与肉馅同池"}]
    sim = Sim(tmp_path, parse_config(copy.deepcopy(data))).all_online()
    sim.at(10).event("rack-green-1", "KN-G-01", "removed")
    sim.at(20).event("sink-red-1", "KN-G-01", "placed")
    assert sim.raised == []
    note = sim.store.conn.execute("SELECT note FROM events WHERE note IS NOT NULL").fetchone()[0]
    assert note == "exception: 备案：蔬菜与肉馅同池"


def test_state_survives_a_restart(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(20).event("rack-white-1", "KN-R-01", "placed")
    sim.store.close()
    again = Sim(tmp_path)
    assert again.engine.tools["KN-R-01"].station == "rack-white-1"
    assert ("cross_zone", "KN-R-01") in again.engine.active
