"""数据中断 as a finding (review/silence.py), on SQLite and PostgreSQL: a workshop silent past the limit gets one
ledger item per outage (source ``report``, ``silence/{id}``, opened by ``@system``), the end is noted when data
returns and the item stays open for the inspector; a later silence is a new outage. Two workers sweeping at the
same moment (PostgreSQL, two engines, many rounds) never open one twice. The outages are evidence: a changed
row is named by the audit. The API answers within the caller's scope only."""

from __future__ import annotations

import gzip
import json
import threading
import time

import httpx
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, batch, status, unguard
from gateway_keys import signature_headers
from sqlalchemy import func, select, text
from test_cloud_workers import UvicornWorkers

from cloud_ingest.config import Freshness
from cloud_ingest.review import silence
from cloud_ingest.store import audit, db
from cloud_ingest.store.outage_tables import data_outage_ends, data_outages
from cloud_ingest.store.schema import ledger_items, users

MINUTE = 60_000
LIMIT = Freshness(silent_after_minutes=60)


def _push(cloud: Cloud, tokens: dict[str, str], ws: str, at: int, name: str) -> None:
    cloud.now = at
    assert cloud.push(tokens[f"gw-{ws}"], batch(ws, name, [status("rack-red-1", at)])).status_code == 200


def _items(cloud: Cloud) -> list:
    with db.read(cloud.engine) as conn:
        return conn.execute(select(ledger_items, users.c.username).join(users, users.c.id == ledger_items.c.created_by)
                            .order_by(ledger_items.c.id)).all()


def _audit(cloud: Cloud) -> audit.Audit:
    with db.read(cloud.engine) as conn:
        return audit.audit(conn, keys={}, files=[])


def test_one_item_per_outage_and_its_end_noted(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    _push(cloud, tokens, "ws-a", T0, "a-1")
    _push(cloud, tokens, "ws-b", T0 + 50 * MINUTE, "b-1")
    assert silence.sweep(cloud.engine, T0 + 60 * MINUTE, LIMIT) == silence.Swept()  # exactly 60 min: not yet
    swept = silence.sweep(cloud.engine, T0 + 61 * MINUTE, LIMIT)
    assert len(swept.opened) == 1 and swept.ended == ()
    items = _items(cloud)
    assert len(items) == 1
    item = items[0]
    assert (item.workshop_id, item.source, item.source_ref, item.state, item.username) == (
        "ws-a", "report", f"silence/{swept.opened[0]}", "open", "@system")
    assert "数据中断" in item.text and "2025-11-26 15:40" in item.text and "60 分钟" in item.text
    for later in (62, 90, 110):  # the same silence, swept again: nothing new
        assert silence.sweep(cloud.engine, T0 + later * MINUTE, LIMIT) == silence.Swept()
    assert len(_items(cloud)) == 1

    _push(cloud, tokens, "ws-a", T0 + 120 * MINUTE, "a-2")  # data returns
    back = silence.sweep(cloud.engine, T0 + 121 * MINUTE, LIMIT)
    assert back.ended == swept.opened and back.opened == (swept.opened[0] + 1,)  # ws-b went silent meanwhile
    assert silence.sweep(cloud.engine, T0 + 122 * MINUTE, LIMIT) == silence.Swept()
    r = cloud.get(tokens["insp1"], "/api/v1/workshops/ws-a/freshness")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "fresh" and body["last_received"] == T0 + 120 * MINUTE
    assert body["outages"] == [{"id": swept.opened[0], "workshop": "ws-a", "started_at": T0,
                                "detected_at": T0 + 61 * MINUTE, "silent_after_minutes": 60,
                                "ended_at": T0 + 120 * MINUTE, "item": item.id}]
    assert _items(cloud)[0].state == "open"  # the end is noted; closing stays the inspector's

    again = silence.sweep(cloud.engine, T0 + 181 * MINUTE, LIMIT)  # silent again: a new outage, a new item
    assert len(again.opened) == 1 and len(_items(cloud)) == 3
    report = _audit(cloud)
    assert report.ok, report.text()
    assert "data_outages 3" in report.text() and "data_outage_ends 1" in report.text()


def test_a_changed_outage_is_named_by_the_audit(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    _push(cloud, tokens, "ws-a", T0, "a-1")
    silence.sweep(cloud.engine, T0 + 61 * MINUTE, LIMIT)
    _push(cloud, tokens, "ws-a", T0 + 70 * MINUTE, "a-2")
    silence.sweep(cloud.engine, T0 + 71 * MINUTE, LIMIT)
    for sql, words in (("UPDATE data_outages SET started_at = started_at + 3600000", "data_outages row 1"),
                       ("UPDATE data_outage_ends SET ended_at = ended_at + 3600000", "data_outage_ends row 1"),
                       ("DELETE FROM data_outage_ends", "data_outage_ends 第 1 行（证据第 7 条）已被删除")):
        with db.write(cloud.engine) as conn:
            saved = conn.begin_nested()
            unguard(conn, "data_outages", "data_outage_ends")
            conn.execute(text(sql))
            report = audit.audit(conn, keys={}, files=[])
            saved.rollback()
        assert not report.ok and words in report.text(), (sql, report.text())
    with db.write(cloud.engine) as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE data_outages SET started_at = 1"))


def test_tenancy_of_the_freshness_api(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    _push(cloud, tokens, "ws-c", T0, "c-1")
    cloud.now = T0 + 61 * MINUTE
    silence.sweep(cloud.engine, cloud.now, LIMIT)
    assert cloud.get(tokens["insp1"], "/api/v1/workshops/ws-c/freshness").status_code == 404
    assert cloud.get(tokens["owner-a"], "/api/v1/workshops/ws-c/freshness").status_code == 404
    assert cloud.get(tokens["gw-ws-c"], "/api/v1/workshops/ws-c/freshness").status_code == 403
    assert cloud.get(None, "/api/v1/freshness").status_code == 401
    assert set(cloud.get(tokens["insp1"], "/api/v1/freshness").json()["workshops"]) == {"ws-a", "ws-b"}
    assert set(cloud.get(tokens["owner-a"], "/api/v1/freshness").json()["workshops"]) == {"ws-a"}
    mine = cloud.get(tokens["insp2"], "/api/v1/workshops/ws-c/freshness").json()
    assert mine["state"] == "silent" and len(mine["outages"]) == 1 and mine["outages"][0]["ended_at"] is None
    # the item the job opened is the district's like any other: insp1 does not see it
    assert cloud.get(tokens["insp1"], f"/api/v1/ledger/items/{mine['outages'][0]['item']}").status_code == 404
    assert cloud.get(tokens["insp2"], f"/api/v1/ledger/items/{mine['outages'][0]['item']}").status_code == 200


@pytest.mark.parametrize("cloud_url", ["postgresql"], indirect=True)
def test_two_workers_never_open_one_outage_twice(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    engines = [db.make_engine(cloud.url) for _ in range(2)]
    try:
        for round_ in range(8):
            start = T0 + round_ * 200 * MINUTE
            for ws in ("ws-a", "ws-b", "ws-c"):
                _push(cloud, tokens, ws, start, f"{ws}-{round_}")
            gate = threading.Barrier(2)
            results: list[silence.Swept] = []

            def worker(engine) -> None:  # type: ignore[no-untyped-def]
                gate.wait()
                results.append(silence.sweep(engine, start + 61 * MINUTE, LIMIT))
            threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert len(results) == 2 and sum(len(r.opened) for r in results) == 3, results
    finally:
        for e in engines:
            e.dispose()
    with db.read(cloud.engine) as conn:
        assert conn.execute(select(func.count()).select_from(data_outages)).scalar_one() == 24
        assert conn.execute(select(func.count()).select_from(data_outage_ends)).scalar_one() == 21
        per = conn.execute(select(ledger_items.c.source_ref, func.count()).group_by(ledger_items.c.source_ref)
                           .having(func.count() > 1)).all()
    assert per == [] and len(_items(cloud)) == 24
    report = _audit(cloud)
    assert report.ok, report.text()


def test_two_worker_processes_open_each_outage_once(postgres_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real job: ``uvicorn --workers 2`` over PostgreSQL, each worker sweeping every 5 s with a one-minute
    limit. Two workshops silent for 5 minutes get one outage and one item each, however many sweeps ran;
    data coming back through the real ingest notes the end once."""
    name = postgres_server.create_database()
    try:
        url = postgres_server.url(name)
        now = int(time.time() * 1000)
        cloud = Cloud(url, now=now)
        tokens = cloud.tenants()
        for ws in ("ws-a", "ws-c"):
            _push(cloud, tokens, ws, now - 5 * MINUTE, f"{ws}-old")  # received 5 minutes ago (the app's clock)
        with UvicornWorkers(tmp_path, url, freshness={"silent_after_minutes": 1, "check_seconds": 5}) as server:
            def counts() -> tuple[int, int, int]:
                with db.read(cloud.engine) as conn:
                    return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore
                                 for t in (data_outages, data_outage_ends, ledger_items))
            deadline = time.monotonic() + 30
            while counts()[0] < 2:
                assert time.monotonic() < deadline, "no outage was found"
                time.sleep(0.5)
            time.sleep(12)  # two more sweeps of each worker
            assert counts() == (2, 0, 2)
            doc = batch("ws-a", "a-new", [status("rack-red-1", int(time.time() * 1000))])
            raw = json.dumps(doc).encode()
            r = httpx.post(server.base + "/api/v1/ingest", content=gzip.compress(raw), timeout=30, headers={
                "Authorization": f"Bearer {tokens['gw-ws-a']}", "Content-Encoding": "gzip",
                **signature_headers(raw)})
            assert r.status_code == 200, r.text
            deadline = time.monotonic() + 30
            while counts()[1] < 1:
                assert time.monotonic() < deadline, "the outage's end was not noted"
                time.sleep(0.5)
            time.sleep(6)
            assert counts() == (2, 1, 2)
        refs = sorted(r.source_ref for r in _items(cloud))
        with db.read(cloud.engine) as conn:  # a losing worker's insert uses up a sequence number: ids may skip
            outages = sorted(conn.execute(select(data_outages.c.id)).scalars())
        assert refs == [f"silence/{i}" for i in outages] and {r.username for r in _items(cloud)} == {"@system"}
        report = _audit(cloud)
        assert report.ok, report.text()
        cloud.client.close()
        cloud.engine.dispose()
    finally:
        postgres_server.drop_database(name)
