"""Shared fixtures: real brokers for tests (helpers in ``tests/support/servers.py``).

``mosquitto`` / ``mosquitto_module`` are factories: each call starts a real
Mosquitto with the files of ``broker_config.generate`` for a WorkshopConfig
(default ``examples/workshop.yaml``) on a free loopback port::

    def test_x(mosquitto):
        broker = mosquitto()                      # or mosquitto(config)
        with broker.client("gateway") as gw, broker.client("rack-red-1") as station:
            ...
        broker.stop(); broker.start()             # same port, same persistence

    @pytest.fixture(scope="module")
    def broker(mosquitto_module):                 # one broker for a whole module
        return mosquitto_module()

Every broker a factory started is killed at teardown.

The tests mirror the source packages (``common/``, ``gateway/``, ``cloud/``,
``dashboards/``, ``docs/``, ``firmware/``); the modules they share live in
``support/``, put on ``sys.path`` here so that a test imports them by their
plain names (``from servers import ...``). Test files are plain modules, not
packages: every basename is unique across the folders.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from servers import MosquittoPool, MosquittoServer, example_config  # noqa: E402

from edge_gateway.broker.embedded import EmbeddedBroker  # noqa: E402
from edge_gateway.model.workshop import WorkshopConfig  # noqa: E402


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Callable[..., MosquittoServer]]:
    pool = MosquittoPool(tmp_path / "mosquitto")
    try:
        yield pool.start
    finally:
        pool.close()


@pytest.fixture(scope="module")
def mosquitto_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., MosquittoServer]]:
    pool = MosquittoPool(tmp_path_factory.mktemp("mosquitto"))
    try:
        yield pool.start
    finally:
        pool.close()


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[Callable[..., EmbeddedBroker]]:
    """Factory: a started embedded (amqtt) broker on a free loopback port."""
    started: list[EmbeddedBroker] = []

    def start(config: WorkshopConfig | None = None, port: int = 0) -> EmbeddedBroker:
        broker = EmbeddedBroker(config or example_config(), tmp_path / f"embedded-{len(started)}", port=port)
        started.append(broker)
        return broker.start()

    try:
        yield start
    finally:
        for broker in started:
            broker.stop()


# -- time-series servers (helpers in tests/support/tsdb_servers.py) --------------------
#
#   def test_x(influxd, victoria_metrics):
#       influx = influxd()                 # InfluxDB 1.6 on free loopback ports, database "sebiao"
#       influx.stop(); influx.start()      # same port and data: an outage
#       vm = victoria_metrics()
#
# Every server a factory started is killed at teardown.

from tsdb_servers import InfluxServer, VictoriaMetricsServer  # noqa: E402


@pytest.fixture
def influxd(tmp_path: Path) -> Iterator[Callable[..., InfluxServer]]:
    started: list[InfluxServer] = []

    def start(database: str | None = "sebiao", auth: bool = False) -> InfluxServer:
        server = InfluxServer(tmp_path / f"influxd-{len(started)}", auth=auth)
        started.append(server)
        server.start()
        if database:
            server.create_database(database)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.kill()


@pytest.fixture
def victoria_metrics(tmp_path: Path) -> Iterator[Callable[[], VictoriaMetricsServer]]:
    started: list[VictoriaMetricsServer] = []

    def start() -> VictoriaMetricsServer:
        server = VictoriaMetricsServer(tmp_path / f"victoria-{len(started)}")
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.kill()
