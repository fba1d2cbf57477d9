"""Virtual stations (the real firmware on the host) against the real gateway
through real Mosquitto: events reach the gateway's /api/tools, a misuse gives
an alarm and the station its feedback command, and a broker outage loses no event."""

from __future__ import annotations

import pytest
from gateway_proc import GatewayProcess, write_config
from station_proc import StationProcess
from vstation_steps import step_until

from edge_gateway.config import load_config
from edge_gateway.tooling.devices.provision import (
    ProvisionOptions,
    write_station_configs,
)
from edge_gateway.tooling.station_config import load_station_config
from edge_gateway.vstation.runner import VirtualStation
from edge_gateway.vstation.script import Place, Remove

pytestmark = pytest.mark.slow
KNIFE = "04A224E2C65E80"  # KN-R-01, red, home rack-red-1
BOARD_G = "04C0FFEE000280"  # CB-G-01, green, home rack-green-1


def _until(vs, condition, timeout=10.0, what="condition"):
    step_until(vs, condition, timeout, what)


@pytest.fixture
def rig(mosquitto, tmp_path):
    broker = mosquitto()
    config_path = write_config(tmp_path / "workshop.yaml", broker)
    configs = tmp_path / "stations"
    write_station_configs(load_config(config_path), broker.credentials, configs,
                          ProvisionOptions(broker_url=broker.url))
    gateway = GatewayProcess(config_path, tmp_path / "data").start()
    yield broker, gateway, configs
    gateway.stop()


def _tool(gateway, tool_id):
    return next(t for t in gateway.get("/api/tools").json() if t["id"] == tool_id)


def test_virtual_stations_drive_the_gateway_and_get_feedback(rig, tmp_path):
    broker, gateway, configs = rig
    red = StationProcess(configs / "rack-red-1" / "config.json", tmp_path / "flash-red")
    white = StationProcess(configs / "rack-white-1" / "config.json", tmp_path / "flash-white")
    try:
        red.expect("connected to the broker")
        white.expect("connected to the broker")
        red.send(f"place {KNIFE} KN-R-01 knife red", "wait 1")
        red.expect("placed")
        gateway.wait_for(lambda: _tool(gateway, "KN-R-01")["state"] == "on_rack", what="KN-R-01 on its rack")
        assert _tool(gateway, "KN-R-01")["station"] == "rack-red-1"

        red.send(f"remove {KNIFE}")
        red.expect("removed")
        gateway.wait_for(lambda: _tool(gateway, "KN-R-01")["state"] == "out", what="KN-R-01 taken")

        white.send(f"place {KNIFE}")  # the raw-meat knife on the cooked-food rack
        feedback = white.expect("gateway feedback")
        assert "misuse" in feedback and "误用" in feedback
        alarms = gateway.get("/api/alarms?state=active").json()
        cross = [a for a in alarms if a["type"] == "cross_zone" and a["tool"] == "KN-R-01"]
        assert cross and cross[0]["severity"] == "critical" and cross[0]["station"] == "rack-white-1"
        assert _tool(gateway, "KN-R-01")["station"] == "rack-white-1"

        assert red.finish() == (0, "")
        code, err = white.finish()
        assert code == 0 and err == ""
    finally:
        red.kill()
        white.kill()
    assert gateway.metric("sebiao_events_total") == 3


def test_a_bad_script_line_is_named_and_skipped(rig, tmp_path):
    _broker, gateway, configs = rig
    st = StationProcess(configs / "rack-green-1" / "config.json", tmp_path / "flash")
    try:
        st.send("# a comment", "", "plase 04C0FFEE000280", "wait soon", f"place {BOARD_G}")
        code, err = st.finish()  # the last line right before the end of input still becomes an event
        assert any("/ placed" in line for line in _drain(st))
    finally:
        st.kill()
    assert code == 0
    assert "line 3 skipped: unknown command 'plase'" in err and "第 3 行" in err
    assert "line 4 skipped: 'wait soon': not a number of seconds" in err
    gateway.wait_for(lambda: _tool(gateway, "CB-G-01")["state"] == "on_rack", what="CB-G-01 on its rack")


def test_a_broker_outage_loses_no_event(rig, tmp_path):
    broker, gateway, configs = rig
    cfg = load_station_config(configs / "rack-green-1" / "config.json")
    cfg["timing"].update(backoff_min_ms=200, backoff_max_ms=800, socket_timeout_ms=1000, puback_timeout_ms=1000)
    vs = VirtualStation(cfg, tmp_path / "flash")
    vs.start()
    try:
        vs.apply(Place(uid=BOARD_G))
        _until(vs, lambda: vs.backlog == 0 and vs.station.seq == 1)
        broker.stop()  # the broker goes down; the board is taken, washed elsewhere, put back twice
        for _ in range(2):
            vs.apply(Remove(uid=BOARD_G))
            vs.run_for(1.2)
            vs.apply(Place(uid=BOARD_G))
            vs.run_for(0.6)
        assert vs.backlog == 4 and not vs.connected  # on the flash directory
        assert sorted(p.name for p in (tmp_path / "flash" / "buf").iterdir() if p.suffix == ".seg")
        broker.start()
        _until(vs, lambda: vs.backlog == 0, timeout=15)
    finally:
        vs.power_off()
    gateway.wait_for(lambda: gateway.metric("sebiao_events_total") == 5, timeout=15, what="all 5 events")
    tool = _tool(gateway, "CB-G-01")
    assert tool["state"] == "on_rack" and tool["station"] == "rack-green-1"


def _drain(st):
    lines = []
    while not st.lines.empty():
        lines.append(st.lines.get())
    return lines



def test_a_rack_with_two_tools_reports_both(rig, tmp_path):
    broker, gateway, configs = rig
    cloth = "5A3C9E01"  # CL-R-01, red, home rack-red-1
    red = StationProcess(configs / "rack-red-1" / "config.json", tmp_path / "flash-red")
    try:
        red.expect("connected to the broker")
        red.send(f"place {KNIFE} KN-R-01 knife red", f"place {cloth} CL-R-01 cloth red", "wait 1")
        first = red.expect("placed")
        second = red.expect("placed")
        assert {KNIFE, cloth} == {u for u in (KNIFE, cloth) if u in first + second}
        gateway.wait_for(lambda: all(_tool(gateway, t)["state"] == "on_rack" for t in ("KN-R-01", "CL-R-01")),
                         what="the knife and the cloth both on rack-red-1")
        assert {_tool(gateway, t)["station"] for t in ("KN-R-01", "CL-R-01")} == {"rack-red-1"}

        red.send(f"remove {KNIFE}", "wait 1")  # the knife is taken; the cloth stays
        assert KNIFE in red.expect("removed")
        gateway.wait_for(lambda: _tool(gateway, "KN-R-01")["state"] == "out", what="KN-R-01 taken")
        assert _tool(gateway, "CL-R-01")["state"] == "on_rack"
        assert red.finish() == (0, "")
    finally:
        red.kill()
    assert gateway.metric("sebiao_events_total") == 3
