"""The InfluxDB outbox end to end: the real gateway, real Mosquitto, real InfluxDB 1.6 (api: v1).

Done criteria of issue 3: every event published arrives in InfluxDB exactly
once -- through an InfluxDB outage in the middle of a stream, and through a
kill -9 of the gateway in the middle of a drain -- checked with InfluxQL.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import ScriptedStation

pytestmark = pytest.mark.slow

# One tool per rack, taken and put back over and over.
STREAM = {"rack-red-1": "KN-R-01", "rack-green-1": "KN-G-01", "rack-white-1": "KN-W-01",
          "rack-yellow-1": "CT-Y-01"}


def influx_v1(server, **extra) -> dict:
    return {"api": "v1", "url": server.url, "database": "sebiao", "retry_max_seconds": 0.5, **extra}


def _online(broker, config) -> dict[str, ScriptedStation]:
    stations = {s.id: ScriptedStation(broker, config, s.id, reconnect=True) for s in config.stations}
    for station in stations.values():
        station.status(True, buffer_depth=0)
    return stations


def _stream(stations, rounds: int, sent: dict) -> None:
    start = int(time.time() * 1000) - 60_000
    for i in range(rounds):
        for station_id, tool in STREAM.items():
            # Every event of a round in the same millisecond: the sequence in the
            # sub-millisecond digits keeps them apart.
            event = stations[station_id].event(tool, "removed" if i % 2 == 0 else "placed", ts=start + i)
            sent[(station_id, event.boot, event.seq)] = event


def _stored(gateway) -> int:
    conn = sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def _outbox(gateway) -> int:
    conn = sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


def _check_exactly_once(influx, sent: dict) -> None:
    """Every sent event is one point in tool_event, with its own boot and seq; nothing else."""
    rows = influx.rows("SELECT station, boot, seq FROM tool_event", "sebiao")
    got = [(r["station"], r["boot"], r["seq"]) for r in rows]
    assert len(got) == len(set(got))
    assert set(got) == set(sent)
    # What the user asks: the count per station, with InfluxQL.
    per_station = {r["station"]: r["count"] for r in influx.rows(
        "SELECT count(seq) FROM tool_event GROUP BY station", "sebiao")}
    expected: dict[str, int] = {}
    for station, _, _ in sent:
        expected[station] = expected.get(station, 0) + 1
    assert per_station == expected


def _wait(predicate, timeout: float, what: str, gateway=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what} not reached within {timeout} s" + (f":\n{gateway.log()[-3000:]}" if gateway else ""))


def _tool_events(influx) -> int:
    return influx.scalar("SELECT count(seq) FROM tool_event", "sebiao")


def test_events_arrive_exactly_once_through_an_influxdb_outage(tmp_path, mosquitto, influxd):
    config = example_config()
    broker, influx = mosquitto(), influxd()
    cfg = write_config(tmp_path / "ws.yaml", broker, influx=influx_v1(influx))
    sent: dict = {}
    with GatewayProcess(cfg, tmp_path / "data") as gateway:
        stations = _online(broker, config)
        _stream(stations, 150, sent)
        _wait(lambda: _tool_events(influx) >= 300, 20, "the first events in InfluxDB", gateway)
        influx.stop()  # an outage in the middle of the stream
        _stream(stations, 150, sent)
        _wait(lambda: _stored(gateway) == len(sent), 30, "all events stored", gateway)
        assert _outbox(gateway) > 0  # kept while InfluxDB is away
        _wait(lambda: gateway.metric("sebiao_outbox_write_failures_total", 'outcome="retry"') > 0, 10,
              "a failed write counted as retry", gateway)  # the drain may not have tried yet on a busy machine
        health = gateway.get("/healthz").json()
        assert health["status"] == "degraded" and health["sinks"]["outbox"]["last_error"]
        assert health["sinks"]["outbox"]["running"] and health["sinks"]["outbox"]["depth"] > 0
        influx.start()
        _wait(lambda: _outbox(gateway) == 0, 30, "the outbox drained", gateway)
        _wait(lambda: gateway.get("/healthz").json()["status"] == "ok", 10, "healthy again", gateway)
        _check_exactly_once(influx, sent)
        assert gateway.metric("sebiao_outbox_sent_lines_total") >= len(sent)
        # Station status and alarm transitions went the same way.
        assert influx.scalar("SELECT count(online) FROM station_status WHERE report='status'", "sebiao") >= 5
        for station in stations.values():
            station.close()


def test_kill9_in_the_middle_of_a_drain_loses_and_duplicates_nothing(tmp_path, mosquitto, influxd):
    config = example_config()
    broker, influx = mosquitto(), influxd()
    # Small batches: the drain of the backlog takes many requests, so the kill lands inside it.
    cfg = write_config(tmp_path / "ws.yaml", broker, influx=influx_v1(influx, outbox={"batch_lines": 25}))
    influx.stop()  # a backlog builds up first
    sent: dict = {}
    gateway = GatewayProcess(cfg, tmp_path / "data").start()
    try:
        stations = _online(broker, config)
        _stream(stations, 500, sent)
        _wait(lambda: _stored(gateway) == len(sent), 30, "all events stored", gateway)
        backlog = _outbox(gateway)
        assert backlog >= len(sent)
        influx.start()
        _wait(lambda: _tool_events(influx) > 0, 30, "the drain under way", gateway)
        gateway.kill9()
        arrived = _tool_events(influx)
        left = _outbox(gateway)
        assert 0 < arrived < len(sent) and left > 0, (arrived, left)  # killed mid-drain
        gateway.start()
        _wait(lambda: _outbox(gateway) == 0, 60, "the outbox drained after the restart", gateway)
        _check_exactly_once(influx, sent)
        for station in stations.values():
            station.close()
    finally:
        gateway.stop()
