"""Disinfection: a cycle's verdict (table), its message (table), and the engine's rules on a real SQLite store."""

from pathlib import Path

import pytest
from workshop_sim import T0, Sim

from edge_gateway.config import load_config
from edge_gateway.errors import PayloadError
from edge_gateway.model.disinfection import Cycle, Threshold, judge_cycle
from edge_gateway.model.protocol import decode_cycle
from sebiao_common import strict_json

DISINFECT = Path(__file__).parents[2] / "examples" / "workshop-disinfect.yaml"
CABINET = Threshold(temp_c=120, hold_seconds=600)

VERDICTS = [
    # name, samples (°C, one a minute), hold seconds, passed
    ("ten minutes at 120", [20, 80, 120, 121, 125, 125, 125, 125, 124, 123, 122, 121, 120, 90], 600, True),
    ("nine minutes at 120", [20, 120, 121, 125, 125, 125, 125, 124, 123, 122, 121, 90], 540, False),
    ("a dip breaks the hold", [120] * 6 + [119.9] + [120] * 6, 300, False),
    ("the longest run counts", [120] * 3 + [100] + [120] * 11, 600, True),
    ("never hot enough", [100] * 30, 0, False),
    ("one hot sample holds 0 s", [130], 0, False),
]


@pytest.mark.parametrize("name, temps, hold, passed", VERDICTS, ids=[v[0] for v in VERDICTS])
def test_a_cycle_passes_when_it_holds_the_temperature_long_enough(name, temps, hold, passed):
    cycle = Cycle(station="dis-1", boot="00c0ffee", seq=1, ts=T0 + len(temps) * 60_000, start=T0, interval_s=60,
                  temps_dc=tuple(round(t * 10) for t in temps))
    verdict = judge_cycle(cycle, "cabinet", CABINET)
    assert (verdict.hold_seconds, verdict.passed) == (hold, passed)
    assert verdict.max_temp_dc == round(max(temps) * 10)


def _payload(**change):
    body = {"v": 1, "boot": "0a0b0c0d", "seq": 7, "ts": T0 + 600_000, "start": T0, "interval_s": 60,
            "temps_dc": [1200] * 11}
    body.update(change)
    return strict_json.dumps({k: v for k, v in body.items() if v is not KeyError}).encode()


BAD = [
    ({"temps_dc": []}, "bad_value"),
    ({"temps_dc": [1200] * 1441}, "bad_value"),
    ({"temps_dc": [1200, "hot"]}, "bad_type"),
    ({"temps_dc": [1200, 120.5]}, "bad_type"),
    ({"temps_dc": [1200, True]}, "bad_type"),
    ({"temps_dc": [5001]}, "bad_value"),
    ({"temps_dc": "1200"}, "bad_type"),
    ({"interval_s": 0}, "bad_value"),
    ({"interval_s": 601}, "bad_value"),
    ({"ts": 0}, "bad_value"),  # a cycle needs a set clock
    ({"start": T0 + 3_600_000}, "bad_value"),  # the samples do not fit before the end
    ({"boot": "xyz"}, "bad_value"),
    ({"seq": -1}, "bad_value"),
    ({"start": KeyError}, "missing_field"),
    ({"v": 2}, "unsupported_version"),
]


@pytest.mark.parametrize("change, reason", BAD, ids=[str(c) for c, _ in BAD])
def test_a_bad_cycle_message_is_refused_with_its_reason(change, reason):
    with pytest.raises(PayloadError) as caught:
        decode_cycle("dis-1", _payload(**change))
    assert caught.value.reason == reason


def test_a_full_day_of_samples_fits_and_a_larger_payload_is_too_large():
    cycle = decode_cycle("dis-1", _payload(temps_dc=[-500] * 1440, ts=T0 + 1440 * 60_000))
    assert len(cycle.temps_dc) == 1440 and cycle.boot == "0a0b0c0d"
    with pytest.raises(PayloadError) as caught:
        decode_cycle("dis-1", _payload(temps_dc=[1200] * 1440, pad="x" * 13_000))
    assert caught.value.reason == "too_large"


# -- the engine ------------------------------------------------------------------------------------------

HOT = [120] * 11  # ten minutes at 120 °C
COOL = [120] * 9  # eight


def _sim(tmp_path):
    return Sim(tmp_path, load_config(DISINFECT)).all_online()


def _use(sim, tool, rack, sink, start):
    """Taken at ``start``, washed 30 s at its sink, into the cabinet at +100 s."""
    sim.at(start).event(rack, tool, "removed")
    sim.at(start + 40).event(sink, tool, "placed")
    sim.at(start + 70).event(sink, tool, "removed")
    sim.at(start + 100).event("dis-1", tool, "placed")


def test_a_passing_cycle_disinfects_the_tools_in_it(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    _use(sim, "CT-W-01", "rack-white-1", "sink-white-1", 10)
    sim.at(800).cycle("dis-1", start=200, temps_c=HOT)
    sim.at(820).event("dis-1", "KN-R-01", "removed")
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")
    sim.at(840).event("dis-1", "CT-W-01", "removed")
    sim.at(850).event("rack-white-1", "CT-W-01", "placed")
    assert sim.types() == []  # a red knife in the (white-zone) cabinet is no cross-zone placement
    row = sim.store.conn.execute("SELECT method, passed, hold_seconds, max_temp_dc, tools FROM cycles").fetchone()
    assert tuple(row[:4]) == ("cabinet", 1, 600, 1200) and strict_json.loads(row[4]) == ["CT-W-01", "KN-R-01"]


def test_a_failed_cycle_leaves_the_tool_undisinfected(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    sim.at(800).cycle("dis-1", start=200, temps_c=COOL)
    sim.at(820).event("dis-1", "KN-R-01", "removed")
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")
    assert sim.raised == [("undisinfected_return", "KN-R-01", "major")]
    alarm = sim.engine.active[("undisinfected_return", "KN-R-01")]
    assert "未消毒归位" in alarm.text_zh and "without a passing disinfection cycle" in alarm.text_en


def test_a_tool_taken_out_before_the_hold_ended_was_not_in_the_cycle(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    sim.at(500).event("dis-1", "KN-R-01", "removed")  # the hold ran 200 .. 800
    sim.at(800).cycle("dis-1", start=200, temps_c=HOT)
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")
    assert sim.types() == ["undisinfected_return"]


def test_a_tool_never_in_the_cabinet_is_undisinfected_even_when_washed(tmp_path):
    sim = _sim(tmp_path)
    sim.at(0).event("rack-red-1", "CL-R-01", "removed")
    sim.at(40).event("sink-red-1", "CL-R-01", "placed")
    sim.at(70).event("sink-red-1", "CL-R-01", "removed")
    sim.at(100).event("rack-red-1", "CL-R-01", "placed")
    assert sim.types() == ["undisinfected_return"]  # a cloth too (seed 六(三))


def test_a_hot_wash_at_a_probed_sink_is_wash_and_disinfection(tmp_path):
    sim = _sim(tmp_path)
    sim.at(0).event("rack-white-1", "KN-W-01", "removed")
    sim.at(100).event("sink-white-1", "KN-W-01", "placed")
    sim.at(200).cycle("sink-white-1", start=110, temps_c=[86] * 6, interval_s=10)  # 50 s at 86 °C
    sim.at(210).event("sink-white-1", "KN-W-01", "removed")
    sim.at(220).event("rack-white-1", "KN-W-01", "placed")
    assert sim.types() == []


def test_a_cycle_reported_after_the_return_clears_the_alarm(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    sim.at(820).event("dis-1", "KN-R-01", "removed")
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")
    assert sim.types() == ["undisinfected_return"]
    sim.at(840).cycle("dis-1", start=200, temps_c=HOT)  # the cabinet's message came late
    assert ("undisinfected_return", "KN-R-01") not in sim.engine.active


def test_no_judgement_while_the_disinfection_station_is_offline(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    sim.at(150).status("dis-1", online=False)  # the cabinet lost Wi-Fi; it buffers
    sim.raised.clear()  # station_offline
    sim.at(830).event("rack-red-1", "KN-R-01", "placed")  # its removal at 820 is in the cabinet's buffer
    sim.at(831).heartbeat(skip=("dis-1",)).tick()
    assert sim.types() == []  # waiting: the cabinet's evidence is not current
    sim.at(900).status("dis-1", buffer_depth=2)  # back, replaying
    sim.at(901).event("dis-1", "KN-R-01", "removed", ts=T0 + 820_000)
    sim.at(902).cycle("dis-1", start=200, temps_c=HOT)
    sim.at(903).status("dis-1", buffer_depth=0)
    sim.at(904).heartbeat().tick()
    assert sim.types() == []
    # the next use has no cycle: judged once the cabinet is current
    sim.at(1000).event("rack-red-1", "KN-R-01", "removed")
    sim.at(1040).event("sink-red-1", "KN-R-01", "placed")
    sim.at(1070).event("sink-red-1", "KN-R-01", "removed")
    sim.at(1100).event("rack-red-1", "KN-R-01", "placed")
    assert sim.types() == ["undisinfected_return"]


def test_a_cycle_is_kept_once_and_a_replay_refused(tmp_path):
    sim = _sim(tmp_path)
    sim.at(800).cycle("dis-1", start=200, temps_c=HOT, seq=5)
    sim.at(801).cycle("dis-1", start=200, temps_c=HOT, seq=5)
    assert sim.last_result is None  # a redelivery
    with pytest.raises(PayloadError) as caught:
        sim.at(802).cycle("dis-1", start=200, temps_c=COOL, seq=5)
    assert caught.value.reason == "replay"
    assert sim.store.conn.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] == 1


def test_a_station_without_a_probe_sends_no_cycle(tmp_path):
    sim = _sim(tmp_path)
    with pytest.raises(PayloadError) as caught:
        sim.at(10).cycle("sink-red-1", start=0, temps_c=HOT)
    assert caught.value.reason == "bad_topic" and "no temperature probe" in caught.value.detail


def test_the_coverage_clock_counts_the_time_every_reader_was_online(tmp_path):
    from edge_gateway.core.coverage import CoverageClock
    from edge_gateway.store.writer import Store
    from sebiao_common.clock import local_day_start_ms

    store = Store(tmp_path / "gateway.sqlite3")
    day = local_day_start_ms(T0)
    clock = CoverageClock(flush_ms=0)
    with store.transaction():
        for at, all_online in ((0, True), (60, True), (120, False), (180, False), (240, True), (300, True)):
            clock.tick(day + 3_600_000 + at * 1000, all_online, store)
    assert store.coverage_ms(day) == 180_000  # 0..120 s and 240..300 s: one station was down between
    restarted = CoverageClock(flush_ms=0)  # a restart goes on from what was kept, and counts no gap it missed
    with store.transaction():
        restarted.tick(day + 7_200_000, True, store)
        restarted.tick(day + 7_260_000, True, store)
    assert store.coverage_ms(day) == 240_000
    with store.transaction():  # the next day starts from nothing
        restarted.tick(day + 86_400_000 + 30_000, True, store)
    assert store.coverage_ms(local_day_start_ms(day + 86_400_000 + 30_000)) == 30_000


def test_a_station_whose_clock_is_wrong_disinfects_nothing(tmp_path):
    sim = _sim(tmp_path)
    _use(sim, "KN-R-01", "rack-red-1", "sink-red-1", 0)
    sim.at(150).event("dis-1", "04DEADBEEF0001", "placed", ts=T0 + 3_600_000)  # an hour ahead: station_clock
    assert ("station_clock", "dis-1") in sim.engine.active
    sim.at(800).cycle("dis-1", start=200, temps_c=HOT)
    sim.at(820).event("rack-red-1", "KN-R-01", "placed")
    assert "undisinfected_return" in sim.types()
    assert tuple(sim.store.conn.execute("SELECT passed, tools FROM cycles").fetchone()) == (1, "[]")
