"""Remote settings end to end: the workshop config's station_settings reach a virtual station (the real firmware)
through real Mosquitto and the real gateway process; the station reports the version it runs; a change in the
config reaches it, also when it was off at the change; a set it refuses leaves the old one."""

from __future__ import annotations

import time

import pytest
import yaml
from gateway_proc import GatewayProcess, write_config
from vstation_steps import step_until

from edge_gateway.config import load_config
from edge_gateway.model.station_settings import parse_station_settings
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs
from edge_gateway.tooling.station_config import load_station_config
from edge_gateway.vstation.runner import VirtualStation
from sebiao_common import strict_json

pytestmark = pytest.mark.slow
STATION = "rack-green-1"
SETTINGS = {"defaults": {"timing": {"heartbeat_s": 30}},
            "stations": [{"id": STATION, "reader": {"gain": 6}, "feedback": {"misuse_beeps": 2}}]}


def _until(vs, condition, timeout=15.0, what="condition"):
    step_until(vs, condition, timeout, what)


@pytest.fixture
def rig(mosquitto, tmp_path):
    broker = mosquitto()
    config_path = write_config(tmp_path / "workshop.yaml", broker, station_settings=SETTINGS)
    configs = tmp_path / "stations"
    write_station_configs(load_config(config_path), broker.credentials, configs,
                          ProvisionOptions(broker_url=broker.url))
    gateway = GatewayProcess(config_path, tmp_path / "data").start()
    yield broker, gateway, config_path, configs
    gateway.stop()


def _wanted(config_path):
    return parse_station_settings(load_config(config_path)).version(STATION)


def _station(configs, flash, **timing):
    cfg = load_station_config(configs / STATION / "config.json")
    cfg["timing"].update(timing)
    vs = VirtualStation(cfg, flash)
    vs.start()
    return vs



def _health(gateway):
    text = gateway.scalar("SELECT health FROM stations WHERE id = ?", (STATION,))
    return strict_json.loads(text or "{}")


def test_the_configs_settings_reach_the_station_and_a_change_reaches_it_after_an_outage(rig, tmp_path):
    _broker, gateway, config_path, configs = rig
    wanted = _wanted(config_path)
    vs = _station(configs, tmp_path / "flash")
    try:
        _until(vs, lambda: vs.station.cfg["settings_version"] == wanted, what="the config's settings applied")
        assert vs.station.link.heartbeat_ms == 30_000 and vs.station.reader.gain == 6
        assert vs.station.feedback.fb["misuse_beeps"] == 2
        _until(vs, lambda: _health(gateway).get("settings") == wanted, what="the gateway hears the version")
        flash = strict_json.loads((tmp_path / "flash" / "config.json").read_text("utf-8"))
        assert flash["settings_version"] == wanted and flash["reader"]["gain"] == 6
        vs.power_off()  # the station is off while the owner changes the config

        data = yaml.safe_load(config_path.read_text("utf-8"))
        data["station_settings"]["stations"][0]["reader"]["gain"] = 5
        config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        changed = _wanted(config_path)
        assert changed != wanted
        time.sleep(3)  # the gateway sees the change and restarts with it
        gateway.wait_ready()
    finally:
        vs.power_off()
    back = VirtualStation(vs.cfg, tmp_path / "flash")  # power on: the last good set from its flash
    assert back.station.cfg["settings_version"] == wanted and back.station.reader.gain == 6
    back.start()
    try:
        _until(back, lambda: back.station.cfg["settings_version"] == changed, timeout=30,
               what="the changed settings applied after the outage")
        assert back.station.reader.gain == 5
        _until(back, lambda: _health(gateway).get("settings") == changed, what="the gateway hears the new version")
    finally:
        back.power_off()


def test_a_set_the_station_refuses_leaves_the_old_one_and_is_not_sent_again(rig, tmp_path):
    _broker, gateway, config_path, configs = rig
    # provisioned with a short watchdog: the config's socket timeout (3000 ms, the default) needs 9000 ms
    vs = _station(configs, tmp_path / "flash", watchdog_ms=6000, socket_timeout_ms=2000, heartbeat_s=5)
    try:
        _until(vs, lambda: "settings_error" in vs.station.remote, what="the set refused")
        error = vs.station.remote["settings_error"]
        assert error["version"] == _wanted(config_path)
        assert "timing.watchdog_ms: must be at least 3 x timing.socket_timeout_ms" in error["error"]
        assert vs.station.cfg["settings_version"] == "" and vs.station.link.heartbeat_ms == 5000
        assert vs.station.cfg["timing"]["socket_timeout_ms"] == 2000
        assert not (tmp_path / "flash" / "config.json").exists()
        _until(vs, lambda: (_health(gateway).get("settings_error") or {}).get("version") == error["version"],
               what="the gateway hears the refusal")
        commands = []
        vs.on_command = commands.append
        end = time.monotonic() + 12  # two heartbeats of the station: the refused set is not sent again
        while time.monotonic() < end:
            vs.step()
            time.sleep(0.02)
        assert [c for c in commands if c.get("cmd") == "settings"] == []
    finally:
        vs.power_off()
