"""Station health in InfluxDB: the real gateway, real Mosquitto, real InfluxDB 1.x (api: v1). A station's status
figures are fields of ``station_status`` with one type each, every new boot is a ``station_boot`` point tagged
with its reset cause, and a status of an older firmware (none of the new fields) still writes next to them."""

from __future__ import annotations

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import close_all, online_stations

pytestmark = pytest.mark.slow
DB = "sebiao"

HEALTH = {"fw": "0.2.0", "uptime_s": 3600, "heap_free": 81_234, "rssi": -67, "reader_ok": False,
          "reader": {"type": "mfrc522", "ok": False, "rf_errors": 5, "chip_faults": 2}, "buffer_depth": 0,
          "buffer_dropped": 0, "clock_synced": True, "settings": "s-7f3a",
          "settings_error": {"version": "d05516785b28", "error": "timing.poll_ms: 10 is outside 20..5000"},
          "update": {"version": "0.3.0", "state": "failed", "error": 'hash sebiao_station/app.py "x"'}}


def test_station_health_figures_reach_influxdb_with_one_type_each(tmp_path, mosquitto, influxd):
    broker, influx = mosquitto(), influxd()
    cfg = write_config(tmp_path / "ws.yaml", broker, influx={"api": "v1", "url": influx.url, "database": DB,
                                                             "retry_max_seconds": 0.5})
    with GatewayProcess(cfg, tmp_path / "data") as gateway:
        stations = online_stations(broker, example_config(), {"buffer_depth": 0, "fw": "1.0.0", "rssi": -50})
        try:
            red = stations["rack-red-1"]
            for boot, cause in (("0000000a", "power_on"), ("0000000b", "watchdog"), ("0000000c", "watchdog")):
                red.status(True, **HEALTH, boot=boot, reset_cause=cause)
            gateway.wait_for(lambda: influx.scalar("SELECT count(resets) FROM station_boot", DB) == 3, 20,
                             "three boots in InfluxDB")
            gateway.wait_for(lambda: influx.scalar("SELECT count(alarm_id) FROM alarm WHERE \"type\" = "
                                                   "'station_resets'", DB), 20, "the station_resets alarm point")
            gateway.wait_for(lambda: influx.scalar("SELECT count(alarm_id) FROM alarm WHERE \"type\" = "
                                                   "'reader_fault'", DB), 20, "the reader_fault alarm point")
            (last,) = influx.rows(
                "SELECT last(fw) AS fw, last(settings) AS settings, last(boot) AS boot, "
                "last(reset_cause) AS cause, last(update_version) AS uv, last(update_state) AS us, "
                "last(update_error) AS ue, last(reader_ok) AS reader_ok, last(reader_errors) AS errors, "
                "last(clock_synced) AS synced, last(heap_free) AS heap, last(uptime_s) AS uptime, "
                "last(settings_error) AS refused "
                "FROM station_status WHERE station = 'rack-red-1' AND report = 'status'", DB)
            assert {k: v for k, v in last.items() if k != "time"} == {
                "fw": "0.2.0", "settings": "s-7f3a", "boot": "0000000c", "cause": "watchdog", "uv": "0.3.0",
                "us": "failed", "ue": 'hash sebiao_station/app.py "x"', "reader_ok": 0, "errors": 7, "synced": 1,
                "heap": 81234.0, "uptime": 3600.0,
                "refused": "d05516785b28: timing.poll_ms: 10 is outside 20..5000"}
            by_cause = {r["reset_cause"]: r["sum"] for r in influx.rows(
                "SELECT sum(resets) FROM station_boot WHERE station = 'rack-red-1' GROUP BY reset_cause", DB)}
            assert by_cause == {"power_on": 1, "watchdog": 2}
            types = {r["fieldKey"]: r["fieldType"] for r in influx.rows("SHOW FIELD KEYS FROM station_status", DB)}
            assert {k: types[k] for k in ("online", "buffer_depth", "rssi", "heap_free", "fw", "settings",
                                          "reset_cause", "settings_error", "update_state", "update_error", "reader_ok",
                                          "reader_errors", "clock_synced")} == {
                "online": "integer", "buffer_depth": "integer", "rssi": "float", "heap_free": "float",
                "fw": "string", "settings": "string", "reset_cause": "string", "settings_error": "string",
                "update_state": "string",
                "update_error": "string", "reader_ok": "integer", "reader_errors": "integer",
                "clock_synced": "integer"}
            # an older firmware's status (no boot, no update, no settings) keeps writing beside them
            old = {r["station"]: r["fw"] for r in influx.rows(
                "SELECT last(fw) AS fw FROM station_status WHERE report = 'status' GROUP BY station", DB)}
            assert old["sink-white-1"] == "1.0.0" and len(old) == len(example_config().stations)
            assert gateway.count("outbox_dead") == 0
        finally:
            close_all(stations)
