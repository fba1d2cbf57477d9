"""The owner's day: the ``day:`` config, the pure roll call and opening check (tables), and the engine driving
them at closing and opening time with a controlled clock (tests/support/workshop_sim.py)."""

from __future__ import annotations

import pytest

from edge_gateway.model.day import DaySettings, check_tool, due, opening_check, parse_day, roll_call
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.model.toolstate import ToolState, WashCheck
from edge_gateway.model.workshop import parse_config
from edge_gateway.store import days
from sebiao_common import strict_json
from sebiao_common.domain import Location
from sebiao_common.errors import ConfigError
from sebiao_common.yamlfile import load_yaml
from tests.support.workshop_sim import EXAMPLE, T0, Sim

DISINFECT = EXAMPLE.with_name("workshop-disinfect.yaml")

HOUR = 3600
EIGHT = -(7 * HOUR + 40 * 60)  # 2025-11-26 08:00 in Beijing, in seconds after T0 (15:40)


def config_with(day: object):
    data = load_yaml(EXAMPLE)
    if day is not None:
        data["day"] = day
    return parse_config(data, "workshop.yaml")


def test_day_defaults_and_absent_section():
    assert parse_day(config_with(None)) is None
    assert parse_day(config_with({})) == DaySettings(opens=7 * 60, closes=19 * 60, timezone="Asia/Shanghai")
    assert parse_day(config_with({"opens": "06:30", "closes": "22:15", "timezone": "UTC"})) == DaySettings(
        opens=6 * 60 + 30, closes=22 * 60 + 15, timezone="UTC")


@pytest.mark.parametrize("day, field, reason", [
    ({"closes": 1140}, "day.closes", "quoted time"),  # YAML 1.1 reads unquoted 19:00 as 1140
    ({"opens": "7h"}, "day.opens", "not a time HH:MM"),
    ({"closes": "24:00"}, "day.closes", "not a time HH:MM"),
    ({"opens": "20:00", "closes": "19:00"}, "day.closes", "must be after the opening time"),
    ({"timezone": "Mars/Olympus"}, "day.timezone", "not a known time zone"),
    ({"close": "19:00"}, "day.close", "unknown key"),
    ("19:00", "day", "must be a mapping"),
])
def test_day_errors_name_file_field_and_reason(day, field, reason):
    with pytest.raises(ConfigError) as err:
        parse_day(config_with(day))
    assert "workshop.yaml" in str(err.value) and field in str(err.value) and reason in str(err.value)


CONFIG = config_with({})
KNIFE = CONFIG.tool("KN-R-01")  # a red knife, home rack-red-1


def state(**kw) -> ToolState:
    return ToolState(tool="KN-R-01", color="red", **kw)


@pytest.mark.parametrize("tool_state, expect", [
    (state(location=Location.ON_RACK, station="rack-red-1"), None),  # home, never used: in order
    (state(location=Location.ON_RACK, station="rack-red-1", taken_at=1, washed=True), None),
    (state(location=Location.ON_RACK, station="rack-red-1", taken_at=1, washed=False), (False, True)),
    (state(location=Location.ON_RACK, station="rack-red-2", taken_at=1, washed=True), (True, False)),  # elsewhere
    (state(location=Location.OUT, station="rack-red-1", taken_at=1, washed=False), (True, True)),
    (state(location=Location.AT_SINK, station="sink-red-1", taken_at=1, washed=True), (True, False)),
    (state(), (True, False)),  # never seen: not seen home
    (state(location=Location.ON_RACK, station="rack-red-1",
           pending=(WashCheck(taken_at=1, returned_at=2, rack="rack-red-1"),)), (False, True)),
])
def test_roll_call_of_one_tool(tool_state, expect):
    found = check_tool(KNIFE, tool_state, CONFIG)
    assert (found and (found.not_home, found.unwashed)) == expect
    if found is not None:
        assert not found.undisinfected  # the example has no station that proves disinfection


def test_roll_call_raises_one_alarm_per_tool_naming_what_is_missing():
    home = {t.id: ToolState(tool=t.id, color=t.color, location=Location.ON_RACK, station=t.home)
            for t in CONFIG.tools}
    home["CB-R-01"] = ToolState(tool="CB-R-01", color="red", location=Location.OUT, station="rack-red-2",
                                taken_at=5, washed=False)
    missing, decisions = roll_call(CONFIG, home, now=99)
    assert [m.tool for m in missing] == ["CB-R-01"]
    (alarm,) = decisions
    assert isinstance(alarm, Raise) and alarm.type == "roll_call" and alarm.severity == "major"
    assert alarm.text_zh == "收工点检：●红色砧板 CB-R-01 未见放回固定位置 ●红色 生肉砧板架；上次使用后未见清洗"
    assert alarm.text_en == ("Closing roll call: ● red cutting board CB-R-01 not seen back on its home rack ● red rack "
                             "生肉砧板架; not seen washed after its last use")


def test_opening_check_reports_and_clears_but_raises_nothing():
    home = {t.id: ToolState(tool=t.id, color=t.color, location=Location.ON_RACK, station=t.home)
            for t in CONFIG.tools}
    del home["KN-G-01"]
    stations, missing, decisions = opening_check(CONFIG, home, {"rack-red-1": True}, ["rack-red-1"])
    assert [m.tool for m in missing] == ["KN-G-01"]
    assert all(isinstance(d, Clear) and d.type == "roll_call" for d in decisions)
    assert {d.subject for d in decisions} == {t.id for t in CONFIG.tools} - {"KN-G-01"}
    first = stations[0]
    assert (first.id, first.online, first.clock_ok) == ("rack-red-1", True, False)
    assert not stations[1].online


@pytest.mark.parametrize("hours, last_opening, last_roll_call, expect", [
    (0, None, None, ("2025-11-26", None)),  # 08:00 Beijing: the opening check is due
    (0, "2025-11-26", None, (None, None)),  # done today
    (-1.5, None, None, (None, None)),  # 06:30: before opening
    (11, "2025-11-26", None, (None, "2025-11-26")),  # 19:00: the roll call
    (11, "2025-11-26", "2025-11-26", (None, None)),
    (15.9, "2025-11-26", "2025-11-25", (None, "2025-11-26")),  # 23:54, the gateway was down at 19:00: late
    (16.1, "2025-11-26", "2025-11-26", (None, None)),  # 00:06 next day: nothing until 07:00
])
def test_due(hours, last_opening, last_roll_call, expect):
    settings = parse_day(CONFIG)
    assert due(settings, T0 + int((EIGHT + hours * HOUR) * 1000), last_opening, last_roll_call) == expect


def checks(sim: Sim, kind: str) -> dict:
    rows = sim.store.conn.execute("SELECT day, result FROM day_checks WHERE kind = ?", (kind,)).fetchall()
    return {day: strict_json.loads(result) for day, result in rows}


def test_engine_runs_the_roll_call_at_closing_once_and_the_opening_check_clears(tmp_path):
    sim = Sim(tmp_path, CONFIG)
    sim.at(EIGHT + 0).all_online()
    for tool in CONFIG.tools:
        sim.event(tool.home, tool.id, "placed")
    sim.tick()
    opening = checks(sim, "opening")["2025-11-26"]
    assert opening["ready"] and opening["missing"] == []
    sim.use("KN-R-01", "rack-red-1", "sink-red-1", start=EIGHT + HOUR)  # used, washed, home
    sim.use("CB-R-01", "rack-red-2", None, start=EIGHT + 2 * HOUR)  # used, not washed
    sim.at(EIGHT + 3 * HOUR).event("rack-green-1", "KN-G-01", "removed")  # never brought back
    t = 3 * HOUR
    while t < 11 * HOUR - 60:  # keep the stations online through the day
        t += 60
        sim.at(EIGHT + t).heartbeat()
    sim.tick()
    assert "roll_call" not in sim.types() and "2025-11-26" not in checks(sim, "roll_call")
    sim.raised.clear()
    sim.at(EIGHT + 11 * HOUR).heartbeat()
    sim.tick()
    assert sorted((t, s) for t, s, _ in sim.raised if t == "roll_call") == [
        ("roll_call", "CB-R-01"), ("roll_call", "KN-G-01")]
    result = checks(sim, "roll_call")["2025-11-26"]
    assert {m["tool"]: (m["not_home"], m["unwashed"]) for m in result["missing"]} == {
        "CB-R-01": (False, True), "KN-G-01": (True, True)}
    assert result["counts"]["uses"] == 3 and result["counts"]["washes"] == 1
    assert result["counts"]["alarms_raised"] >= 1  # CB-R-01's unwashed return, during the day
    sim.raised.clear()
    sim.at(EIGHT + 11 * HOUR + 60).heartbeat()
    sim.tick()
    assert sim.raised == []  # once a day
    # A restarted gateway knows the roll call was done.
    sim.engine.reload()
    sim.tick()
    assert sim.raised == []
    # The next morning: the board was washed and the knife is back; the opening check clears their alarms.
    sim.at(EIGHT + 23 * HOUR).heartbeat()
    sim.event("rack-red-2", "CB-R-01", "removed")
    sim.at(EIGHT + 23 * HOUR + 10).event("sink-red-1", "CB-R-01", "placed")
    sim.at(EIGHT + 23 * HOUR + 40).event("sink-red-1", "CB-R-01", "removed")
    sim.at(EIGHT + 23 * HOUR + 50).event("rack-red-2", "CB-R-01", "placed")
    sim.at(EIGHT + 23 * HOUR + 60).event("rack-green-1", "KN-G-01", "placed")  # returned unwashed: not in order
    sim.tick()
    opening = checks(sim, "opening")["2025-11-27"]
    assert [m["tool"] for m in opening["missing"]] == ["KN-G-01"] and not opening["ready"]
    assert ("roll_call", "CB-R-01") not in sim.engine.active and ("roll_call", "KN-G-01") in sim.engine.active


def test_the_opening_check_names_a_station_whose_clock_is_not_set(tmp_path):
    sim = Sim(tmp_path, CONFIG)
    sim.at(EIGHT - 60).all_online()
    for tool in CONFIG.tools:
        sim.event(tool.home, tool.id, "placed")
    sim.event("rack-red-1", "KN-R-01", "removed", ts=0)  # its clock not set: ts 0
    sim.event("rack-red-1", "KN-R-01", "placed", ts=0)
    sim.at(EIGHT).heartbeat()
    sim.tick()
    opening = checks(sim, "opening")["2025-11-26"]
    assert not opening["ready"] and [m["tool"] for m in opening["missing"]] == ["KN-R-01"]  # home, unwashed
    assert [s["id"] for s in opening["stations"] if not s["clock_ok"]] == ["rack-red-1"]
    assert all(s["online"] for s in opening["stations"])


def test_a_wash_replayed_late_from_a_sink_buffer_counts_at_the_roll_call(tmp_path):
    """The tool went back on its rack while the sink buffered its wash: the late wash is its last use's."""
    sim = Sim(tmp_path, CONFIG)
    sim.at(EIGHT).all_online()
    for tool in CONFIG.tools:
        sim.event(tool.home, tool.id, "placed")
    sim.tick()
    sim.at(EIGHT + 5).status("sink-red-1", online=False)  # the sink lost Wi-Fi; it buffers
    sim.at(EIGHT + 10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(EIGHT + 200).event("rack-red-1", "KN-R-01", "placed")  # the wash at +100 is in the sink's buffer
    sim.at(EIGHT + 300).status("sink-red-1", buffer_depth=2)  # back, replaying
    sim.at(EIGHT + 301).event("sink-red-1", "KN-R-01", "placed", ts=sim.at(EIGHT + 100).now)
    sim.at(EIGHT + 302).event("sink-red-1", "KN-R-01", "removed", ts=sim.at(EIGHT + 130).now)
    sim.at(EIGHT + 303).status("sink-red-1", buffer_depth=0)
    sim.at(EIGHT + 11 * HOUR).all_online()
    sim.tick()
    assert "unwashed_return" not in sim.types() and "roll_call" not in sim.types()
    assert checks(sim, "roll_call")["2025-11-26"]["missing"] == []


def test_a_cycle_reported_after_the_return_counts_at_the_roll_call(tmp_path):
    """A cabinet's message comes once its cycle is over, often after the tool is back on its rack: the roll
    call still sees the tool disinfected; a tool never in a cycle is named."""
    data = load_yaml(DISINFECT)
    data["day"] = {}
    sim = Sim(tmp_path, parse_config(data, "workshop-disinfect.yaml")).all_online()
    for tool in sim.config.tools:
        sim.event(tool.home, tool.id, "placed")
    sim.at(0).event("rack-red-1", "KN-R-01", "removed")
    sim.at(40).event("sink-red-1", "KN-R-01", "placed")
    sim.at(70).event("sink-red-1", "KN-R-01", "removed")
    sim.at(100).event("dis-1", "KN-R-01", "placed")
    sim.at(820).event("dis-1", "KN-R-01", "removed")
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")
    sim.at(840).cycle("dis-1", start=200, temps_c=[120] * 11)  # ten minutes at 120 °C, reported after the return
    other = next(t for t in sim.config.tools if t.id != "KN-R-01" and t.color == "red" and t.tag)
    sink = next(s.id for s in sim.config.stations if s.kind.value == "sink" and s.zone == "red")
    sim.at(900).event(other.home, other.id, "removed")  # washed, never disinfected
    sim.at(940).event(sink, other.id, "placed")
    sim.at(970).event(sink, other.id, "removed")
    sim.at(1000).event(other.home, other.id, "placed")
    sim.at(4 * HOUR).heartbeat()  # 19:40 in Beijing: past closing
    sim.tick()
    missing = {m["tool"]: m for m in checks(sim, "roll_call")["2025-11-26"]["missing"]}
    assert list(missing) == [other.id] and missing[other.id]["undisinfected"] and not missing[other.id]["unwashed"]
    assert checks(sim, "roll_call")["2025-11-26"]["counts"]["cycles_passed"] == 1


def test_no_day_section_no_roll_call(tmp_path):
    sim = Sim(tmp_path)
    sim.at(EIGHT + 0).all_online()
    sim.at(EIGHT + 3 * HOUR).event("rack-green-1", "KN-G-01", "removed")
    sim.at(EIGHT + 11 * HOUR).heartbeat()
    sim.tick()
    assert "roll_call" not in sim.types()
    assert days.last_day(sim.store.conn, "roll_call") is None


def test_a_bad_day_section_stops_the_gateway_before_it_starts(tmp_path, capsys):
    from sebiao import cli

    config = tmp_path / "workshop.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8") + "\nday:\n  closes: 19:00\n", encoding="utf-8")
    assert cli.main(["gateway", "--config", str(config), "--data-dir", str(tmp_path / "data"),
                     "--http", "127.0.0.1:0"]) == 2
    assert 'day.closes: must be a quoted time HH:MM, e.g. "19:00", got 1140' in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
