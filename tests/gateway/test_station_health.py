"""Station health as the pure model judges it (``model/station_health.py``): ``station_resets`` from the boot ids in
the statuses, ``reader_fault`` from ``reader_ok``; the ``rules.station_health`` bounds; and through the engine and
its store (boots remembered across a restart, counted per cause)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from workshop_sim import EXAMPLE, T0, Sim

from edge_gateway.config import load_config
from edge_gateway.model import station_health as health
from edge_gateway.model.health_rules import HealthRules, parse_health_rules
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.model.station_health import READER_FAULT, STATION_RESETS, ResetWatch
from edge_gateway.model.workshop import parse_config
from sebiao_common.errors import ConfigError
from sebiao_common.yamlfile import Node

MIN = 60_000
CONFIG = load_config(EXAMPLE)
STATION = CONFIG.station("rack-red-1")
RULES = CONFIG.rules


def _boots(seq: list[tuple[str, int, str]], rules=RULES, watch: ResetWatch | None = None):
    """Feed statuses (boot id, minute, cause); yields (new boot recorded?, decision type or None) per status."""
    watch = watch or ResetWatch()
    out = []
    for boot, minute, cause in seq:
        watch, new, decisions = health.on_status(watch, {"boot": boot, "reset_cause": cause, "fw": "0.2.0"},
                                                 STATION, T0 + minute * MIN, rules)
        out.append((new is not None, [type(d).__name__ for d in decisions]))
    return watch, out


@pytest.mark.parametrize("statuses, expected", [
    # a heartbeat repeats its boot id: one boot, no alarm
    ([("aa", 0, "power_on"), ("aa", 1, "power_on"), ("aa", 2, "power_on")],
     [(True, []), (False, []), (False, [])]),
    # two resets within the hour: below the bound
    ([("aa", 0, "power_on"), ("bb", 10, "watchdog")], [(True, []), (True, [])]),
    # the third new boot within the hour raises; a fourth repeats
    ([("aa", 0, "power_on"), ("bb", 10, "watchdog"), ("cc", 20, "watchdog"), ("dd", 25, "watchdog")],
     [(True, []), (True, []), (True, ["Raise"]), (True, ["Raise"])]),
    # three boots spread over more than an hour: the first has left the window
    ([("aa", 0, "power_on"), ("bb", 40, "watchdog"), ("cc", 61, "watchdog")], [(True, []), (True, []), (True, [])]),
    # a status redelivered out of order (an older boot id of the window) is no reset
    ([("aa", 0, "power_on"), ("bb", 5, "watchdog"), ("aa", 6, "power_on"), ("bb", 7, "watchdog")],
     [(True, []), (True, []), (False, []), (False, [])]),
    # a status without a boot id (a last will, an old firmware) changes nothing
    ([("", 0, "power_on")], [(False, [])]),
])
def test_resets_table(statuses, expected):
    assert _boots(statuses)[1] == expected


def test_the_alarm_text_counts_the_resets_by_cause():
    watch = ResetWatch()
    decisions = ()
    for boot, minute, cause in (("aa", 0, "power_on"), ("bb", 10, "watchdog"), ("cc", 20, "watchdog")):
        watch, _, decisions = health.on_status(watch, {"boot": boot, "reset_cause": cause}, STATION,
                                               T0 + minute * MIN, RULES)
    (alarm,) = decisions
    assert isinstance(alarm, Raise) and (alarm.type, alarm.subject, alarm.severity) == (
        STATION_RESETS, "rack-red-1", "major")
    assert "1 小时 内重启了 3 次（看门狗 2 次、上电 1 次）" in alarm.text_zh
    assert "reset 3 times within 1 h (watchdog 2, power on 1)" in alarm.text_en


@pytest.mark.parametrize("minutes_after_last, alarmed, cleared", [
    (59, True, False),  # not quiet long enough
    (60, True, True),  # an hour without a new boot
    (600, False, False),  # nothing to clear
])
def test_resets_clear_after_the_quiet_period(minutes_after_last, alarmed, cleared):
    watch, _ = _boots([("aa", 0, "power_on"), ("bb", 1, "watchdog"), ("cc", 2, "watchdog")])
    after, decisions = health.on_tick(watch, STATION, T0 + (2 + minutes_after_last) * MIN, RULES, alarmed)
    assert [type(d) for d in decisions] == ([Clear] if cleared else [])
    if cleared:
        assert decisions[0].type == STATION_RESETS and "1 小时" in decisions[0].reason_zh
    if minutes_after_last >= 60:
        assert after.boots == () and after.last == "cc"  # the window forgot them, the newest id stays


def test_the_bounds_come_from_the_rules():
    rules = dataclasses.replace(RULES, station_health=HealthRules(resets=2, resets_within_minutes=5,
                                                                  resets_quiet_minutes=10))
    assert _boots([("aa", 0, "x"), ("bb", 4, "x")], rules)[1] == [(True, []), (True, ["Raise"])]
    assert _boots([("aa", 0, "x"), ("bb", 6, "x")], rules)[1] == [(True, []), (True, [])]
    watch, _ = _boots([("aa", 0, "x"), ("bb", 4, "x")], rules)
    assert health.on_tick(watch, STATION, T0 + 13 * MIN, rules, True)[1] == ()
    assert [d.type for d in health.on_tick(watch, STATION, T0 + 14 * MIN, rules, True)[1]] == [STATION_RESETS]


@pytest.mark.parametrize("reader_ok, alarmed, expected", [
    (False, False, Raise),  # the firmware says false only after its own re-init and reset pulse failed
    (False, True, None),  # once per spell, not at every heartbeat
    (True, True, Clear),
    (True, False, None),
    (None, True, None),  # a last will says nothing of the reader
    ("false", False, None),  # not a boolean: nothing
])
def test_reader_fault_table(reader_ok, alarmed, expected):
    status = {} if reader_ok is None else {"reader_ok": reader_ok}
    decisions = health.judge_reader(status, STATION, T0, RULES, alarmed)
    assert [type(d) for d in decisions] == ([expected] if expected else [])
    if expected is Raise:
        (d,) = decisions
        assert (d.type, d.severity, d.station) == (READER_FAULT, "major", "rack-red-1")
        assert d.text_zh.startswith("读卡器故障：") and d.text_en.startswith("Reader fault:")


@pytest.mark.parametrize("given, problem", [
    ({"resets": 1}, "rules.station_health.resets: must be at least 2"),
    ({"resets_within_minutes": 1441}, "rules.station_health.resets_within_minutes: must be at most 1440"),
    ({"resets_quiet_minutes": "1h"}, "rules.station_health.resets_quiet_minutes: must be a whole number"),
    ({"reset": 3}, "rules.station_health.reset: unknown key"),
])
def test_bad_bounds_name_the_field(given, problem):
    with pytest.raises(ConfigError) as error:
        parse_health_rules(Node("workshop.yaml", "rules.station_health", given))
    assert problem in str(error.value)


def test_defaults_and_a_config_that_sets_them():
    assert parse_health_rules(None) == HealthRules(resets=3, resets_within_minutes=60, resets_quiet_minutes=60)
    assert RULES.station_health == HealthRules()
    assert RULES.severity_of(STATION_RESETS) == RULES.severity_of(READER_FAULT) == "major"
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data.setdefault("rules", {})["station_health"] = {"resets": 5, "resets_quiet_minutes": 30}
    data["rules"].setdefault("severity", {})["reader_fault"] = "critical"
    rules = parse_config(data).rules
    assert rules.station_health == HealthRules(resets=5, resets_within_minutes=60, resets_quiet_minutes=30)
    assert rules.severity_of("reader_fault") == "critical"


# -- through the engine and its store ------------------------------------------------------------------------


def _status(sim: Sim, station: str, boot: str, cause: str = "watchdog", **more) -> None:
    sim.status(station, boot=boot, reset_cause=cause, fw="0.2.0", reader_ok=True, **more)


def test_the_engine_raises_repeats_and_clears_station_resets(tmp_path):
    sim = Sim(tmp_path).all_online()
    for i, boot in enumerate(("0000000a", "0000000b", "0000000c")):
        sim.at(i * 60).heartbeat(skip=("rack-red-1",))
        _status(sim, "rack-red-1", boot)
    assert sim.raised == [(STATION_RESETS, "rack-red-1", "major")]
    _status(sim.at(200), "rack-red-1", "0000000d")
    assert sim.engine.active[(STATION_RESETS, "rack-red-1")].count == 2
    rows = sim.store.conn.execute("SELECT boot, reset_cause, fw FROM station_boots WHERE station = 'rack-red-1' "
                                  "ORDER BY seen_at").fetchall()
    assert [tuple(r) for r in rows] == [(b, "watchdog", "0.2.0") for b in ("0000000a", "0000000b", "0000000c",
                                                                           "0000000d")]
    for second in range(260, 200 + 3600, 30):  # heartbeats with the same boot id for an hour
        sim.at(second).heartbeat(skip=("rack-red-1",))
        _status(sim, "rack-red-1", "0000000d")
        sim.tick()
    assert (STATION_RESETS, "rack-red-1") in sim.engine.active
    sim.at(200 + 3600).heartbeat().tick()
    assert (STATION_RESETS, "rack-red-1") not in sim.engine.active


def test_a_restarted_gateway_remembers_the_boots(tmp_path):
    sim = Sim(tmp_path).all_online()
    _status(sim.at(0), "rack-red-1", "0000000a")
    _status(sim.at(60), "rack-red-1", "0000000b")
    sim.store.close()
    again = Sim(tmp_path)  # the same store: the retained status of the running boot is no new boot
    again.all_online()
    _status(again.at(120), "rack-red-1", "0000000b")
    assert again.raised == []
    _status(again.at(180), "rack-red-1", "0000000c")  # but the third boot within the hour is
    assert again.raised == [(STATION_RESETS, "rack-red-1", "major")]


def test_a_last_will_between_boots_still_tells_a_new_boot(tmp_path):
    sim = Sim(tmp_path).all_online()
    _status(sim.at(0), "rack-red-1", "0000000a")
    sim.at(10).status("rack-red-1", online=False)
    _status(sim.at(20), "rack-red-1", "0000000a")  # the same boot reconnecting: no reset
    assert sim.store.conn.execute("SELECT count(*) FROM station_boots").fetchone()[0] == 1


def test_the_engine_raises_and_clears_reader_fault(tmp_path):
    sim = Sim(tmp_path).all_online()
    _status(sim.at(0), "sink-red-1", "0000000a")
    sim.at(1).status("sink-red-1", boot="0000000a", reader_ok=False)
    sim.at(31).status("sink-red-1", boot="0000000a", reader_ok=False)
    assert sim.raised == [(READER_FAULT, "sink-red-1", "major")]
    assert sim.engine.active[(READER_FAULT, "sink-red-1")].count == 1
    sim.at(61).status("sink-red-1", online=False)  # the will: still a fault
    assert (READER_FAULT, "sink-red-1") in sim.engine.active
    _status(sim.at(91), "sink-red-1", "0000000a")
    assert (READER_FAULT, "sink-red-1") not in sim.engine.active


@pytest.mark.parametrize("given, expected", [
    ({"version": "d05516785b28", "error": "timing.poll_ms: 10 is outside 20..5000"},
     "d05516785b28: timing.poll_ms: 10 is outside 20..5000"),  # docs/fleet.md's shape
    ({"error": "pins.led_red: not a remote setting"}, "pins.led_red: not a remote setting"),
    ("schema", "schema"),
    ({"version": "x"}, None),  # no reason: nothing to show
    (7, None),
])
def test_a_refused_settings_set_in_one_line(given, expected):
    assert health.settings_error({"settings_error": given}) == expected
    assert health.settings_error({}) is None
