"""The gateway feeds the real cloud through a cloud outage and a kill -9: nothing lost, nothing twice.

Real parts: Mosquitto, the gateway process (``sebiao gateway``), the cloud
process (``sebiao cloud``, uvicorn on a free loopback port, SQLite).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from argon2.profiles import CHEAPEST
from cloud_fixtures import SECRET
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import ScriptedStation, ms_ago, online_stations, stream

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db
from sebiao_common.alarms import ALARM_TYPES, MAX_COMMENT_CHARS, MAX_PERSON_CHARS

pytestmark = pytest.mark.slow


def _gateway_token(cloud: CloudServer, workshop: str, data_dir: Path) -> str:
    """Migrates the cloud's database, makes the district, the workshop and its gateway token with the key
    ``sebiao gateway-key`` made in the gateway's data dir."""
    public_key = gateway_key_command(data_dir)
    passwords.use_parameters(CHEAPEST)
    engine = db.make_engine(cloud.database_url)
    config = CloudConfig(str(cloud.config_path), cloud.database_url, "127.0.0.1", cloud.port, SECRET,
                         bootstrap_admin=BootstrapAdmin("admin", "admin-password-123"))
    now = int(time.time() * 1000)
    prepare(engine, config, lambda: now)
    who = Principal("admin", 1, "admin")
    with db.write(engine) as conn:
        admin.create_district(conn, who, {"id": "d1", "name": "昆都仑区"})
        admin.create_workshop(conn, who, {"id": workshop, "name": "示范作坊", "district": "d1"}, now)
        token = admin.issue_token(conn, who, {"kind": "gateway", "workshop": workshop,
                                                  "public_key": public_key}, now)["token"]
    engine.dispose()
    return token


def _rows(db_path: Path, sql: str) -> list[tuple]:
    """What ``sql`` reads from the cloud's SQLite database, opened read-only beside the server."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_gateway_feeds_the_cloud_through_an_outage_and_a_kill_9(mosquitto, tmp_path):
    cloud = CloudServer(tmp_path)  # over tmp_path/cloud.db
    query = partial(_rows, tmp_path / "cloud.db")
    ws = example_config().workshop.id
    token = _gateway_token(cloud, ws, tmp_path / "data")
    cloud.start()
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={
        "url": cloud.url, "token": token, "batch_items": 50, "linger_seconds": 1, "timeout_seconds": 2,
        "retry_max_seconds": 1})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    stations = online_stations(broker, example_config(), reconnect=True)
    sent: dict = {}
    per_station = 400
    # a stream over a few seconds, so the outage and the kill fall inside it
    publisher = threading.Thread(target=stream, args=(stations, per_station, sent, ms_ago(60), 0.002))
    publisher.start()
    try:
        gateway.wait_for(lambda: query("SELECT COUNT(*) FROM events")[0][0] > 100, timeout=30,
                         what="the cloud receiving")
        cloud.stop()  # the outage
        in_cloud_at_outage = query("SELECT COUNT(*) FROM events")[0][0]
        gateway.wait_for(lambda: gateway.count("events") > in_cloud_at_outage + 200, timeout=30,
                         what="events piling up in the outbox")
        gateway.kill9()
        killed_with = gateway.count("cloud_outbox")
        gateway.start()
        time.sleep(1.0)  # the restarted gateway retries against the dead cloud a few times
        health = gateway.get("/healthz").json()
        assert health["status"] == "degraded" and health["sinks"]["cloud"]["last_error"]
        assert health["sinks"]["cloud"]["depth"] > 0 and health["sinks"]["cloud"]["running"]
        cloud.start()
        publisher.join(120)
        gateway.wait_for(lambda: query("SELECT COUNT(*) FROM events")[0][0] >= len(sent)
                         and gateway.count("cloud_outbox") == 0, timeout=60, what="the cloud catching up")
        assert gateway.get("/healthz").json()["sinks"]["cloud"] == {"running": True, "depth": 0, "last_error": None}
        in_cloud = query(f"SELECT station, boot, seq FROM events WHERE workshop_id='{ws}'")
        transitions = query(f"SELECT gateway_alarm_id, seq FROM alarm_transitions WHERE workshop_id='{ws}'")
        types = ",".join(f"'{t}'" for t in ALARM_TYPES)
        history = gateway.rows("SELECT h.alarm_id, h.id FROM alarm_history h JOIN alarms a "
                               f"ON a.id = h.alarm_id WHERE a.type IN ({types})")
        dead = gateway.count("cloud_outbox_dead")
        batches = query("SELECT COUNT(*) FROM ingest_batches")[0][0]
    finally:
        publisher.join(120)
        gateway.stop()
        cloud.stop()
    assert in_cloud_at_outage < len(sent) and killed_with > 0  # the outage and the kill fell mid-stream
    assert len(in_cloud) == len(set(in_cloud)) == len(sent)  # every event once
    assert set(in_cloud) == set(sent)
    assert len(history) > per_station  # the unwashed returns: a raise and many repeats per tool
    assert len(transitions) == len(set(transitions))
    assert set(transitions) == set(history)  # every alarm transition once
    assert dead == 0
    assert batches >= len(sent) // 50


# -- what a person writes on an alarm: one limit on both sides ------------------------------------------

UNKNOWN = "04DEADBEEF0001"


def _unknown_tag_alarm(gateway: GatewayProcess, broker) -> int:
    station = ScriptedStation(broker, example_config(), "rack-green-1")
    try:
        station.event(UNKNOWN, "placed")
    finally:
        station.close()
    return gateway.wait_for(lambda: [a["id"] for a in gateway.get("/api/alarms").json()
                                     if a["type"] == "unknown_tag"], what="the unknown_tag alarm")[0]


def test_a_name_the_cloud_would_refuse_is_refused_by_the_gateway(mosquitto, tmp_path):
    cloud = CloudServer(tmp_path)  # over tmp_path/cloud.db
    query = partial(_rows, tmp_path / "cloud.db")
    ws = example_config().workshop.id
    token = _gateway_token(cloud, ws, tmp_path / "data")
    cloud.start()
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={"url": cloud.url, "token": token, "linger_seconds": 0})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        alarm = _unknown_tag_alarm(gateway, broker)
        too_long = gateway.post(f"/api/alarms/{alarm}/ack", {"by": "王" * (MAX_PERSON_CHARS + 1)})
        assert too_long.status_code == 422
        assert f"至多 {MAX_PERSON_CHARS} 个字符" in too_long.json()["error"]
        assert f"at most {MAX_PERSON_CHARS}" in too_long.json()["error"]
        long_comment = gateway.post(f"/api/alarms/{alarm}/ack", {"by": "王师傅", "comment": "x" * 4001})
        assert long_comment.status_code == 422 and "comment" in long_comment.json()["error"]
        name = "王" * MAX_PERSON_CHARS
        assert gateway.post(f"/api/alarms/{alarm}/ack", {"by": f"  {name} ", "comment": "   "}).status_code == 200
        gateway.wait_for(lambda: query("SELECT by, comment FROM alarm_transitions "
                                             "WHERE action = 'acknowledged'"), timeout=20, what="the ack in the cloud")
        assert query("SELECT by, comment FROM alarm_transitions WHERE action = 'acknowledged'") == [(name, None)]
        assert gateway.count("cloud_outbox_dead") == 0
    finally:
        gateway.stop()
        cloud.stop()


def test_transitions_queued_with_a_name_too_long_still_reach_the_cloud(mosquitto, tmp_path):
    """An older gateway queued names up to 80 characters (and set aside what the cloud refused): once this one
    starts, they are fitted to the cloud's limit and sent; the local alarm history keeps them whole."""
    cloud = CloudServer(tmp_path)  # over tmp_path/cloud.db
    query = partial(_rows, tmp_path / "cloud.db")
    ws = example_config().workshop.id
    token = _gateway_token(cloud, ws, tmp_path / "data")  # the cloud is down while the transitions are queued
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={
        "url": cloud.url, "token": token, "linger_seconds": 0, "timeout_seconds": 1, "retry_max_seconds": 1})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    alarm = _unknown_tag_alarm(gateway, broker)
    assert gateway.post(f"/api/alarms/{alarm}/ack", {"by": "王师傅"}).status_code == 200
    assert gateway.post(f"/api/alarms/{alarm}/clear", {"by": "李师傅", "comment": "标签已登记"}).status_code == 200
    gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM cloud_outbox WHERE "
                                            "json_extract(item, '$.transition.action') = 'cleared'"),
                     what="the transitions queued")
    gateway.stop()
    long_name = "王" * 80
    conn = sqlite3.connect(tmp_path / "data" / "gateway.sqlite3")
    with conn:  # as the older gateway left it: one waiting, one set aside after the cloud refused it
        conn.execute("UPDATE cloud_outbox SET item = json_set(item, '$.transition.by', ?) "
                     "WHERE json_extract(item, '$.transition.action') = 'acknowledged'", (long_name,))
        conn.execute("INSERT INTO cloud_outbox_dead (outbox_id, at, created, item, status, reason) "
                     "SELECT id, created, created, json_set(item, '$.transition.comment', ?), 400, "
                     "'items[0].transition.comment: too long' FROM cloud_outbox "
                     "WHERE json_extract(item, '$.transition.action') = 'cleared'", ("改" * 4100,))
        conn.execute("DELETE FROM cloud_outbox WHERE json_extract(item, '$.transition.action') = 'cleared'")
    conn.close()
    cloud.start()
    gateway.start()
    try:
        gateway.wait_for(lambda: gateway.count("cloud_outbox") == 0 and gateway.count("cloud_outbox_dead") == 0
                         and len(query("SELECT 1 FROM alarm_transitions")) == 3, timeout=30,
                         what="every transition in the cloud")
        rows = dict(query("SELECT action, by FROM alarm_transitions"))
        assert rows["acknowledged"] == "王" * (MAX_PERSON_CHARS - 1) + "…"
        comment = query("SELECT comment FROM alarm_transitions WHERE action = 'cleared'")[0][0]
        assert len(comment) == MAX_COMMENT_CHARS and comment.endswith("…")
        assert rows["cleared"] == "李师傅"
        assert gateway.rows("SELECT by FROM alarm_history WHERE action = 'acknowledged'") == [("王师傅",)]
        assert "brought back from cloud_outbox_dead" in gateway.log()
    finally:
        gateway.stop()
        cloud.stop()
