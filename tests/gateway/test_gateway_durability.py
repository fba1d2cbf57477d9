"""No data loss: kill -9 in the middle of a QoS 1 stream, a broker outage, a clean day."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import ScriptedStation

pytestmark = pytest.mark.slow

# One tool per station, taken and put back unwashed over and over: every 'placed'
# is an unwashed return counted on one active alarm, so the alarm's count proves
# each event was applied exactly once, in order.
STREAM = {"rack-red-1": "KN-R-01", "rack-green-1": "KN-G-01", "rack-white-1": "KN-W-01",
          "rack-yellow-1": "CT-Y-01"}


def _db(gateway) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)


def _count(gateway, sql: str) -> int:
    conn = _db(gateway)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def _stream(stations, per_station: int, sent: dict, start: float) -> None:
    for i in range(per_station):
        for station_id, tool in STREAM.items():
            event = stations[station_id].event(tool, "removed" if i % 2 == 0 else "placed",
                                               ts=int((start + i * 0.001) * 1000))
            sent[(station_id, event.boot, event.seq)] = event


def _online(broker, config):
    stations = {s.id: ScriptedStation(broker, config, s.id, reconnect=True) for s in config.stations}
    for station in stations.values():
        station.status(True, buffer_depth=0)
    return stations


def _check_exactly_once(gateway, sent: dict, per_station: int) -> None:
    gateway.wait_for(lambda: _count(gateway, "SELECT COUNT(*) FROM events") >= len(sent), timeout=60,
                     what=f"{len(sent)} events stored")
    conn = _db(gateway)
    stored = {(s, b, q) for s, b, q in conn.execute("SELECT station, boot, seq FROM events")}
    counts = dict(conn.execute("SELECT subject, count FROM alarms WHERE type='unwashed_return' "
                               "AND state='active'").fetchall())
    dead = conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
    conn.close()
    assert stored == set(sent)  # nothing lost, nothing extra
    assert dead == 0
    assert counts == {tool: per_station // 2 for tool in STREAM.values()}  # each 'placed' applied once


def test_kill_9_mid_stream_loses_nothing_and_applies_nothing_twice(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data").start()
    stations = _online(broker, example_config())
    sent: dict = {}
    per_station = 600
    publisher = threading.Thread(target=_stream, args=(stations, per_station, sent, time.time() - 60))
    publisher.start()
    gateway.wait_for(lambda: _count(gateway, "SELECT COUNT(*) FROM events") > 300, what="stream under way")
    gateway.kill9()
    killed_at = _count(gateway, "SELECT COUNT(*) FROM events")
    gateway.start()
    publisher.join(120)
    _check_exactly_once(gateway, sent, per_station)
    assert 300 < killed_at < len(sent)  # the kill really fell in the middle
    gateway.stop()


def test_broker_outage_delays_events_and_drops_none(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data").start()
    config = example_config()
    stations = _online(broker, config)
    sent: dict = {}
    _stream(stations, 100, sent, time.time() - 60)
    gateway.wait_for(lambda: _count(gateway, "SELECT COUNT(*) FROM events") == len(sent), what="first half")
    broker.stop()  # a clean stop: Mosquitto saves the gateway's persistent session
    time.sleep(0.5)
    assert gateway.get("/healthz").json()["broker"] == "disconnected"
    broker.start()
    for station in stations.values():
        assert station.client.connected.wait(15)
        station.status(True, buffer_depth=0)  # as the firmware does on every connect
    gateway.wait_ready(20)
    _stream(stations, 100, sent, time.time() - 30)
    _check_exactly_once(gateway, sent, 200)
    gateway.stop()


def test_a_clean_working_day_raises_no_alarm_over_mqtt(mosquitto, tmp_path):
    broker = mosquitto()
    gateway = GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data").start()
    config = example_config()
    stations = _online(broker, config)
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
