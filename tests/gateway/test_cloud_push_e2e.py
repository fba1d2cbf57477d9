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
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from stations_mqtt import ms_ago, online_stations, stream

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db
from sebiao_common.alarms import ALARM_TYPES

pytestmark = pytest.mark.slow


def _gateway_token(cloud: CloudServer, workshop: str) -> str:
    """Migrates the cloud's database, makes the district, the workshop and its gateway token."""
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
        token = admin.issue_token(conn, who, {"kind": "gateway", "workshop": workshop}, now)["token"]
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
    token = _gateway_token(cloud, ws)
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
