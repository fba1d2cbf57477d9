"""The central InfluxDB sink of the cloud, on SQLite and PostgreSQL, against a real VictoriaMetrics
(it takes influxdb-client's v2 writes): points with the right tags and values, an outage loses and
duplicates nothing, two drain workers on PostgreSQL never write the same rows, the app's lifespan runs
the worker and /healthz shows the outbox."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, alarm, batch, event, gz, status
from gateway_keys import signature_headers
from sqlalchemy import func, select
from starlette.testclient import TestClient

from cloud_ingest.app import build_app
from cloud_ingest.config import InfluxHook
from cloud_ingest.influx.drain import InfluxDrain
from cloud_ingest.influx.outbox import enabled_engine
from cloud_ingest.store import db
from cloud_ingest.store.schema import influx_outbox


@pytest.fixture
def world(cloud_url, victoria_metrics):  # type: ignore[no-untyped-def]
    cloud = Cloud(cloud_url)
    tokens = cloud.tenants()
    vm = victoria_metrics()
    hook = InfluxHook(url=vm.url, database="sebiao", timeout_seconds=2, retry_max_seconds=0.5, batch_points=100)
    config = dataclasses.replace(cloud.config, influx=hook)
    client = TestClient(build_app(cloud.engine, config, lambda: cloud.now))  # no lifespan: rounds by hand
    drains: list[InfluxDrain] = []

    def drain() -> InfluxDrain:
        drains.append(InfluxDrain(enabled_engine(cloud.engine), hook))
        return drains[-1]

    def push(doc: dict):  # type: ignore[no-untyped-def]
        r = client.post("/api/v1/ingest", content=gz(doc), headers={
            "Authorization": f"Bearer {tokens['gw-ws-a']}", "Content-Encoding": "gzip", **signature_headers(gz(doc))})
        assert r.status_code == 200, r.text
        return r.json()

    yield cloud, vm, push, drain, config, tokens
    for d in drains:
        d.sink.close()


def depth(cloud) -> int:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return conn.execute(select(func.count()).select_from(influx_outbox)).scalar_one()


def series(vm, metric: str) -> dict[tuple, list[tuple[int, float]]]:  # type: ignore[no-untyped-def]
    """label set (without __name__ and db) -> [(ms, value)] of every sample."""
    out = {}
    for s in vm.export(metric):
        labels = tuple(sorted((k, v) for k, v in s["metric"].items() if k not in ("__name__", "db")))
        out[labels] = list(zip(s["timestamps"], s["values"]))
    return out


def until_empty(cloud, drain) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if drain.round() == 0.5 and depth(cloud) == 0:  # IDLE_POLL: nothing left
            return
    raise AssertionError(f"the outbox did not drain: {depth(cloud)} rows left")


def test_points_arrive_with_the_workshop_tags_and_values(world):  # type: ignore[no-untyped-def]
    cloud, vm, push, drain, _, _ = world
    push(batch("ws-a", "b-1", [event(seq=0, ts=T0), event(seq=1, ts=T0 + 1000, action="placed"),
                               alarm(), status(ts=T0 + 5)]))
    assert depth(cloud) == 4  # queued in the ingest transaction
    until_empty(cloud, drain())
    base = (("district", "d1"), ("workshop", "ws-a"))
    seqs = series(vm, "tool_event_seq")
    assert seqs == {
        tuple(sorted(base + (("action", "removed"), ("station", "rack-red-1")))): [(T0, 0.0)],
        tuple(sorted(base + (("action", "placed"), ("station", "rack-red-1")))): [(T0 + 1000, 1.0)]}
    alarms = series(vm, "alarm_alarm_id")
    assert alarms == {tuple(sorted(base + (("severity", "critical"), ("state", "active"), ("station", "rack-white-1"),
                                          ("transition", "raised"), ("type", "cross_zone")))): [(T0, 12.0)]}
    online = series(vm, "station_status_online")
    assert online == {tuple(sorted(base + (("report", "status"), ("station", "rack-red-1")))): [(T0 + 5, 1.0)]}
    assert series(vm, "station_status_buffer_depth") and not series(vm, "station_status_fw")  # text: not a number


def test_an_influx_outage_loses_and_duplicates_nothing(world):  # type: ignore[no-untyped-def]
    cloud, vm, push, drain, _, _ = world
    worker = drain()
    push(batch("ws-a", "b-1", [event(seq=n, ts=T0 + n * 1000) for n in range(50)]))
    until_empty(cloud, worker)
    vm.stop()  # the outage
    push(batch("ws-a", "b-2", [event(seq=n, ts=T0 + n * 1000) for n in range(50, 250)]))
    delays = [worker.round() for _ in range(3)]
    assert all(d > 0 for d in delays) and depth(cloud) == 200  # kept, backing off
    assert worker.backoff.last_error
    assert push(batch("ws-a", "b-2", [event(seq=n, ts=T0 + n * 1000) for n in range(50, 250)]))["replayed_batch"]
    assert depth(cloud) == 200  # a replayed batch queues nothing
    vm.start()
    until_empty(cloud, worker)
    samples = series(vm, "tool_event_seq")
    (only,) = samples.values()
    assert [v for _, v in only] == [float(n) for n in range(250)]  # each once, in order
    assert [t for t, _ in only] == [T0 + n * 1000 for n in range(250)]
    assert worker.backoff.last_error is None


def test_two_workers_on_postgresql_never_write_the_same_rows(world, cloud_url):  # type: ignore[no-untyped-def]
    if not cloud_url.startswith("postgresql"):
        pytest.skip("several drain workers are a PostgreSQL deployment (SKIP LOCKED); SQLite runs one")
    cloud, vm, push, drain, _, _ = world
    for b in range(10):
        push(batch("ws-a", f"b-{b}", [event(seq=b * 200 + n, ts=T0 + (b * 200 + n) * 1000) for n in range(200)]))
    assert depth(cloud) == 2000
    workers = [drain(), drain()]
    go = threading.Barrier(2)

    def run(worker: InfluxDrain) -> None:
        go.wait()
        while worker.round() == 0.0:
            pass

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert depth(cloud) == 0
    assert sum(w.written for w in workers) == 2000  # every row written by exactly one of them
    assert all(w.written > 0 for w in workers)  # and they shared the work
    (only,) = series(vm, "tool_event_seq").values()
    assert sorted(v for _, v in only) == [float(n) for n in range(2000)]  # no sample twice


def test_the_lifespan_runs_the_worker_and_healthz_shows_the_outbox(world):  # type: ignore[no-untyped-def]
    cloud, vm, _, _, config, tokens = world
    with TestClient(build_app(cloud.engine, config, lambda: cloud.now)) as client:
        health = client.get("/healthz").json()
        assert health["ok"] and "influx_outbox" in health
        body = gz(batch("ws-a", "b-9", [event(seq=n, ts=T0 + n) for n in range(5)]))
        r = client.post("/api/v1/ingest", content=body, headers={
            "Authorization": f"Bearer {tokens['gw-ws-a']}", "Content-Encoding": "gzip", **signature_headers(body)})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        while client.get("/healthz").json()["influx_outbox"]["depth"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/healthz").json()["influx_outbox"] == {"depth": 0, "oldest_age_seconds": None}
    (only,) = series(vm, "tool_event_seq").values()
    assert len(only) == 5
    plain = TestClient(build_app(cloud.engine, cloud.config, lambda: cloud.now))  # no influx: section
    assert plain.get("/healthz").json() == {"ok": True}
