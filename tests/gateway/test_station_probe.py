"""A virtual station with a temperature probe: the script's probe steps, and
`sebiao station` running a disinfection cycle to real Mosquitto."""

from __future__ import annotations

import json

import pytest
from station_proc import StationProcess

from edge_gateway.tooling.firmware_files import use_firmware
from edge_gateway.vstation.script import ProbeFault, ScriptError, Temp, Wait, parse_line


@pytest.mark.parametrize("text, expected", [
    ("heat 85 120", Temp(celsius=85.0, seconds=120.0)),
    ("COOL 30.5 60  # down again", Temp(celsius=30.5, seconds=60.0)),
    ("temp 121", Temp(celsius=121.0, seconds=0.0)),
    ("hold 600", Wait(seconds=600.0)),
    ("probe absent", ProbeFault(fault="absent")),
    ("probe STUCK85", ProbeFault(fault="stuck85")),
])
def test_probe_lines(text, expected):
    assert parse_line(text, 1) == expected


@pytest.mark.parametrize("text, reason", [
    ("heat", "'heat' takes a temperature in °C"),
    ("heat 85 10 20", "'heat' takes a temperature in °C"),
    ("heat hot", "'heat hot': not a temperature in °C"),
    ("heat 130", "'heat 130': the probe reads -55 to 125 °C"),
    ("cool nan", "the probe reads -55 to 125 °C"),
    ("temp 80 -5", "'temp -5': use 0 to"),
    ("hold", "'hold' takes a number of seconds"),
    ("probe", "'probe' takes one of ok, absent, crc, stuck85"),
    ("probe broken", "'probe' takes one of"),
])
def test_bad_probe_lines(text, reason):
    with pytest.raises(ScriptError) as err:
        parse_line(text, 3)
    assert err.value.line == 3 and reason in err.value.reason


def _station_config(broker, tmp_path, probe):
    use_firmware()
    from sebiao_station import config

    user, password = broker.account("rack-red-1")
    given = {"workshop": broker.config.workshop.id, "station": "rack-red-1",
             "broker": {"host": "127.0.0.1", "port": broker.port, "username": user, "password": password},
             "timing": {"backoff_min_ms": 200, "backoff_max_ms": 1000}}
    if probe is not None:
        given["probe"] = probe
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.validate(given)))
    return path


def test_a_scripted_cycle_reaches_the_broker(mosquitto, tmp_path):
    broker = mosquitto()
    path = _station_config(broker, tmp_path, {"interval_s": 1, "start_c": 60, "max_s": 600})
    topic = f"sebiao/{broker.config.workshop.id}/rack-red-1/cycle"
    with broker.client("gateway") as gw:
        gw.subscribe(topic)
        st = StationProcess(path, tmp_path / "flash")
        try:
            st.expect("connected to the broker")
            st.send("heat 80 2", "hold 3", "probe crc", "wait 1.5", "probe ok", "cool 20 2", "wait 2")
            assert "80 °C" in st.expect("probe to 80 °C over 2 s")
            assert "CRC" in st.expect("probe CRC errors")
            line = st.expect("cycle ended", timeout=20)
            assert "最高 / max 80.0 °C" in line
            st.expect("cycle ended", timeout=20)  # the CRC error split it in two: no guessed sample
            assert st.finish() == (0, "")
        finally:
            st.kill()
        got = [json.loads(m.payload) for m in gw.receive_until(lambda m: m.topic == topic)]
        got += [json.loads(m.payload) for m in gw.receive_until(lambda m: m.topic == topic)]
    first, second = got
    assert (first["seq"], second["seq"]) == (0, 1) and first["interval_s"] == 1
    assert max(first["temps_dc"]) == 800 and first["temps_dc"][0] >= 600
    assert second["temps_dc"][-1] < 580 and second["start"] > first["ts"]


def test_probe_lines_on_a_station_without_a_probe_are_skipped(mosquitto, tmp_path):
    broker = mosquitto()
    st = StationProcess(_station_config(broker, tmp_path, None), tmp_path / "flash")
    try:
        st.expect("connected to the broker")
        st.send("heat 80", "place 04A224E2C65E80", "wait 1")
        st.expect("placed")
        code, err = st.finish()
    finally:
        st.kill()
    assert code == 0 and "line 1 skipped: this station has no probe" in err


def test_a_probe_stations_status_keeps_the_gateways_health_bounds(tmp_path):
    from edge_gateway.vstation.runner import VirtualStation
    from sebiao_common import strict_json
    from sebiao_common.station_health import health_problem

    use_firmware()
    from sebiao_station import config, protocol

    cfg = config.validate({"station": "cab-1", "probe": {}})
    vs = VirtualStation(cfg, tmp_path / "flash")
    vs.station.probe.error = "85 power-on value"
    vs.station.probe.last_dc = 1215
    status = strict_json.loads(protocol.status_payload(True, vs.station.health()))
    assert status["probe_c"] == 121.5 and status["probe_errors"] == 0 and status["probe_in_cycle"] is False
    health = {k: v for k, v in status.items() if k not in ("v", "online")}
    assert health_problem(health) is None
