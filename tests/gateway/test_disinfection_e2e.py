"""Disinfection end to end: scripted stations publish events and probe cycles over real Mosquitto to the real
gateway process; the gateway judges the cycles, raises undisinfected_return, dead-letters a bad cycle, and its
shop-front display (in headless Chromium) says what the readers saw and how much they cover."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from stations_mqtt import close_all, online_stations
from web_browser import TV, browser, login, open_page

from edge_gateway.config import load_config
from edge_gateway.model.protocol import cycle_topic
from sebiao_common.clock import local_day_start_ms

DISINFECT = Path(__file__).parents[2] / "examples" / "workshop-disinfect.yaml"
HOT = [121.0] * 11  # ten minutes at 121 °C: a cabinet's cycle passes


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    # The tests build on one working morning replayed into 'today' (the first plays it, the others check what
    # the display and console then claim): near local midnight 'today' cannot hold it, so none of them runs.
    now = int(time.time() * 1000)
    if local_day_start_ms(now - 1_000_000) != local_day_start_ms(now + 300_000):
        pytest.skip("the morning would straddle local midnight: 'today' on the display would not hold it")
    config = load_config(DISINFECT)
    broker = mosquitto_module(config)
    tmp = tmp_path_factory.mktemp("disinfect")
    gateway = GatewayProcess(write_config(tmp / "workshop.yaml", broker, base=DISINFECT), tmp / "data").start()
    stations = online_stations(broker, config)
    try:
        yield gateway, stations, config
    finally:
        close_all(stations)
        gateway.stop()


def test_cycles_disinfect_the_tools_in_them_and_the_rest_are_alarmed(rig):
    gateway, st, _ = rig
    t = int(time.time() * 1000) - 1_000_000  # the working morning, replayed with the stations' own times
    if local_day_start_ms(t) != local_day_start_ms(t + 1_000_000):
        pytest.skip("the morning would straddle local midnight: 'today' on the display would not hold it")
    for tool, rack, sink, at in (("KN-R-01", "rack-red-1", "sink-red-1", 0),
                                 ("CT-W-01", "rack-white-1", "sink-white-1", 5_000)):
        st[rack].event(tool, "removed", ts=t + at)
        st[sink].event(tool, "placed", ts=t + at + 40_000)
        st[sink].event(tool, "removed", ts=t + at + 70_000)  # 30 s at its sink: a wash
        st["dis-1"].event(tool, "placed", ts=t + at + 100_000)
    st["dis-1"].event("CT-W-01", "removed", ts=t + 300_000)  # taken out mid-cycle
    st["sink-white-1"].event("KN-W-01", "placed", ts=t + 500_000)  # a knife held at the sink for a second:
    st["sink-white-1"].event("KN-W-01", "removed", ts=t + 501_000)  # no wash
    st["dis-1"].cycle(start=t + 200_000, temps_c=HOT)  # held 200 s .. 800 s
    st["dis-1"].event("KN-R-01", "removed", ts=t + 850_000)
    st["rack-red-1"].event("KN-R-01", "placed", ts=t + 860_000)
    st["rack-white-1"].event("CT-W-01", "placed", ts=t + 870_000)
    gateway.wait_for(lambda: gateway.count("cycles") == 1 and gateway.scalar(
        "SELECT COUNT(*) FROM events WHERE station LIKE 'rack-%' AND action = 'placed'") == 2, what="the day")
    row = gateway.rows("SELECT method, passed, hold_seconds, max_temp_dc, tools FROM cycles")[0]
    assert row[:4] == ("cabinet", 1, 600, 1210) and json.loads(row[4]) == ["KN-R-01"]
    alarms = gateway.wait_for(lambda: gateway.rows("SELECT type, subject FROM alarms WHERE state = 'active'"),
                              what="the alarm")
    assert alarms == [("undisinfected_return", "CT-W-01")]  # the knife's cycle passed; the container left early
    assert gateway.metric("sebiao_cycles_total", 'passed="true"') == 1


def test_a_bad_cycle_is_dead_lettered_and_the_gateway_goes_on(rig):
    gateway, st, config = rig
    before, cycles = gateway.count("dead_letters"), gateway.count("cycles")
    st["dis-1"].client.publish(cycle_topic(config.workshop.id, "dis-1"),
                               b'{"v":1,"boot":"0a0b0c0d","seq":1,"ts":1764143400000,"start":1764142800000,'
                               b'"interval_s":60,"temps_dc":["hot"]}', qos=1)
    gateway.wait_for(lambda: gateway.count("dead_letters") > before, what="the dead letter")
    reason, topic = gateway.rows("SELECT reason, topic FROM dead_letters ORDER BY id DESC LIMIT 1")[0]
    assert (reason, topic) == ("bad_type", "sebiao/ws-disinfect/dis-1/cycle")
    st["sink-white-1"].cycle(start=int(time.time() * 1000) - 60_000, temps_c=[86.0] * 7, interval_s=10)
    gateway.wait_for(lambda: gateway.count("cycles") > cycles, what="the next cycle")


def test_the_display_says_what_the_readers_saw_and_how_much_they_cover(rig):
    gateway, _, _ = rig
    gateway.wait_for(lambda: gateway.count("cycles") >= 2, what="both cycles")
    data = gateway.get("/display/data.json").json()
    assert data["washes_today"] == 2  # real washes (30 s at a sink of its colour), not the passing knife
    assert data["disinfection"] == {"monitored": True, "passed": 2, "total": 2}
    coverage = data["coverage"]
    assert (coverage["tools_tagged"], coverage["tools_total"]) == (4, 4)
    assert (coverage["stations_today"], coverage["stations_total"]) == (5, 5)
    assert 0 <= coverage["covered_ms"] <= coverage["day_ms"]
    # the white container in the (white-zone) cabinet is in-zone activity, told as a disinfection
    assert {"disinfecting", "disinfected"} <= {a["action"] for a in data["activity"] if a["color"] == "white"}
    with browser() as chrome:
        page = open_page(chrome, gateway.base + "/display", TV)
        page.wait_rendered()
        assert page.text_content("#disinfect") == "2/2"
        assert page.text_content("#disinfect-label") == "今日消毒周期 合格/全部"
        assert "天读卡器未发现跨区放置" in page.text_content("#days-label")
        text = page.text_content("#coverage")
        assert "已贴标签器具 4/4" in text and "今日在线读卡站 5/5" in text and "小时" in text
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert page.text_content("#disinfect-label") == "disinfection cycles today, passed / all"
        assert "days the readers saw no cross-zone placement" in page.text_content("#days-label")
        assert "tools tagged 4/4" in page.text_content("#coverage")
        assert page.errors == []
        page.context.close()


def test_the_console_lists_the_cycles_and_the_same_claims(rig):
    gateway, _, _ = rig
    gateway.wait_for(lambda: gateway.count("cycles") >= 2, what="both cycles")
    with browser() as chrome:
        page = login(chrome, gateway.base, TOKEN)
        page.wait_rendered()
        page.wait_for_selector("#cycle-table tr[data-cycle]")
        rows = page.eval_on_selector_all("#cycle-table tbody tr", "rs => rs.map(r => r.innerText)")
        cabinet = next(r for r in rows if "消毒柜" in r)
        assert "✓ 合格" in cabinet and "KN-R-01" in cabinet and "600 s / 600 s ≥ 120 °C" in cabinet
        assert "121.0 °C" in cabinet
        assert any("热水清洗池" in r for r in rows)
        note = page.text_content("#today-note")
        assert "今日消毒周期 合格 2/2" in note and "已贴标签器具 4/4" in note
        card = page.wait_for_selector("article.alarm", timeout=2000)
        assert "未消毒归位" in card.text_content()
        assert page.errors == []
        page.context.close()


def test_without_a_probe_the_gateway_says_disinfection_is_not_monitored(mosquitto, tmp_path):
    broker = mosquitto()  # the example workshop: sinks without probes, no disinfect station
    with GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data") as gateway:
        assert "disinfection is not monitored" in gateway.log() and "消毒未监测" in gateway.log()
        data = gateway.get("/display/data.json").json()
        assert data["disinfection"] == {"monitored": False, "passed": 0, "total": 0}
        with browser() as chrome:
            page = open_page(chrome, gateway.base + "/display", TV)
            page.wait_rendered()
            assert page.text_content("#disinfect-label") == "消毒未监测"
            assert "无法证明已消毒" in page.text_content("#disinfect-note")
            assert page.get_attribute("#stat-disinfect", "data-monitored") == "no"
            page.context.close()
