"""The real gateway signs what it pushes, the real cloud takes it and ``sebiao cloud verify`` checks it, on
SQLite and PostgreSQL.

Real parts: Mosquitto, the gateway process (its key made by ``sebiao gateway-key``, as the installer does),
the cloud process. The gateway's key is registered with its token; a station's unknown tag makes an event and
an alarm, the owner acknowledges it: every batch is kept as signed and verifies.
"""

from __future__ import annotations

import contextlib
import io
import time

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from sqlalchemy import func, select
from stations_mqtt import ScriptedStation

from cloud_ingest.access import admin
from cloud_ingest.store import db
from cloud_ingest.store.schema import alarm_transitions, events, ingest_batches, signed_batches
from sebiao.cli import main
from sebiao_common import batch_signature

pytestmark = pytest.mark.slow


def _count(cloud: Cloud, table) -> int:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_gateway_signs_and_the_cloud_verifies(mosquitto, cloud_url, tmp_path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    public_key = gateway_key_command(data)  # before the first start, as the installer does
    assert public_key.startswith("ed25519:")
    assert gateway_key_command(data) == public_key  # never replaced
    assert oct((data / "gateway-signing-key.pem").stat().st_mode & 0o777) == "0o600"
    ws = example_config().workshop.id
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))
    cloud.as_admin(admin.create_district, {"id": "d1", "name": "昆都仑区"})
    cloud.as_admin(admin.create_workshop, {"id": ws, "name": "示范作坊", "district": "d1"}, cloud.now)
    issued = cloud.as_admin(admin.issue_token, {"kind": "gateway", "workshop": ws, "public_key": public_key},
                            cloud.now)
    assert issued["key_id"] == batch_signature.key_id(batch_signature.parse_public(public_key))
    server = CloudServer(tmp_path, cloud_url).start()
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={"url": server.url, "token": issued["token"],
                                                             "linger_seconds": 0})
    gateway = GatewayProcess(config, data).start()
    try:
        station = ScriptedStation(broker, example_config(), "rack-green-1")
        try:
            station.event("04DEADBEEF0001", "placed")  # an unknown tag: an event and an alarm
        finally:
            station.close()
        alarm = gateway.wait_for(lambda: [a["id"] for a in gateway.get("/api/alarms").json()
                                          if a["type"] == "unknown_tag"], what="the unknown_tag alarm")[0]
        assert gateway.post(f"/api/alarms/{alarm}/ack", {"by": "王师傅", "comment": "已登记"}).status_code == 200
        gateway.wait_for(lambda: _count(cloud, alarm_transitions) >= 2 and _count(cloud, events) >= 1
                         and gateway.count("cloud_outbox") == 0, timeout=30, what="the batches in the cloud")
        assert gateway.count("cloud_outbox_dead") == 0
    finally:
        gateway.stop()
        server.stop()
    try:
        batches = _count(cloud, ingest_batches)
        assert batches >= 1 and _count(cloud, signed_batches) == batches  # every batch kept as signed
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["cloud", "verify", "--config", str(server.config_path)])
        assert code == 0, out.getvalue()
        assert f"{ws} {issued['key_id']}" in out.getvalue() and "batches verify" in out.getvalue(), out.getvalue()
    finally:
        cloud.client.close()
        cloud.engine.dispose()
