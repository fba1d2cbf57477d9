"""Several stateless cloud workers over one PostgreSQL (docs/deploy.md): ``uvicorn --factory
cloud_ingest.asgi:create --workers 2`` as a real process, gateways' batches pushed concurrently, each
worker process draining the central InfluxDB outbox (a real VictoriaMetrics) with SKIP LOCKED claims:
every event arrives exactly once. The factory refuses a database that is not migrated."""

from __future__ import annotations

import gzip
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, T0, Cloud, batch, event
from cloud_server import CloudServer
from gateway_keys import signature_headers

from cloud_ingest import asgi
from cloud_ingest.errors import StorageError


class UvicornWorkers(CloudServer):
    """``uvicorn --factory cloud_ingest.asgi:create --workers 2`` (docs/deploy.md) on a free loopback port, chosen
    again when another program takes it first (``PortServer``); ready once its process holds it and answers."""

    name = "uvicorn"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "--factory", "cloud_ingest.asgi:create", "--host", self.host,
                "--port", str(self.port), "--workers", "2", "--log-level", "warning"]

    def environment(self) -> dict[str, str]:
        return {**super().environment(), asgi.ENV: str(self.config_path)}


def test_two_worker_processes_ingest_and_drain_every_event_once(postgres_server, victoria_metrics, tmp_path):
    name = postgres_server.create_database()
    try:
        url = postgres_server.url(name)
        cloud = Cloud(url)  # migrated, with tenants
        token = cloud.tenants()["gw-ws-a"]
        vm = victoria_metrics()
        influx = {"url": vm.url, "database": "sebiao", "batch_points": 100, "retry_max_seconds": 1}
        with UvicornWorkers(tmp_path, url, influx=influx) as server:
            base = server.base

            def push(b: int) -> int:
                doc = batch("ws-a", f"b-{b}", [event(seq=b * 100 + n, ts=T0 + (b * 100 + n) * 1000)
                                               for n in range(100)])
                raw = json.dumps(doc).encode()
                r = httpx.post(base + "/api/v1/ingest", content=gzip.compress(raw), timeout=30,
                               headers={"Authorization": f"Bearer {token}", "Content-Encoding": "gzip",
                                        **signature_headers(raw)})
                return r.status_code

            with ThreadPoolExecutor(4) as pool:
                assert set(pool.map(push, range(30))) == {200}
            deadline = time.monotonic() + 60
            while httpx.get(base + "/healthz", timeout=5).json()["influx_outbox"]["depth"]:
                assert time.monotonic() < deadline, "the outbox did not drain"
                time.sleep(0.2)
        samples = [s for s in vm.export("tool_event_seq")]
        values = sorted(v for s in samples for v in s["values"])
        assert values == [float(n) for n in range(3000)]  # every event once: no row written by both workers
        assert {s["metric"]["workshop"] for s in samples} == {"ws-a"}
    finally:
        postgres_server.drop_database(name)


def test_the_factory_refuses_a_database_that_is_not_migrated(postgres_server, tmp_path, monkeypatch):
    name = postgres_server.create_database()
    try:
        config = tmp_path / "cloud.yaml"
        config.write_text(yaml.safe_dump({"database": {"url": postgres_server.url(name)}, "session_secret": SECRET}))
        monkeypatch.setenv(asgi.ENV, str(config))
        with pytest.raises(StorageError) as err:
            asgi.create()
        assert "sebiao cloud migrate" in err.value.body()["error"]
    finally:
        postgres_server.drop_database(name)
