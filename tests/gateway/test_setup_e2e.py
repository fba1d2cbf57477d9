"""The setup as evidence, end to end: the real gateway process pushing to the real cloud process (SQLite and
PostgreSQL) over Mosquitto.

The owner restarts the gateway with a new exception: the gateway records setup version 2 and sends it; the
cloud shows the change and holds the relaxation pending; a green knife at the red sink raises nothing at the
gateway (the exception excuses it) but reaches the cloud as a silenced alarm, counted; the inspector accepts
(备案): no longer counted. Restarting with the same config makes no new version.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from stations_mqtt import ScriptedStation, close_all, online_stations

from cloud_ingest.access import admin
from edge_gateway.config import load_config
from sebiao_common import strict_json

pytestmark = pytest.mark.slow

EXCEPTION = {"station": "sink-red-1", "color": "green", "alarms": ["cross_zone_wash"],
             "reason": "蔬菜与肉馅同池清洗，已向监管所备案"}


@pytest.fixture
def cloud_for_demo(cloud_url: str, tmp_path: Path) -> Iterator[tuple[Cloud, CloudServer, dict[str, str]]]:
    """The cloud's tenants plus the example's workshop ws-demo in district d1 (insp1's), served by a real
    ``sebiao cloud`` process; the tokens by name, ``gw-ws-demo`` its gateway's."""
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))
    tokens = cloud.tenants()
    cloud.as_admin(admin.create_workshop, {"id": "ws-demo", "name": "示例凉皮作坊", "district": "d1"}, cloud.now)
    key = gateway_key_command(tmp_path / "data")  # the gateway's signing key, made as the installer does
    tokens["gw-ws-demo"] = cloud.as_admin(admin.issue_token, {"kind": "gateway", "workshop": "ws-demo",
                                                              "public_key": key}, cloud.now)["token"]
    process = CloudServer(tmp_path, cloud_url).start()
    try:
        yield cloud, process, tokens
    finally:
        process.stop()
        cloud.client.close()
        cloud.engine.dispose()


def _setup(process: CloudServer, token: str) -> dict:
    r = process.get(token, "/api/v1/workshops/ws-demo/setup")
    assert r.status_code == 200, r.text
    return r.json()


def test_an_owner_relaxing_the_config_is_seen_counted_and_accepted(mosquitto, tmp_path, cloud_for_demo):
    _, process, tokens = cloud_for_demo
    insp = tokens["insp1"]
    broker = mosquitto()
    cloud = {"url": process.url, "token": tokens["gw-ws-demo"], "linger_seconds": 0, "retry_max_seconds": 1}
    config = write_config(tmp_path / "w.yaml", broker, cloud=cloud)
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        gateway.wait_for(lambda: _setup(process, insp)["current"], timeout=30, what="setup version 1 in the cloud")
    finally:
        gateway.stop()
    first = _setup(process, insp)
    assert first["current"]["version"] == 1 and first["pending"] == []
    assert first["current"]["setup"]["rules"]["exceptions"] == []

    # the owner adds an exception and restarts
    data = yaml.safe_load(config.read_text("utf-8"))
    data["rules"]["exceptions"] = [EXCEPTION]
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    gateway.start()
    station = ScriptedStation(broker, load_config(config), "sink-red-1")
    try:
        gateway.wait_for(lambda: len(_setup(process, insp)["versions"]) == 2, timeout=30,
                         what="setup version 2 in the cloud")
        station.event("KN-G-01", "placed")  # a green knife at the red sink: excused at the gateway
        gateway.wait_for(lambda: _setup(process, insp)["silenced"], timeout=30, what="the silenced alarm")
        assert gateway.get("/api/alarms").json() == []  # nothing raised locally
        assert gateway.rows("SELECT version FROM setup_versions") == [(1,), (2,)]
        mine = gateway.get("/api/setup").json()  # the owner sees what the cloud was sent
        assert [(v["version"], v["queued"]) for v in mine["versions"]] == [(1, True), (2, True)]
        assert mine["current"]["setup"]["rules"]["exceptions"][0]["reason"] == EXCEPTION["reason"]
        assert mine["current"]["hash"] == _setup(process, insp)["current"]["hash"]
        assert mine["accepted"] == {"version": None, "rules": mine["accepted"]["rules"]}  # the seed's, so far
    finally:
        station.close()
        gateway.stop()
    shown = _setup(process, insp)
    v2 = shown["versions"][0]
    assert v2["version"] == 2 and shown["pending"] == [2]
    assert v2["changes"] == [{"path": "rules.exceptions", "before": [], "after": [
        {"station": "sink-red-1", "color": "green", "tool": None, "alarms": ["cross_zone_wash"],
         "reason": EXCEPTION["reason"]}]}]
    assert [x["path"] for x in v2["relaxations"]] == ["rules.exceptions"]
    (silenced,) = shown["silenced"]
    assert (silenced["type"], silenced["tool"], silenced["setup_version"], silenced["counted"]) == (
        "cross_zone_wash", "KN-G-01", 2, True)
    assert silenced["exception"]["reason"] == EXCEPTION["reason"]
    assert shown["silenced_counted"] == 1
    districts = process.get(insp, "/api/v1/districts").json()
    assert next(d for d in districts if d["id"] == "d1")["misuse_30d"]["misuse"] == 1

    r = process.post(insp, "/api/v1/workshops/ws-demo/setup/2/accept", {"note": "已现场核实，同意备案"})
    assert r.status_code == 200, r.text
    accepted = _setup(process, insp)
    assert accepted["pending"] == [] and accepted["silenced_counted"] == 0
    assert accepted["silenced"][0]["counted"] is False
    assert next(d for d in process.get(insp, "/api/v1/districts").json() if d["id"] == "d1")[
        "misuse_30d"]["misuse"] == 0

    # the same config again: no new version
    gateway.start()
    try:
        assert gateway.rows("SELECT version FROM setup_versions") == [(1,), (2,)]
        gateway.wait_for(lambda: gateway.count("cloud_outbox") == 0, timeout=30, what="the outbox empty")
    finally:
        gateway.stop()
    assert len(_setup(process, insp)["versions"]) == 2


def test_a_relaxed_requirement_is_judged_under_the_accepted_rules(mosquitto, tmp_path, cloud_for_demo):
    """The owner takes containers out of wash_required: the gateway, told the seed's rules by the cloud (nothing
    accepted yet), finds the unwashed return it no longer raises and sends it as silenced; the cloud counts it
    until the inspector accepts the version, and the gateway then judges under the accepted rules."""
    _, process, tokens = cloud_for_demo
    insp = tokens["insp1"]
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, rules={
        "wash_required": ["knife", "scissors", "cutting_board", "brush"]}, cloud={
        "url": process.url, "token": tokens["gw-ws-demo"], "linger_seconds": 0, "retry_max_seconds": 1})
    workshop = load_config(config)
    gateway = GatewayProcess(config, tmp_path / "data").start()
    stations = online_stations(broker, workshop)
    try:
        gateway.wait_for(lambda: gateway.scalar("SELECT value FROM meta WHERE key = 'accepted_setup'"), timeout=30,
                         what="the accepted rules from the cloud")
        assert strict_json.loads(gateway.scalar("SELECT value FROM meta WHERE key = 'accepted_setup'"))[
            "version"] is None  # nothing accepted yet: the seed's rules
        gateway.wait_for(lambda: gateway.scalar("SELECT COUNT(*) FROM stations WHERE online = 1") == len(
            workshop.stations), timeout=20, what="every station online")
        rack = stations["rack-yellow-1"]
        rack.event("CT-Y-01", "removed")
        rack.event("CT-Y-01", "placed")  # back on its rack without passing the yellow sink
        rack.event("SC-Y-01", "removed")
        rack.event("SC-Y-01", "placed")  # scissors still must be washed: a real alarm, not a silenced one
        gateway.wait_for(lambda: _setup(process, insp)["silenced"], timeout=30, what="the silenced alarm")
        local = [(a["type"], a["tool"]) for a in gateway.get("/api/alarms").json()]
        assert local == [("unwashed_return", "SC-Y-01")]
    finally:
        close_all(stations)
        gateway.stop()
    shown = _setup(process, insp)
    (silenced,) = shown["silenced"]
    assert (silenced["type"], silenced["tool"], silenced["exception"], silenced["relaxed"], silenced["counted"]) == (
        "unwashed_return", "CT-Y-01", None, {"accepted_version": None}, True)
    assert shown["pending"] == [1] and shown["silenced_counted"] == 1
    assert [x["path"] for x in shown["versions"][0]["relaxations"]] == ["rules.wash_required"]
    r = process.post(insp, "/api/v1/workshops/ws-demo/setup/1/accept", {"note": "容器一次性使用，不需清洗"})
    assert r.status_code == 200, r.text
    assert _setup(process, insp)["silenced_counted"] == 0
    accepted = process.get(tokens["gw-ws-demo"], "/api/v1/gateway/accepted-setup").json()
    assert accepted["version"] == 1 and "container" not in accepted["rules"]["wash_required"]
    assert process.get(insp, "/api/v1/gateway/accepted-setup").status_code == 403
    gateway.start()  # asks again at start: the owner's rules are the accepted ones now, nothing judged twice
    try:
        gateway.wait_for(lambda: strict_json.loads(gateway.scalar(
            "SELECT value FROM meta WHERE key = 'accepted_setup'"))["version"] == 1, timeout=30,
            what="the accepted rules of version 1")
    finally:
        gateway.stop()
