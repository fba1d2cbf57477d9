"""The command line and start-up: config errors stop it with file, field and reason; the
embedded broker runs the gateway with nothing else; the HTTP API guards itself."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from gateway_proc import EXAMPLE, GatewayProcess, write_config
from servers import ROOT, MqttClient

from edge_gateway.broker.credentials import load_credentials
from edge_gateway.config import load_config
from edge_gateway.model.protocol import (
    StationEvent,
    encode_event,
    encode_status,
    event_topic,
    status_topic,
)

pytestmark = pytest.mark.slow


def _sebiao(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_a_config_error_stops_start_up_naming_file_field_and_reason(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data["tools"][3]["home"] = "rack-red-9"
    bad = tmp_path / "workshop.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = _sebiao("gateway", "--config", str(bad), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert f"{bad}: tools[3].home: station 'rack-red-9' is not defined" in result.stderr
    assert not (tmp_path / "d").exists()  # nothing was started


def test_binding_beyond_loopback_needs_a_token(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    del data["http"]
    config = tmp_path / "workshop.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = _sebiao("gateway", "--config", str(config), "--http", "0.0.0.0:18080", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "http.token: the HTTP API is bound to 0.0.0.0, beyond loopback: set a token" in result.stderr


def test_the_embedded_broker_needs_nothing_else(tmp_path):
    """No broker configured: the gateway runs its own, and stations log in with its credentials."""
    data_dir = tmp_path / "data"
    config_path = write_config(tmp_path / "workshop.yaml")
    gateway = GatewayProcess(config_path, data_dir, extra_args=("--embedded-broker", "127.0.0.1:0"))
    gateway.start()
    port = gateway.listening["mqtt"]["port"]  # the free port the embedded broker took
    try:
        creds = load_credentials(data_dir / "broker")
        station = creds.station("rack-red-1")
        config = load_config(config_path)
        with MqttClient.connect("127.0.0.1", port, station.username, station.password) as client:
            client.publish(status_topic(config.workshop.id, "rack-red-1"), encode_status(True), retain=True)
            event = StationEvent(station="rack-red-1", boot="0e0e0e0e", seq=0, ts=int(time.time() * 1000),
                                 tag=config.tool("KN-R-01").tag, action="removed")
            client.publish(event_topic(config.workshop.id, "rack-red-1"), encode_event(event))

        def out():
            return {t["id"]: t["state"] for t in gateway.get("/api/tools").json()}["KN-R-01"] == "out"

        gateway.wait_for(out, what="the event through the embedded broker")
        refused = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "x", "-m", "y"],
                                 capture_output=True, text=True, timeout=10)
        assert refused.returncode != 0  # anonymous clients are refused
    finally:
        gateway.stop()


def test_reads_are_open_on_loopback_but_every_post_needs_the_token(tmp_path, mosquitto):
    broker = mosquitto()
    with GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data") as gateway:
        assert gateway.get("/api/tools").status_code == 200
        assert gateway.post("/api/alarms/1/ack", {"by": "x"}, token=None).status_code == 401
        assert gateway.post("/api/alarms/1/ack", {"by": "x"}).status_code == 404


def test_without_a_token_posts_are_refused(tmp_path, mosquitto):
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker)
    data = yaml.safe_load(config.read_text("utf-8"))
    del data["http"]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with GatewayProcess(config, tmp_path / "data") as gateway:
        answer = gateway.post("/api/alarms/1/ack", {"by": "x"}, token="anything-at-all-here")
        assert answer.status_code == 403 and "http.token" in answer.json()["error"]


def test_beyond_loopback_every_request_needs_the_token(tmp_path, mosquitto):
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker)
    # bind all interfaces, then talk to it over loopback as a remote client would
    with GatewayProcess(config, tmp_path / "data", extra_args=("--http", "0.0.0.0:0")) as gateway:
        assert gateway.listening["http"] == {"host": "0.0.0.0", "port": gateway.http_port}
        assert httpx.get(gateway.base + "/api/tools", timeout=5).status_code == 401
        assert httpx.get(gateway.base + "/healthz", timeout=5).status_code == 401
        ok = httpx.get(gateway.base + "/api/tools", headers={"Authorization": "Bearer test-token-0123456789"})
        assert ok.status_code == 200 and json.loads(ok.text)


def test_http_port_0_takes_a_free_port_and_says_which(tmp_path, mosquitto):
    broker = mosquitto()
    with GatewayProcess(write_config(tmp_path / "w.yaml", broker), tmp_path / "data") as gateway:
        assert gateway.fixed_port is None and gateway.http_port > 0
        assert f"HTTP on http://127.0.0.1:{gateway.http_port}" in gateway.log()
        assert gateway.listening["pid"] == gateway.proc.pid
        assert gateway.listening["mqtt"] == {"url": broker.url}


def test_a_taken_http_port_is_one_line(tmp_path, mosquitto):
    broker = mosquitto()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _sebiao("gateway", "--config", str(write_config(tmp_path / "w.yaml", broker)),
                         "--data-dir", str(tmp_path / "data"), "--http", f"127.0.0.1:{port}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"sebiao gateway: HTTP 接口无法在 127.0.0.1:{port} 上监听") \
        and "Address already in use" in result.stderr and len(result.stderr.strip().splitlines()) == 1
