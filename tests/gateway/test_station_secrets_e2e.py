"""A new Wi-Fi network or broker password end to end: a virtual station (the real firmware, its Wi-Fi simulated)
through real Mosquitto and the real gateway process, the HTTP API and ``sebiao station-secrets``. A new set that
connects is kept, one that does not is dropped and the old one stays, a power cut with a set pending leaves
both on flash and the trial goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from vstation_steps import step_until

from edge_gateway.broker.credentials import load_credentials
from edge_gateway.config import load_config
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs
from edge_gateway.tooling.firmware_files import use_firmware
from edge_gateway.tooling.station_config import load_station_config
from edge_gateway.vstation.runner import VirtualStation
from sebiao_common import strict_json

pytestmark = pytest.mark.slow
STATION = "rack-green-1"
OLD = ("shop-wifi", "old-pass-1")
NEW = ("shop-wifi-5g", "new-pass-2")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _until(vs, condition, timeout=20.0, what="condition"):
    step_until(vs, condition, timeout, what)


@pytest.fixture
def fast_trial(monkeypatch):
    use_firmware()
    from sebiao_station import secrets

    monkeypatch.setattr(secrets, "RETRY_MS", 1000)  # the gateway's time to switch: a second, not 30 s
    monkeypatch.setattr(secrets, "TURN_MS", 500)  # a set's turn: half a second, not 15 s (no Wi-Fi to join)
    return secrets


@pytest.fixture
def rig(mosquitto, tmp_path, fast_trial):
    broker = mosquitto()
    config_path = write_config(tmp_path / "workshop.yaml", broker)
    configs = tmp_path / "stations"
    write_station_configs(load_config(config_path), broker.credentials, configs,
                          ProvisionOptions(broker_url=broker.url, wifi_ssid=OLD[0], wifi_password=OLD[1]))
    gateway = GatewayProcess(config_path, tmp_path / "data").start()
    yield broker, gateway, configs
    gateway.stop()


def _station(cfg, flash, networks):
    vs = VirtualStation(cfg, flash)
    vs.board.networks = networks
    vs.start()
    return vs


def _config(configs):
    cfg = load_station_config(configs / STATION / "config.json")
    cfg["timing"].update(backoff_min_ms=200, backoff_max_ms=400, heartbeat_s=5)
    return cfg



def _state(vs):
    return vs.station.remote.get("secrets", {}).get("state")


def _send(gateway, vs, body):
    _until(vs, lambda: any(s["id"] == STATION and s["online"] for s in gateway.get("/api/stations").json()),
           what="the gateway sees the station online")
    answer = gateway.post(f"/api/stations/{STATION}/secrets", body)
    assert answer.status_code == 202, answer.text
    return answer.json()["version"]


def _flash(tmp_path, name="config.json"):
    return strict_json.loads((tmp_path / "flash" / name).read_text("utf-8"))


def test_a_new_wifi_that_connects_is_kept(rig, tmp_path):
    _broker, gateway, configs = rig
    vs = _station(_config(configs), tmp_path / "flash", {OLD[0]: OLD[1], NEW[0]: NEW[1]})
    try:
        version = _send(gateway, vs, {"wifi": {"ssid": NEW[0], "password": NEW[1]}})
        _until(vs, lambda: _state(vs) == "applied", what="the new Wi-Fi kept")
        assert vs.board.joined == NEW[0] and vs.station.remote["secrets"]["version"] == version
        assert _flash(tmp_path)["wifi"] == {"ssid": NEW[0], "password": NEW[1]}
        assert not (tmp_path / "flash" / "secrets.json").exists()
        _until(vs, lambda: next(s for s in gateway.get("/api/stations").json() if s["id"] == STATION)["secrets"]
               == {"version": version, "state": "applied", "fails": 0}, what="the gateway hears it")
    finally:
        vs.power_off()


def test_a_new_wifi_that_does_not_connect_falls_back_to_the_old(rig, tmp_path, fast_trial):
    _broker, gateway, configs = rig
    vs = _station(_config(configs), tmp_path / "flash", {OLD[0]: OLD[1]})  # the new network is not in reach
    try:
        _send(gateway, vs, {"wifi": {"ssid": NEW[0], "password": NEW[1]}})
        _until(vs, lambda: _state(vs) == "dropped", timeout=40, what="the new Wi-Fi dropped")
        assert vs.station.remote["secrets"]["fails"] == fast_trial.DROP_AFTER
        _until(vs, lambda: vs.connected, what="back on the old Wi-Fi")
        assert vs.board.joined == OLD[0]
        assert not (tmp_path / "flash" / "secrets.json").exists()
        assert not (tmp_path / "flash" / "config.json").exists()  # config.json never changed
    finally:
        vs.power_off()


def test_a_broker_password_the_broker_does_not_take_is_dropped(rig, tmp_path):
    broker, gateway, configs = rig
    vs = _station(_config(configs), tmp_path / "flash", None)
    try:
        _send(gateway, vs, {"broker": {"password": "not-the-brokers"}})  # sent without switching the broker
        _until(vs, lambda: _state(vs) == "dropped", timeout=40, what="the new password dropped")
        _until(vs, lambda: vs.connected, what="back on the old password")
        assert vs.station.link.client.password == broker.station(STATION).password
    finally:
        vs.power_off()


def test_station_secrets_switches_mosquitto_only_once_the_station_holds_the_new_password(rig, tmp_path):
    broker, gateway, configs = rig
    old = broker.station(STATION).password
    vs = _station(_config(configs), tmp_path / "flash", None)
    _until(vs, lambda: any(s["id"] == STATION and s["online"] for s in gateway.get("/api/stations").json()),
           what="online")
    env = {**os.environ, "PYTHONPATH": ROOT}
    cli = subprocess.Popen(
        [sys.executable, "-m", "sebiao.cli", "station-secrets", "--station", STATION, "--gateway", gateway.base,
         "--token", TOKEN, "--new-broker-password", "--broker-dir", str(broker.config_dir),
         "--reload-command", f"kill -HUP {broker._proc.pid}", "--timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(cli.stdout), daemon=True)
    reader.start()
    try:
        _until(vs, lambda: cli.poll() is not None, timeout=60, what="the command ends")
        reader.join(5)
        assert cli.returncode == 0, "".join(out)
        new = load_credentials(broker.config_dir).station(STATION).password
        assert new != old and _state(vs) == "applied"
        assert vs.station.link.client.password == new and _flash(tmp_path)["broker"]["password"] == new
        assert (broker.config_dir / "passwd").read_text().count(f"{STATION}:") == 1
        vs.power_off()  # it comes back with the new password, which the broker takes
        back = _station(vs.cfg, tmp_path / "flash", None)
        try:
            _until(back, lambda: back.connected, what="a new connection with the new password")
        finally:
            back.power_off()
        stale = dict(vs.cfg, broker=dict(vs.cfg["broker"], password=old))
        refused = _station(stale, tmp_path / "flash-stale", None)  # the old password no longer gets in
        try:
            end = time.monotonic() + 3
            while time.monotonic() < end:
                refused.step()
                assert not refused.connected
                time.sleep(0.02)
            assert "not authorised" in refused.station.link.last_error or "refused" in refused.station.link.last_error
        finally:
            refused.power_off()
    finally:
        vs.power_off()
        if cli.poll() is None:
            cli.kill()


def test_a_power_cut_with_a_set_pending_leaves_both_and_the_trial_goes_on(rig, tmp_path):
    _broker, gateway, configs = rig
    networks = {OLD[0]: OLD[1], NEW[0]: NEW[1]}
    cfg = _config(configs)
    vs = _station(cfg, tmp_path / "flash", networks)
    try:
        _send(gateway, vs, {"wifi": {"ssid": NEW[0], "password": NEW[1]}})
        _until(vs, lambda: _state(vs) == "pending", what="pending")
    finally:
        vs.power_off()  # the power goes before the new set had its turn
    assert _flash(tmp_path, "secrets.json")["wifi"]["ssid"] == NEW[0]  # the new set on flash ...
    assert cfg["wifi"]["ssid"] == OLD[0]  # ... beside the old one, which the station was provisioned with
    back = _station(cfg, tmp_path / "flash", networks)
    try:
        assert back.station.link.trial is not None
        _until(back, lambda: _state(back) == "applied", what="the trial goes on after the power cut")
        assert back.board.joined == NEW[0] and _flash(tmp_path)["wifi"]["ssid"] == NEW[0]
    finally:
        back.power_off()


def test_the_endpoint_takes_only_a_good_request_with_the_token_for_an_online_station(rig, tmp_path):
    _broker, gateway, configs = rig
    good = {"wifi": {"ssid": NEW[0], "password": NEW[1]}}
    assert gateway.post(f"/api/stations/{STATION}/secrets", good, token=None).status_code == 401
    assert gateway.post(f"/api/stations/{STATION}/secrets", good, token="wrong-token-0123456789").status_code == 401
    assert gateway.post("/api/stations/rack-red-9/secrets", good).status_code == 404
    assert gateway.post(f"/api/stations/{STATION}/secrets", good).status_code == 409  # not online: nothing sent
    vs = _station(_config(configs), tmp_path / "flash", None)
    commands = []
    vs.on_command = commands.append
    try:
        _until(vs, lambda: any(s["id"] == STATION and s["online"] for s in gateway.get("/api/stations").json()),
               what="online")
        for body, field in (({"wifi": {"ssid": NEW[0], "password": "short"}}, "wifi.password"),
                            ({"wifi": {"ssid": NEW[0]}}, "wifi"),
                            ({"broker": {"password": ""}}, "broker.password"),
                            ({"broker": {"password": "x"}, "pins": {}}, "pins: unknown key"),
                            ({}, "give at least one"),
                            ([1], "JSON object")):
            answer = gateway.post(f"/api/stations/{STATION}/secrets", body)
            assert answer.status_code == 400 and field in answer.json()["error"], (body, answer.text)
        big = {"wifi": {"ssid": "x" * 2000, "password": NEW[1]}}
        assert gateway.post(f"/api/stations/{STATION}/secrets", big).status_code == 413
        vs.run_for(1.0)
        assert [c for c in commands if c.get("cmd") == "secrets"] == []  # nothing refused reached the station
    finally:
        vs.power_off()
    assert NEW[1] not in gateway.log()  # the values are not logged
