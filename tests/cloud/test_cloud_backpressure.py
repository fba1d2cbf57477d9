"""Back-pressure: a batch that waited for a free thread longer than ``limits.busy_wait_ms`` is answered with
``"linger_seconds": limits.busy_linger_seconds`` (the gateway's push worker then sends less often); a cloud that
keeps up answers as before. The keys are read from the config and refused out of range."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, batch, event
from starlette.testclient import TestClient

from cloud_ingest.api import http_api
from cloud_ingest.app import build_app
from cloud_ingest.config import Limits, load_cloud_config
from sebiao_common.errors import ConfigError


def _served(cloud, limits: Limits) -> TestClient:  # type: ignore[no-untyped-def]
    config = dataclasses.replace(cloud.config, limits=limits)
    return TestClient(build_app(cloud.engine, config, lambda: cloud.now))


def _push(client: TestClient, token: str, doc: dict):  # type: ignore[no-untyped-def]
    from cloud_fixtures import gz
    from gateway_keys import signature_headers
    body = gz(doc)
    return client.post("/api/v1/ingest", content=body, headers={
        "Authorization": f"Bearer {token}", "Content-Encoding": "gzip", "Content-Type": "application/json",
        **signature_headers(body)})


@pytest.mark.parametrize("cloud_url", ["sqlite"], indirect=True)
def test_a_batch_that_waited_for_a_thread_asks_its_gateway_to_linger(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    quick = _push(cloud.client, tokens["gw-ws-a"], batch("ws-a", "b-1", [event(seq=1)]))
    assert quick.status_code == 200 and "linger_seconds" not in quick.json()  # the defaults, nothing queued
    ticks = iter(range(0, 10_000, 2))  # every look at the clock two seconds later: as if it had queued
    monkeypatch.setattr(http_api, "monotonic", lambda: float(next(ticks)))
    with _served(cloud, Limits(busy_wait_ms=1000, busy_linger_seconds=90)) as client:
        busy = _push(client, tokens["gw-ws-a"], batch("ws-a", "b-2", [event(seq=2)]))
        assert busy.status_code == 200 and busy.json()["linger_seconds"] == 90
        assert busy.json()["accepted"] == 1
    with _served(cloud, Limits(busy_wait_ms=1000, busy_linger_seconds=0)) as client:  # 0: never asks
        never = _push(client, tokens["gw-ws-a"], batch("ws-a", "b-3", [event(seq=3)]))
        assert never.status_code == 200 and "linger_seconds" not in never.json()
    with _served(cloud, Limits(busy_wait_ms=5000, busy_linger_seconds=90)) as client:  # waited less than that
        patient = _push(client, tokens["gw-ws-a"], batch("ws-a", "b-4", [event(seq=4)]))
        assert patient.status_code == 200 and "linger_seconds" not in patient.json()


def _config(tmp_path: Path, limits: str) -> Path:
    path = tmp_path / "cloud.yaml"
    path.write_text(f"database:\n  url: sqlite:///{tmp_path / 'c.db'}\nsession_secret: {SECRET}\nlimits:\n{limits}")
    return path


def test_the_back_pressure_keys_default_and_range(tmp_path: Path) -> None:
    assert (Limits().busy_wait_ms, Limits().busy_linger_seconds) == (250, 300)
    config = load_cloud_config(_config(tmp_path, "  busy_wait_ms: 100\n  busy_linger_seconds: 0\n"))
    assert (config.limits.busy_wait_ms, config.limits.busy_linger_seconds) == (100, 0)
    with pytest.raises(ConfigError, match="busy_linger_seconds"):
        load_cloud_config(_config(tmp_path, "  busy_linger_seconds: 3601\n"))
    with pytest.raises(ConfigError, match="busy_wait_ms"):
        load_cloud_config(_config(tmp_path, "  busy_wait_ms: 0\n"))


@pytest.mark.parametrize("cloud_url", ["sqlite"], indirect=True)
def test_a_batch_marked_as_carrying_an_alarm_is_served_by_its_own_lane(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    lanes: list[object] = []
    real = http_api.Api.call

    async def call(self, fn, status=200, limiter=None):  # type: ignore[no-untyped-def]
        lanes.append(limiter)
        return await real(self, fn, status, limiter)

    monkeypatch.setattr(http_api.Api, "call", call)
    from cloud_fixtures import alarm, gz
    from gateway_keys import signature_headers
    body = gz(batch("ws-a", "b-1", [alarm(seq=1)]))
    r = cloud.client.post("/api/v1/ingest", content=body, headers={
        "Authorization": f"Bearer {tokens['gw-ws-a']}", "Content-Encoding": "gzip", "X-Sebiao-Alarm": "1",
        **signature_headers(body)})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert _push(cloud.client, tokens["gw-ws-a"], batch("ws-a", "b-2", [event(seq=1)])).status_code == 200
    assert lanes[0] is not None and lanes[0].total_tokens == http_api.ALARM_LANE_THREADS  # its own threads
    assert lanes[1] is not None and lanes[1].total_tokens == http_api.INGEST_THREADS  # the others: theirs
    assert cloud.get(tokens["insp1"], "/api/v1/alarms").json()[0]["gateway_id"] == 12  # stored as any batch
