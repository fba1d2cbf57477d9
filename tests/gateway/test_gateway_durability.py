"""No data loss: kill -9 in the middle of a QoS 1 stream, a broker outage, a clean day."""

from __future__ import annotations

import threading
import time

import pytest
from gateway_proc import start_gateway
from servers import example_config
from stations_mqtt import STREAM, ms_ago, online_stations, stream

pytestmark = pytest.mark.slow


def _check_exactly_once(gateway, sent: dict, per_station: int) -> None:
    gateway.wait_for(lambda: gateway.count("events") >= len(sent), timeout=60, what=f"{len(sent)} events stored")
    stored = set(gateway.rows("SELECT station, boot, seq FROM events"))
    counts = dict(gateway.rows("SELECT subject, count FROM alarms WHERE type='unwashed_return' AND state='active'"))
    dead = gateway.count("dead_letters")
    assert stored == set(sent)  # nothing lost, nothing extra
    assert dead == 0
    assert counts == {tool: per_station // 2 for tool in STREAM.values()}  # each 'placed' applied once


def test_kill_9_mid_stream_loses_nothing_and_applies_nothing_twice(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = start_gateway(tmp_path, broker)
    stations = online_stations(broker, example_config(), reconnect=True)
    sent: dict = {}
    per_station = 600
    publisher = threading.Thread(target=stream, args=(stations, per_station, sent, ms_ago(60)))
    publisher.start()
    gateway.wait_for(lambda: gateway.count("events") > 300, what="stream under way")
    gateway.kill9()
    killed_at = gateway.count("events")
    gateway.start()
    publisher.join(120)
    _check_exactly_once(gateway, sent, per_station)
    assert 300 < killed_at < len(sent)  # the kill really fell in the middle
    gateway.stop()


def test_broker_outage_delays_events_and_drops_none(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = start_gateway(tmp_path, broker)
    stations = online_stations(broker, example_config(), reconnect=True)
    sent: dict = {}
    stream(stations, 100, sent, ms_ago(60))
    gateway.wait_for(lambda: gateway.count("events") == len(sent), what="first half")
    broker.stop()  # a clean stop: Mosquitto saves the gateway's persistent session
    time.sleep(0.5)
    assert gateway.get("/healthz").json()["broker"] == "disconnected"
    broker.start()
    for station in stations.values():
        assert station.client.connected.wait(15)
        station.status(True, buffer_depth=0)  # as the firmware does on every connect
    gateway.wait_ready(20)
    stream(stations, 100, sent, ms_ago(30))
    _check_exactly_once(gateway, sent, 200)
    gateway.stop()


def test_the_gateway_is_back_within_seconds_of_the_broker(mosquitto, tmp_path):
    """It tries again every 2 s at most: with a doubling delay (1, 2, 4, 8 s...) its tries after a 7.5 s
    outage were at 1, 3 and 7 s, the next at 15 s, while the stations' buffered events waited for it."""
    broker = mosquitto()
    gateway = start_gateway(tmp_path, broker)
    try:
        broker.stop()
        time.sleep(7.5)
        broker.start()
        back = time.monotonic()
        gateway.wait_for(lambda: gateway.get("/healthz").json()["broker"] == "connected", timeout=30,
                         what="the gateway connected again")
        assert time.monotonic() - back < 4.0
    finally:
        gateway.stop()


def test_a_clean_working_day_raises_no_alarm_over_mqtt(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = start_gateway(tmp_path, broker)
    config = example_config()
    stations = online_stations(broker, config, reconnect=True)
    sink_of = {s.zone: s.id for s in config.stations if s.kind.value == "sink"}
    t = time.time() - 3600  # an hour of work, replayed with real event times
    for rounds in range(3):
        for tool in config.tools:
            stations[tool.home].event(tool.id, "removed", ts=int(t * 1000))
            if tool.kind in config.rules.wash_required:
                stations[sink_of[tool.color]].event(tool.id, "placed", ts=int((t + 30) * 1000))
                stations[sink_of[tool.color]].event(tool.id, "removed", ts=int((t + 60) * 1000))
            stations[tool.home].event(tool.id, "placed", ts=int((t + 90) * 1000))
            t += 100
    total = 3 * sum(4 if tool.kind in config.rules.wash_required else 2 for tool in config.tools)
    gateway.wait_for(lambda: gateway.metric("sebiao_events_total") == total, what="the day's events")
    time.sleep(1.5)  # a tick of the clock rules
    assert gateway.get("/api/alarms?state=all").json() == []
    tools = gateway.get("/api/tools").json()
    assert {t["state"] for t in tools} == {"on_rack"}
    assert all(t["station"] == config.tool(t["id"]).home for t in tools)
    gateway.stop()
