"""DNS rebinding: the real gateway answers only to its own host names (edge_gateway/web/hosts.py).

A page from ``evil.example`` that rebinds its name to 127.0.0.1 reaches the gateway with
``Host: evil.example``; loopback reads need no token, so that Host must be refused, on the API,
the display, its QR code and the console alike. Real HTTP requests with forged Host headers.
"""

from __future__ import annotations

import socket

import httpx
import pytest
import yaml
from gateway_proc import TOKEN, GatewayProcess, write_config

from edge_gateway.config import load_config
from sebiao_common.errors import ConfigError

pytestmark = pytest.mark.slow
PATHS = ("/api/tools", "/api/alarms", "/api/alarms/1", "/healthz", "/metrics", "/display", "/display/data.json",
         "/display/qr.svg", "/display/live", "/console", "/console/login", "/console/api/state", "/assets/display.js")
PUBLIC_URL = "http://werkstatt.example:8080/display"


@pytest.fixture(scope="module")
def broker(mosquitto_module):
    return mosquitto_module()


@pytest.fixture(scope="module")
def loopback(broker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hosts-loopback")
    config = write_config(tmp / "workshop.yaml", broker, http={"token": TOKEN, "allowed_hosts": ["Gateway.LAN"]})
    gateway = GatewayProcess(config, tmp / "data").start()
    yield gateway
    gateway.stop()


def _get(gateway: GatewayProcess, path: str, host: str, **headers: str) -> httpx.Response:
    return httpx.get(gateway.base + path, headers={"Host": host, **headers}, timeout=5)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example",
                                  "evil.example@127.0.0.1", "127.0.0.1.nip.io", "[::2]"])
def test_a_page_rebound_to_loopback_reads_nothing(loopback, host):
    host = host.format(port=loopback.http_port)
    for path in PATHS:
        answer = _get(loopback, path, host)
        assert answer.status_code == 400, (path, answer.status_code)
        assert "http.allowed_hosts" in answer.json()["error"]
        assert "KN-R-01" not in answer.text and "<svg" not in answer.text
    assert loopback.metric("sebiao_http_refused_total", 'reason="host"') >= len(PATHS)


def test_the_gateways_own_names_are_answered(loopback):
    port = loopback.http_port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "127.0.0.2",
                 f"{socket.gethostname()}:{port}", f"gateway.lan:{port}"):
        answer = _get(loopback, "/api/tools", host)
        assert answer.status_code == 200, host
        assert any(tool["id"] == "KN-R-01" for tool in answer.json())
    assert httpx.get(loopback.base + "/healthz", timeout=5).status_code == 200  # as local tools send it


def test_the_qr_code_carries_only_a_checked_host(loopback):
    port = loopback.http_port
    mine = _get(loopback, "/display/qr.svg", f"localhost:{port}")
    assert mine.status_code == 200 and mine.headers["x-display-url"] == f"http://localhost:{port}/display"
    forged = _get(loopback, "/display/qr.svg", f"evil.example:{port}")
    assert forged.status_code == 400 and "x-display-url" not in forged.headers


def test_beyond_loopback_the_lan_address_and_the_public_url_are_answered(broker, tmp_path):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.254", 9))  # no packet is sent: the route names this machine's LAN address
        lan = probe.getsockname()[0]
    except OSError:
        lan = "127.0.0.1"
    finally:
        probe.close()
    if lan.startswith("127."):
        pytest.skip("this machine has no address beyond loopback")
    config = write_config(tmp_path / "workshop.yaml", broker, display={"public_url": PUBLIC_URL})
    gateway = GatewayProcess(config, tmp_path / "data", extra_args=("--http", "0.0.0.0:0"))
    with gateway:
        base = f"http://{lan}:{gateway.http_port}"
        qr = httpx.get(base + "/display/qr.svg", timeout=5)  # as the TV opens it: by the LAN address
        assert qr.status_code == 200 and qr.headers["x-display-url"] == PUBLIC_URL
        assert httpx.get(base + "/display", timeout=5).status_code == 200
        assert httpx.get(base + "/display", headers={"Host": "werkstatt.example:8080"}, timeout=5).status_code == 200
        # another address than the one the connection arrived at is not this gateway's
        assert httpx.get(base + "/display", headers={"Host": "203.0.113.9"}, timeout=5).status_code == 400
        assert httpx.get(base + "/display", headers={"Host": "evil.example"}, timeout=5).status_code == 400


def test_allowed_hosts_are_checked_in_the_config(tmp_path):
    path = write_config(tmp_path / "workshop.yaml", http={"token": TOKEN, "allowed_hosts": ["gateway.lan",
                                                                                            "http://x:80"]})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}: http.allowed_hosts[1]: 'http://x:80' is not a host name" in str(error.value)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["http"]["allowed_hosts"] = ["gateway.lan", "[fd00::2]", "192.168.1.20"]
    path.write_text(yaml.safe_dump(data), "utf-8")
    assert load_config(path).http.allowed_hosts == ("gateway.lan", "fd00::2", "192.168.1.20")
