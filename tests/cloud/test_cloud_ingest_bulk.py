"""Bulk ingest keeps the documented semantics (SQLite and PostgreSQL): counts, in-batch repeats,
several transitions of one alarm in one batch, and concurrent batches appending to the evidence chain."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch, event, status
from gateway_keys import gateway_token, signed
from sqlalchemy import func, select

from cloud_ingest.access import admin
from cloud_ingest.config import Limits
from cloud_ingest.ingest.storing import store_batch
from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    evidence_log,
    station_status,
)
from cloud_ingest.wire.batch import parse_batch


def count(cloud, table) -> int:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_full_batch_with_repeats_inside_counts_each_fact_once(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [event(station=f"rack-red-{i % 7}", seq=i // 7, ts=T0 + i) for i in range(4989)]
    items += [event(station="rack-red-0", seq=0, ts=T0)] * 3  # the same fact three more times
    items += [status(station=f"rack-red-{i}", ts=T0 + 60_000) for i in range(5)]
    items += [status(station="rack-red-0", ts=T0 + 60_000), alarm(seq=1), alarm(seq=1)]
    assert len(items) == 5000
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "big", items))
    assert r.status_code == 200, r.text
    assert r.json() == {"items": 5000, "accepted": 4989 + 5 + 1, "duplicates": 3 + 1 + 1, "replayed_batch": False}
    assert (count(cloud, events), count(cloud, station_status), count(cloud, alarm_transitions),
            count(cloud, evidence_log)) == (4989, 5, 1, 3 + 2)  # 3 keys (tenants); the batch's events, the transition
    with db.read(cloud.engine) as conn:
        row = conn.execute(select(events).where(events.c.station == "rack-red-3", events.c.seq == 5)).one()
        assert (row.ts, row.tag, row.action, row.tool, row.note, row.received_at) == (
            T0 + 5 * 7 + 3, "04A224E2C65E80", "removed", "KN-R-01", None, T0)
        health = conn.execute(select(station_status.c.health).where(station_status.c.station == "rack-red-2")).one()
        assert json.loads(health[0]) == {"fw": "1.0.0"}


def test_several_transitions_of_one_alarm_in_one_batch(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    gw = tokens["gw-ws-a"]
    cleared = alarm(seq=3, action="cleared", state="cleared", at=T0 + 900, comment="已清洗消毒")
    acked = alarm(seq=2, action="acknowledged", acked=True, at=T0 + 500)
    other = alarm(alarm_id=13, seq=4, severity="warning")
    r = cloud.push(gw, batch("ws-a", "b-1", [cleared, alarm(seq=1), other, acked]))
    assert r.json()["accepted"] == 4
    # an older transition arriving late, and the newest again, move nothing back
    r = cloud.push(gw, batch("ws-a", "b-2", [alarm(seq=1), acked]))
    assert r.json() == {"items": 2, "accepted": 0, "duplicates": 2, "replayed_batch": False}
    with db.read(cloud.engine) as conn:
        pictures = {row.gateway_id: (row.state, row.acked, row.history_seq, row.severity)
                    for row in conn.execute(select(alarms))}
        assert pictures == {12: ("cleared", False, 3, "critical"), 13: ("active", False, 4, "warning")}
        chain = [json.loads(row.body)["seq"] for row in conn.execute(
            select(evidence_log).where(evidence_log.c.kind == "alarm_transition").order_by(evidence_log.c.seq))]
        assert chain == [3, 1, 4, 2]  # in the batch's order
        assert evidence.verify(conn).ok


def test_concurrent_batches_keep_the_chain_whole(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    secrets = {ws: cloud.as_admin(admin.issue_token, gateway_token(ws), cloud.now)["token"]
               for ws in ("ws-a", "ws-b", "ws-c")}

    def gateway(ws: str) -> None:
        for b in range(6):
            items = [event(seq=b * 50 + i, ts=T0 + i) for i in range(50)]
            items += [alarm(alarm_id=b + 1, seq=b * 10 + 1), alarm(alarm_id=b + 1, seq=b * 10 + 2,
                                                                  action="cleared", state="cleared")]
            doc = {"v": 1, "workshop": ws, "batch": f"{ws}-{b}", "items": items}
            parsed = parse_batch(json.dumps(doc).encode(), Limits())
            assert store_batch(cloud.engine, parsed, secrets[ws], T0, signed(json.dumps(doc).encode())).accepted == 52

    with ThreadPoolExecutor(len(secrets)) as pool:
        for done in [pool.submit(gateway, ws) for ws in secrets]:
            done.result(timeout=120)  # raises what the thread raised
    # per batch: one entry for its 50 events, two for its transitions; and the six tokens' keys
    assert (count(cloud, events), count(cloud, alarms), count(cloud, evidence_log)) == (3 * 300, 3 * 6, 3 * 18 + 6)
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn) == evidence.ChainReport(60)
        found = coverage.check(conn)  # rows of concurrent batches interleave their ids: each batch's still verify
        assert found.ok and found.rows["events"] == 900 and found.alarms == 18, found.lines()
