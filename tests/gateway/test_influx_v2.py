"""The v2 write path (influxdb-client's synchronous write API, /api/v2/write) end to end,
against real VictoriaMetrics, read back through its /api/v1/export."""

from __future__ import annotations

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import close_all, ms_ago, online_stations, stream

pytestmark = pytest.mark.slow


def _exported(vm) -> set[tuple[str, int]]:
    """(station, seq) of every tool_event point VictoriaMetrics holds (string fields are not kept)."""
    out = set()
    for series in vm.export("tool_event_seq"):
        out |= {(series["metric"]["station"], int(v)) for v in series["values"]}
    return out


def test_v2_path_through_influxdb_client_into_victoria_metrics(tmp_path, mosquitto, victoria_metrics):
    config = example_config()
    broker, vm = mosquitto(), victoria_metrics()
    influx = {"api": "v2", "url": vm.url, "token": "test-token", "org": "ws-demo", "bucket": "sebiao",
              "retry_max_seconds": 0.5}
    cfg = write_config(tmp_path / "ws.yaml", broker, influx=influx)
    sent: dict = {}
    with GatewayProcess(cfg, tmp_path / "data") as gateway:
        stations = online_stations(broker, config, reconnect=True)
        stream(stations, 50, sent, ms_ago(60))
        gateway.wait_for(lambda: gateway.count("events") == len(sent), 30, "all events stored")
        vm.stop()  # an outage: rows wait in the outbox, then go
        stream(stations, 50, sent, ms_ago(60))
        gateway.wait_for(lambda: gateway.count("events") == len(sent), 30, "all events stored")
        vm.start()
        gateway.wait_for(lambda: gateway.count("outbox") == 0, 30, "the outbox drained")
        expected = {(station, seq) for station, _, seq in sent}
        gateway.wait_for(lambda: _exported(vm) == expected, 10, "every event in VictoriaMetrics")
        series = vm.export("tool_event_seq")
        assert {s["metric"]["workshop"] for s in series} == {"ws-demo"}
        assert {s["metric"]["action"] for s in series} == {"removed", "placed"}
        assert all("tool_kind" in s["metric"] and "tool" not in s["metric"] for s in series)  # ids are fields
        # station status went the same way (VictoriaMetrics may show a new series a moment later)
        gateway.wait_for(lambda: vm.export("station_status_online"), 10, "station status in VictoriaMetrics")
        close_all(stations)
