"""The InfluxDB outbox end to end: the real gateway, real Mosquitto, real InfluxDB 1.6 (api: v1).

Every event published arrives in InfluxDB exactly once -- through an InfluxDB
outage in the middle of a stream, and through a kill -9 of the gateway in the
middle of a drain -- checked with InfluxQL.
"""

from __future__ import annotations

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import close_all, ms_ago, online_stations, stream

pytestmark = pytest.mark.slow


def influx_v1(server, **extra) -> dict:
    return {"api": "v1", "url": server.url, "database": "sebiao", "retry_max_seconds": 0.5, **extra}


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


def _tool_events(influx) -> int:
    return influx.scalar("SELECT count(seq) FROM tool_event", "sebiao")


def test_events_arrive_exactly_once_through_an_influxdb_outage(tmp_path, mosquitto, influxd):
    config = example_config()
    broker, influx = mosquitto(), influxd()
    cfg = write_config(tmp_path / "ws.yaml", broker, influx=influx_v1(influx))
    sent: dict = {}
    with GatewayProcess(cfg, tmp_path / "data") as gateway:
        stations = online_stations(broker, config, reconnect=True)
        stream(stations, 150, sent, ms_ago(60))
        gateway.wait_for(lambda: _tool_events(influx) >= 300, 20, "the first events in InfluxDB")
        influx.stop()  # an outage in the middle of the stream
        stream(stations, 150, sent, ms_ago(60))
        gateway.wait_for(lambda: gateway.count("events") == len(sent), 30, "all events stored")
        assert gateway.count("outbox") > 0  # kept while InfluxDB is away
        gateway.wait_for(lambda: gateway.metric("sebiao_outbox_write_failures_total", 'outcome="retry"') > 0, 10,
                         "a failed write counted as retry")  # the drain may not have tried yet on a busy machine
        health = gateway.get("/healthz").json()
        assert health["status"] == "degraded" and health["sinks"]["outbox"]["last_error"]
        assert health["sinks"]["outbox"]["running"] and health["sinks"]["outbox"]["depth"] > 0
        influx.start()
        gateway.wait_for(lambda: gateway.count("outbox") == 0, 30, "the outbox drained")
        gateway.wait_for(lambda: gateway.get("/healthz").json()["status"] == "ok", 10, "healthy again")
        _check_exactly_once(influx, sent)
        assert gateway.metric("sebiao_outbox_sent_lines_total") >= len(sent)
        # Station status and alarm transitions went the same way.
        assert influx.scalar("SELECT count(online) FROM station_status WHERE report='status'", "sebiao") >= 5
        close_all(stations)


def test_kill9_in_the_middle_of_a_drain_loses_and_duplicates_nothing(tmp_path, mosquitto, influxd):
    config = example_config()
    broker, influx = mosquitto(), influxd()
    # Small batches: the drain of the backlog takes many requests, so the kill lands inside it.
    cfg = write_config(tmp_path / "ws.yaml", broker, influx=influx_v1(influx, outbox={"batch_lines": 25}))
    influx.stop()  # a backlog builds up first
    sent: dict = {}
    gateway = GatewayProcess(cfg, tmp_path / "data").start()
    try:
        stations = online_stations(broker, config, reconnect=True)
        stream(stations, 500, sent, ms_ago(60))
        gateway.wait_for(lambda: gateway.count("events") == len(sent), 30, "all events stored")
        backlog = gateway.count("outbox")
        assert backlog >= len(sent)
        influx.start()
        gateway.wait_for(lambda: _tool_events(influx) > 0, 30, "the drain under way")
        gateway.kill9()
        arrived = _tool_events(influx)
        left = gateway.count("outbox")
        assert 0 < arrived < len(sent) and left > 0, (arrived, left)  # killed mid-drain
        gateway.start()
        gateway.wait_for(lambda: gateway.count("outbox") == 0, 60, "the outbox drained after the restart")
        _check_exactly_once(influx, sent)
        close_all(stations)
    finally:
        gateway.stop()
