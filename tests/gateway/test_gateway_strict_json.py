"""A NaN from a station stops neither the cloud nor the owner's console, now or after a restart.

``NaN`` and ``Infinity`` are not JSON, yet Python's json reads them. A station
status holding one, stored by the gateway, made the cloud answer its batch
with a 500 (the push retried it for ever: no later event or alarm reached the
inspectors) and made the console's state invalid JSON (a blank page); the
status is retained by the broker, so it came back after every restart. Real
parts: Mosquitto, the gateway process, the cloud process (SQLite).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from gateway_proc import TOKEN, GatewayProcess, write_config

from cloud_ingest.access import admin
from edge_gateway.model.protocol import event_topic, status_topic

pytestmark = pytest.mark.slow
WS = "ws-demo"
NAN_STATUS = b'{"v":1,"online":true,"fw":"1.0.0","rssi":NaN,"heap_free":Infinity}'


def _strict(text: str) -> object:
    """The text as JSON, refusing what is not JSON (as a browser's JSON.parse does)."""
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _cloud(tmp: Path) -> tuple[CloudServer, str]:
    """The cloud over SQLite with the example's workshop and its gateway token (the key of the gateway's data dir
    ``tmp/data``, made by ``sebiao gateway-key``), served."""
    url = f"sqlite:///{tmp / 'cloud.db'}"
    cloud = Cloud(url)
    cloud.as_admin(admin.create_district, {"id": "d1", "name": "昆都仑区"})
    cloud.as_admin(admin.create_workshop, {"id": WS, "name": "示范作坊", "district": "d1"}, cloud.now)
    token = cloud.as_admin(admin.issue_token, {"kind": "gateway", "workshop": WS,
                                               "public_key": gateway_key_command(tmp / "data")}, cloud.now)["token"]
    cloud.client.close()
    cloud.engine.dispose()
    return CloudServer(tmp, url).start(), token


def _cloud_events(tmp: Path) -> set[int]:
    conn = sqlite3.connect(f"file:{tmp / 'cloud.db'}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT seq FROM events WHERE workshop_id = ?", (WS,))}
    finally:
        conn.close()


def _event(seq: int) -> bytes:
    return json.dumps({"v": 1, "boot": "0badcafe", "seq": seq, "ts": int(time.time() * 1000),
                       "tag": "04A224E2C65E80", "action": "removed" if seq % 2 else "placed"}).encode()


def _console_state(gateway: GatewayProcess) -> dict:
    with httpx.Client(base_url=gateway.base, timeout=10) as client:
        assert client.post("/console/login", data={"password": TOKEN}).status_code == 303
        state = client.get("/console/api/state")
        assert state.status_code == 200
        return _strict(state.text)  # type: ignore[return-value]


def _config(tmp: Path, broker, cloud: CloudServer, token: str) -> Path:
    return write_config(tmp / "workshop.yaml", broker, cloud={
        "url": cloud.url, "token": token, "linger_seconds": 0, "timeout_seconds": 2, "retry_max_seconds": 1})


def test_a_retained_nan_status_is_refused_and_later_events_reach_the_cloud(mosquitto, tmp_path):
    cloud, token = _cloud(tmp_path)
    broker = mosquitto()
    gateway = GatewayProcess(_config(tmp_path, broker, cloud, token), tmp_path / "data").start()
    publisher = broker.client("rack-red-1")  # the station itself: the gateway's account is the gateway's own
    try:
        publisher.publish(status_topic(WS, "rack-red-1"), NAN_STATUS, qos=1, retain=True)
        publisher.publish(event_topic(WS, "rack-red-1"), _event(1), qos=1)
        gateway.wait_for(lambda: 1 in _cloud_events(tmp_path), timeout=20, what="the event after it in the cloud")
        assert gateway.metric("sebiao_events_rejected_total", 'reason="bad_json"') == 1
        assert gateway.rows("SELECT reason, payload FROM dead_letters") == [("bad_json", NAN_STATUS)]
        _console_state(gateway)

        gateway.stop()  # the broker hands the retained status to the gateway again when it subscribes
        gateway.start()
        gateway.wait_for(lambda: gateway.metric("sebiao_events_rejected_total", 'reason="bad_json"') == 1,
                         what="the retained status refused again")
        publisher.publish(event_topic(WS, "rack-red-1"), _event(2), qos=1)
        gateway.wait_for(lambda: 2 in _cloud_events(tmp_path), timeout=20, what="the next event in the cloud")
        assert gateway.count("cloud_outbox_dead") == 0
        assert gateway.get("/healthz").json()["sinks"]["cloud"]["last_error"] is None
        _console_state(gateway)
    finally:
        publisher.close()
        gateway.stop()
        cloud.stop()


def test_a_nan_status_kept_from_before_is_set_aside_and_shown_without_figures(mosquitto, tmp_path):
    """A store written by a gateway that took the NaN (before it read strictly): its station health and its
    cloud outbox row hold NaN. The console shows the station without figures; the cloud refuses that one
    row (400 naming it), the gateway sets it aside, and the events after it go in."""
    cloud, token = _cloud(tmp_path)
    broker = mosquitto()
    gateway = GatewayProcess(_config(tmp_path, broker, cloud, token), tmp_path / "data").start()
    gateway.stop()
    now = int(time.time() * 1000)
    old = NAN_STATUS.decode()
    item = ('{"kind":"status","station":"rack-red-1","station_kind":"rack","zone":"red","ts":%d,"online":true,'
            '"buffer_depth":0,"fw":"1.0.0","rssi":NaN,"heap_free":Infinity}' % now)
    store = sqlite3.connect(gateway.data_dir / "gateway.sqlite3")
    with store:
        store.execute("INSERT OR REPLACE INTO stations VALUES ('rack-red-1', 1, ?, 0, ?, 0)", (now, old))
        store.execute("INSERT INTO cloud_outbox (created, item) VALUES (?, ?)", (now, item))
    store.close()
    publisher = broker.client("rack-red-1")
    try:
        gateway.start()
        publisher.publish(event_topic(WS, "rack-red-1"), _event(1), qos=1)
        gateway.wait_for(lambda: 1 in _cloud_events(tmp_path), timeout=20, what="the event after it in the cloud")
        dead = gateway.rows("SELECT item, status, reason FROM cloud_outbox_dead")
        assert [(d[0], d[1]) for d in dead] == [(item, 400)] and "items[0].rssi" in dead[0][2]
        station = next(s for s in _console_state(gateway)["stations"] if s["id"] == "rack-red-1")
        assert station["rssi"] is None and station["heap_free"] is None and station["reported"] is False
    finally:
        publisher.close()
        gateway.stop()
        cloud.stop()
