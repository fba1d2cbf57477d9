"""Several stateless cloud workers over one PostgreSQL (docs/deploy.md): ``uvicorn --factory
cloud_ingest.asgi:create --workers 2`` as a real process, gateways' batches pushed concurrently, each
worker process draining the central InfluxDB outbox (a real VictoriaMetrics) with SKIP LOCKED claims:
every event arrives exactly once. The factory refuses a database that is not migrated."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, T0, Cloud, batch, event
from servers import ROOT, _die_with_parent, free_port

from cloud_ingest import asgi
from cloud_ingest.errors import StorageError


def write_config(path, url: str, influx_url: str) -> None:  # type: ignore[no-untyped-def]
    path.write_text(yaml.safe_dump({"database": {"url": url}, "session_secret": SECRET,
                                    "influx": {"url": influx_url, "database": "sebiao", "batch_points": 100,
                                               "retry_max_seconds": 1}}))


def test_two_worker_processes_ingest_and_drain_every_event_once(postgres_server, victoria_metrics, tmp_path):
    name = postgres_server.create_database()
    try:
        url = postgres_server.url(name)
        cloud = Cloud(url)  # migrated, with tenants
        token = cloud.tenants()["gw-ws-a"]
        vm = victoria_metrics()
        config = tmp_path / "cloud.yaml"
        write_config(config, url, vm.url)
        port = free_port()
        log = open(tmp_path / "uvicorn.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "cloud_ingest.asgi:create", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, asgi.ENV: str(config)}, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "uvicorn.log").read_text()
                time.sleep(0.2)

            def push(b: int) -> int:
                doc = batch("ws-a", f"b-{b}", [event(seq=b * 100 + n, ts=T0 + (b * 100 + n) * 1000)
                                               for n in range(100)])
                r = httpx.post(base + "/api/v1/ingest", content=gzip.compress(json.dumps(doc).encode()),
                               headers={"Authorization": f"Bearer {token}", "Content-Encoding": "gzip"}, timeout=30)
                return r.status_code

            with ThreadPoolExecutor(4) as pool:
                assert set(pool.map(push, range(30))) == {200}
            deadline = time.monotonic() + 60
            while httpx.get(base + "/healthz", timeout=5).json()["influx_outbox"]["depth"]:
                assert time.monotonic() < deadline, "the outbox did not drain"
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
            log.close()
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
        write_config(config, postgres_server.url(name), "http://127.0.0.1:9")
        monkeypatch.setenv(asgi.ENV, str(config))
        with pytest.raises(StorageError) as err:
            asgi.create()
        assert "sebiao cloud migrate" in err.value.body()["error"]
    finally:
        postgres_server.drop_database(name)
