"""The workshop's staff training records reach the cloud through the gateway's durable cloud outbox.

In the store: each record is queued once, after a cursor, in the caller's transaction, those from before the
``cloud:`` section too. End to end (Mosquitto, the gateway process, the cloud process): records added by
``POST /api/training`` and by ``sebiao training add`` (its own process) while the cloud is away wait in the
outbox and arrive once it is back, each exactly once, across a ``kill -9`` of the gateway; the district's
inspector then reads them, another district's inspector does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
from argon2.profiles import CHEAPEST
from cloud_fixtures import SECRET
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import ROOT, example_config
from test_cloud_push_e2e import _rows

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db
from edge_gateway.sinks.cloud.training import queue_trainings
from edge_gateway.store import days
from edge_gateway.store.writer import Store
from sebiao_common import strict_json


def test_each_record_is_queued_once_after_the_cursor(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite3")
    with store.transaction():  # recorded before any cloud section: queued once one is there
        days.add_training(store.conn, day="2025-11-20", who="张三", topic="色标分区", trainer="李店长", now=1)
        days.add_training(store.conn, day="2025-11-21", who="李四", topic="清洗消毒", trainer="李店长", now=2)
    with store.transaction():
        assert queue_trainings(store, 10, limit=1) == 1  # a long backlog goes over several ticks
    with store.transaction():
        assert queue_trainings(store, 11) == 1
    with store.transaction():
        assert queue_trainings(store, 12) == 0
    with pytest.raises(RuntimeError):  # a tick whose transaction fails queues nothing, and moves no cursor
        with store.transaction():
            days.add_training(store.conn, day="2025-11-22", who="王五", topic="生熟分开", trainer="李店长", now=3)
            assert queue_trainings(store, 13) == 1
            raise RuntimeError("the tick failed")
    with store.transaction():
        days.add_training(store.conn, day="2025-11-22", who="王五", topic="生熟分开", trainer="李店长", now=3)
        assert queue_trainings(store, 14) == 1
    items = [strict_json.loads(r[0]) for r in store.conn.execute("SELECT item FROM cloud_outbox ORDER BY id")]
    assert [(i["kind"], i["id"], i["who"], i["by"]) for i in items] == [
        ("training", 1, "张三", "李店长"), ("training", 2, "李四", "李店长"), ("training", 3, "王五", "李店长")]
    assert items[0] == {"kind": "training", "id": 1, "day": "2025-11-20", "who": "张三", "topic": "色标分区",
                        "by": "李店长", "recorded_at": 1}
    store.close()


def _cloud_world(cloud: CloudServer, workshop: str, data_dir: Path) -> str:
    """The cloud's database migrated with districts d1 (the workshop) and d2, an inspector of each, and the
    workshop's gateway token with the key ``sebiao gateway-key`` made in the gateway's data dir."""
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
        admin.create_district(conn, who, {"id": "d2", "name": "青山区"})
        admin.create_workshop(conn, who, {"id": workshop, "name": "示范作坊", "district": "d1"}, now)
        for name, district in (("insp1", "d1"), ("insp2", "d2")):
            admin.create_user(conn, who, {"username": name, "password": f"pw-{name}-123456", "role": "inspector",
                                          "districts": [district]}, now)
        token = admin.issue_token(conn, who, {"kind": "gateway", "workshop": workshop,
                                              "public_key": public_key}, now)["token"]
    engine.dispose()
    return token


def _cli(data_dir: Path, *args: str) -> str:
    """``sebiao training …`` as the owner runs it, in its own process beside the running gateway."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sebiao", "training", *args, "--data-dir", str(data_dir)],
                          check=True, env=env, cwd=ROOT, capture_output=True, timeout=60, text=True).stdout


def _cli_training(data_dir: Path, who: str) -> None:
    _cli(data_dir, "add", "--who", who, "--topic", "色标化管理制度", "--by", "李店长", "--day", "2025-11-21")


@pytest.mark.slow
def test_training_records_reach_the_cloud_once_through_an_outage(mosquitto, tmp_path: Path) -> None:
    cloud = CloudServer(tmp_path)  # over tmp_path/cloud.db
    query = partial(_rows, tmp_path / "cloud.db")
    ws = example_config().workshop.id
    data = tmp_path / "data"
    token = _cloud_world(cloud, ws, data)
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={
        "url": cloud.url, "token": token, "batch_items": 50, "linger_seconds": 1, "timeout_seconds": 2,
        "retry_max_seconds": 1})
    gateway = GatewayProcess(config, data).start()  # the cloud is not running: an outage from the start
    try:
        assert gateway.post("/api/training", {"who": "张三", "topic": "色标分区与清洗", "by": "李店长",
                                              "day": "2025-11-20"}).status_code == 201
        _cli_training(data, "李四")
        gateway.wait_for(lambda: gateway.scalar("SELECT COUNT(*) FROM cloud_outbox WHERE item LIKE "
                                                "'%\"kind\":\"training\"%'") == 2, timeout=20,
                         what="both records queued for the cloud")
        gateway.kill9()  # with the records still in the outbox
        gateway.start()
        assert gateway.post("/api/training", {"who": "王五", "topic": "生熟分开", "by": "李店长",
                                              "day": "2025-11-22"}).status_code == 201
        time.sleep(1.5)  # the restarted gateway tries the absent cloud a few times
        assert gateway.get("/healthz").json()["sinks"]["cloud"]["last_error"]
        cloud.start()
        gateway.wait_for(lambda: query("SELECT COUNT(*) FROM trainings")[0][0] >= 3
                         and gateway.count("cloud_outbox") == 0, timeout=60, what="the cloud catching up")
        time.sleep(2.5)  # more ticks: nothing is queued a second time
        assert gateway.scalar("SELECT value FROM meta WHERE key = 'cloud_training_queued'") == "3"
        duplicates = query("SELECT SUM(items) - SUM(accepted) FROM ingest_batches")[0][0]
        assert "3 条培训记录" in _cli(data, "resend")  # all once more, on purpose (a cloud restored from a backup)
        gateway.wait_for(lambda: gateway.rows("SELECT value FROM meta WHERE key = 'cloud_training_queued'")
                         == [("3",)] and gateway.count("cloud_outbox") == 0, timeout=30, what="the records sent again")
        assert query("SELECT SUM(items) - SUM(accepted) FROM ingest_batches")[0][0] >= duplicates + 3  # kept once
        stored = query("SELECT gateway_id, day, who, trainer FROM trainings ORDER BY gateway_id")
        queued = gateway.scalar("SELECT value FROM meta WHERE key = 'cloud_training_queued'")
        dead = gateway.count("cloud_outbox_dead")
        with httpx.Client(base_url=cloud.url, timeout=30) as http:
            tokens = {name: http.post("/api/v1/login", json={"username": name, "password": f"pw-{name}-123456"}
                                      ).json()["token"] for name in ("insp1", "insp2")}
            seen = http.get(f"/api/v1/workshops/{ws}/training", headers={"Authorization": f"Bearer {tokens['insp1']}"})
            other = http.get(f"/api/v1/workshops/{ws}/training", headers={"Authorization": f"Bearer {tokens['insp2']}"})
    finally:
        gateway.stop()
        cloud.stop()
    assert stored == [(1, "2025-11-20", "张三", "李店长"), (2, "2025-11-21", "李四", "李店长"),
                      (3, "2025-11-22", "王五", "李店长")]  # each once
    assert queued == "3" and dead == 0
    assert seen.status_code == 200
    assert (seen.json()["last_day"], seen.json()["last_people"], seen.json()["total"]) == ("2025-11-22", ["王五"], 3)
    assert other.status_code == 404 and "张三" not in other.text
