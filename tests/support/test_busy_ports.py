"""The servers the tests start survive a busy machine: a port chosen free and then taken by another
program before the server binds it. Each test takes the first port the fixture chooses (a socket
listening on it, as another engineer's server would) and the fixture must still start its own
server, on another port, and that server must answer: not the program that took the port."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cloud_fixtures
import gateway_proc
import pytest
import servers
import tsdb_servers
from cloud_fixtures import PG_BIN, start_postgres, stop_postgres
from gateway_proc import GatewayProcess, write_config
from servers import MosquittoServer, example_config
from tsdb_servers import InfluxServer, VictoriaMetricsServer

pytestmark = pytest.mark.slow


@contextmanager
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on (and never answers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def first_choice(monkeypatch: pytest.MonkeyPatch, module: object, name: str, port: int) -> list[int]:
    """``module.name`` (a free-port chooser) answers ``port`` once, then free ports; returns its answers."""
    real = servers.free_port
    answers: list[int] = []

    def choose(host: str = "127.0.0.1") -> int:
        answers.append(port if not answers else real(host))
        return answers[-1]

    monkeypatch.setattr(module, name, choose, raising=False)
    return answers


def test_mosquitto_starts_on_another_port(monkeypatch, tmp_path):
    with taken_port() as taken:
        chosen = first_choice(monkeypatch, servers, "free_port", taken)
        with MosquittoServer(example_config(), tmp_path) as broker:
            assert chosen[0] == taken and broker.port != taken
            with broker.client("gateway") as client:  # our broker answers: a CONNACK
                assert client.connected.is_set()


def test_influxdb_starts_on_another_port(monkeypatch, tmp_path):
    with taken_port() as taken:
        chosen = first_choice(monkeypatch, tsdb_servers, "free_port", taken)
        with InfluxServer(tmp_path) as influx:
            assert chosen[0] == taken and influx.port != taken
            influx.create_database("sebiao")
            assert influx.version.startswith("1.")


def test_victoria_metrics_starts_on_another_port(monkeypatch, tmp_path):
    with taken_port() as taken:
        chosen = first_choice(monkeypatch, tsdb_servers, "free_port", taken)
        with VictoriaMetricsServer(tmp_path) as vm:
            assert chosen[0] == taken and vm.port != taken
            assert vm.export("nothing_here") == []


@pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 is not installed")
def test_postgresql_starts_on_another_port(monkeypatch):
    base = Path(tempfile.mkdtemp(prefix="sebiao-pg-"))  # the postgres user can reach it (pytest's are 0700)
    with taken_port() as taken:
        chosen = first_choice(monkeypatch, cloud_fixtures, "_free_port", taken)
        server = start_postgres(base)
        try:
            assert chosen[0] == taken and server.port != taken
            server.drop_database(server.create_database())
        finally:
            stop_postgres(server)


def test_the_gateway_binds_a_port_of_its_own(monkeypatch, tmp_path, mosquitto):
    broker = mosquitto()
    with taken_port() as taken:
        for module in (servers, gateway_proc):  # whatever the helper would choose is taken
            first_choice(monkeypatch, module, "free_port", taken)
        with GatewayProcess(write_config(tmp_path / "workshop.yaml", broker), tmp_path / "data") as gateway:
            assert gateway.http_port != taken
            assert gateway.get("/healthz").json()["broker"] == "connected"
