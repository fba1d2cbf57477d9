"""The gateway feeds the real cloud through a cloud outage and a kill -9: nothing lost, nothing twice.

Real parts: Mosquitto, the gateway process (``sebiao gateway``), the cloud
process (``sebiao cloud``, uvicorn on a free loopback port, SQLite).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from argon2.profiles import CHEAPEST
from gateway_proc import GatewayProcess, write_config
from servers import ROOT, example_config, free_port
from stations_mqtt import ScriptedStation, ms_ago, online_stations, stream

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db
from sebiao_common.alarms import ALARM_TYPES, MAX_COMMENT_CHARS, MAX_PERSON_CHARS

pytestmark = pytest.mark.slow

SECRET = "s" * 40


class CloudProcess:
    """``sebiao cloud`` as a subprocess on a fixed port, so it can be stopped and started again."""

    def __init__(self, tmp: Path) -> None:
        self.db_path = tmp / "cloud.db"
        self.port = free_port()
        self.config = tmp / "cloud.yaml"
        self.config.write_text(yaml.safe_dump({
            "database": {"url": f"sqlite:///{self.db_path}"}, "listen": f"127.0.0.1:{self.port}",
            "session_secret": SECRET}))
        self.log_path = tmp / "cloud.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gateway_token(self, workshop: str) -> str:
        """Migrates the database, makes the district, the workshop and its gateway token."""
        passwords.use_parameters(CHEAPEST)
        engine = db.make_engine(f"sqlite:///{self.db_path}")
        config = CloudConfig(str(self.config), f"sqlite:///{self.db_path}", "127.0.0.1", self.port, SECRET,
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

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sebiao.cli", "cloud", "--config", str(self.config),
                 "--log-level", "WARNING"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(self.log_path.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def query(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def test_gateway_feeds_the_cloud_through_an_outage_and_a_kill_9(mosquitto, tmp_path):
    cloud = CloudProcess(tmp_path)
    ws = example_config().workshop.id
    token = cloud.gateway_token(ws)
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
        gateway.wait_for(lambda: cloud.query("SELECT COUNT(*) FROM events")[0][0] > 100, timeout=30,
                         what="the cloud receiving")
        cloud.stop()  # the outage
        in_cloud_at_outage = cloud.query("SELECT COUNT(*) FROM events")[0][0]
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
        gateway.wait_for(lambda: cloud.query("SELECT COUNT(*) FROM events")[0][0] >= len(sent)
                         and gateway.count("cloud_outbox") == 0, timeout=60, what="the cloud catching up")
        assert gateway.get("/healthz").json()["sinks"]["cloud"] == {"running": True, "depth": 0, "last_error": None}
        in_cloud = cloud.query(f"SELECT station, boot, seq FROM events WHERE workshop_id='{ws}'")
        transitions = cloud.query(f"SELECT gateway_alarm_id, seq FROM alarm_transitions WHERE workshop_id='{ws}'")
        types = ",".join(f"'{t}'" for t in ALARM_TYPES)
        history = gateway.rows("SELECT h.alarm_id, h.id FROM alarm_history h JOIN alarms a "
                               f"ON a.id = h.alarm_id WHERE a.type IN ({types})")
        dead = gateway.count("cloud_outbox_dead")
        batches = cloud.query("SELECT COUNT(*) FROM ingest_batches")[0][0]
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
    cloud = CloudProcess(tmp_path)
    ws = example_config().workshop.id
    token = cloud.gateway_token(ws)
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
        gateway.wait_for(lambda: cloud.query("SELECT by, comment FROM alarm_transitions "
                                             "WHERE action = 'acknowledged'"), timeout=20, what="the ack in the cloud")
        assert cloud.query("SELECT by, comment FROM alarm_transitions WHERE action = 'acknowledged'") == [(name, None)]
        assert gateway.count("cloud_outbox_dead") == 0
    finally:
        gateway.stop()
        cloud.stop()


def test_transitions_queued_with_a_name_too_long_still_reach_the_cloud(mosquitto, tmp_path):
    """An older gateway queued names up to 80 characters (and set aside what the cloud refused): once this one
    starts, they are fitted to the cloud's limit and sent; the local alarm history keeps them whole."""
    cloud = CloudProcess(tmp_path)
    ws = example_config().workshop.id
    token = cloud.gateway_token(ws)  # the cloud is down while the transitions are queued
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
                         and len(cloud.query("SELECT 1 FROM alarm_transitions")) == 3, timeout=30,
                         what="every transition in the cloud")
        rows = dict(cloud.query("SELECT action, by FROM alarm_transitions"))
        assert rows["acknowledged"] == "王" * (MAX_PERSON_CHARS - 1) + "…"
        comment = cloud.query("SELECT comment FROM alarm_transitions WHERE action = 'cleared'")[0][0]
        assert len(comment) == MAX_COMMENT_CHARS and comment.endswith("…")
        assert rows["cleared"] == "李师傅"
        assert gateway.rows("SELECT by FROM alarm_history WHERE action = 'acknowledged'") == [("王师傅",)]
        assert "brought back from cloud_outbox_dead" in gateway.log()
    finally:
        gateway.stop()
        cloud.stop()
