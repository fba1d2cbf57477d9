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
from stations_mqtt import ScriptedStation

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db
from sebiao_common.alarms import ALARM_TYPES

pytestmark = pytest.mark.slow

STREAM = {"rack-red-1": "KN-R-01", "rack-green-1": "KN-G-01", "rack-white-1": "KN-W-01",
          "rack-yellow-1": "CT-Y-01"}
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


def _gateway_rows(gateway: GatewayProcess, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _stream(stations, per_station: int, sent: dict, start: float) -> None:
    for i in range(per_station):
        for station_id, tool in STREAM.items():
            event = stations[station_id].event(tool, "removed" if i % 2 == 0 else "placed",
                                               ts=int((start + i * 0.001) * 1000))
            sent[(station_id, event.boot, event.seq)] = event
        time.sleep(0.002)  # a stream over a few seconds, so the outage and the kill fall inside it


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
    workshop = example_config()
    stations = {s.id: ScriptedStation(broker, workshop, s.id, reconnect=True) for s in workshop.stations}
    for station in stations.values():
        station.status(True, buffer_depth=0)
    sent: dict = {}
    per_station = 400
    publisher = threading.Thread(target=_stream, args=(stations, per_station, sent, time.time() - 60))
    publisher.start()
    try:
        gateway.wait_for(lambda: cloud.query("SELECT COUNT(*) FROM events")[0][0] > 100, timeout=30,
                         what="the cloud receiving")
        cloud.stop()  # the outage
        in_cloud_at_outage = cloud.query("SELECT COUNT(*) FROM events")[0][0]
        gateway.wait_for(lambda: _gateway_rows(gateway, "SELECT COUNT(*) FROM events")[0][0]
                         > in_cloud_at_outage + 200, timeout=30, what="events piling up in the outbox")
        gateway.kill9()
        killed_with = _gateway_rows(gateway, "SELECT COUNT(*) FROM cloud_outbox")[0][0]
        gateway.start()
        time.sleep(1.0)  # the restarted gateway retries against the dead cloud a few times
        health = gateway.get("/healthz").json()
        assert health["status"] == "degraded" and health["sinks"]["cloud"]["last_error"]
        assert health["sinks"]["cloud"]["depth"] > 0 and health["sinks"]["cloud"]["running"]
        cloud.start()
        publisher.join(120)
        gateway.wait_for(lambda: cloud.query("SELECT COUNT(*) FROM events")[0][0] >= len(sent)
                         and _gateway_rows(gateway, "SELECT COUNT(*) FROM cloud_outbox")[0][0] == 0,
                         timeout=60, what="the cloud catching up")
        assert gateway.get("/healthz").json()["sinks"]["cloud"] == {"running": True, "depth": 0, "last_error": None}
        in_cloud = cloud.query(f"SELECT station, boot, seq FROM events WHERE workshop_id='{ws}'")
        transitions = cloud.query(f"SELECT gateway_alarm_id, seq FROM alarm_transitions WHERE workshop_id='{ws}'")
        types = ",".join(f"'{t}'" for t in ALARM_TYPES)
        history = _gateway_rows(gateway, "SELECT h.alarm_id, h.id FROM alarm_history h JOIN alarms a "
                                         f"ON a.id = h.alarm_id WHERE a.type IN ({types})")
        dead = _gateway_rows(gateway, "SELECT COUNT(*) FROM cloud_outbox_dead")[0][0]
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
