"""The evidence sequencer on PostgreSQL (cloud_ingest/store/sequencer.py): a batch's entries are staged in its
transaction and chained after its commit, many batches' in one chain transaction, each exactly once; entries a
stopped worker left staged are chained by the next batch and by ``sebiao cloud verify``."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, T0, alarm, batch, event
from gateway_keys import gateway_token, signed
from sqlalchemy import func, select

from cloud_ingest.access import admin
from cloud_ingest.config import Limits
from cloud_ingest.ingest.storing import store_batch
from cloud_ingest.store import coverage, db, evidence, sequencer
from cloud_ingest.store.schema import evidence_log
from cloud_ingest.store.sequencer import evidence_pending
from cloud_ingest.wire.batch import parse_batch
from sebiao.cli import main

pytestmark = pytest.mark.parametrize("cloud_url", ["postgresql"], indirect=True)


def _count(cloud, table) -> int:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _stage(cloud, ws: str, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    """A batch's entries staged and committed, as a worker that stopped before its chain step leaves them."""
    with db.write(cloud.engine) as conn:
        return sequencer.stage(conn, T0, [evidence.Entry("coverage", ws, None, {"n": n, "i": i}) for i in range(2)])


def test_one_chain_step_chains_every_batch_waiting_then(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    before = _count(cloud, evidence_log)
    first, second, third = (_stage(cloud, "ws-a", n) for n in range(3))
    assert _count(cloud, evidence_pending) == 6
    assert sequencer.chain(cloud.engine, second) == 6  # all three batches', in the order staged
    assert sequencer.chain(cloud.engine, first) == 0 and sequencer.chain(cloud.engine, third) == 0  # found chained
    assert _count(cloud, evidence_pending) == 0
    with db.read(cloud.engine) as conn:
        bodies = [json.loads(r.body) for r in conn.execute(select(evidence_log).where(evidence_log.c.seq > before)
                                                           .order_by(evidence_log.c.seq))]
        assert bodies == [{"n": n, "i": i} for n in range(3) for i in range(2)]
        assert evidence.verify(conn).ok


@pytest.mark.parametrize("rounds", ["per request", "a worker's sequencer thread"])
def test_concurrent_batches_are_chained_once_each_and_answered_chained(cloud, rounds: str) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    steps = sequencer.Sequencer(cloud.engine) if rounds != "per request" else None
    secrets = {ws: cloud.as_admin(admin.issue_token, gateway_token(ws), cloud.now)["token"]
               for ws in ("ws-a", "ws-b", "ws-c")}

    def gateway(ws: str) -> None:
        for b in range(8):
            items = [event(seq=b * 20 + i, ts=T0 + i) for i in range(20)] + [alarm(alarm_id=b + 1, seq=b + 1)]
            doc = {"v": 1, "workshop": ws, "batch": f"{ws}-{b}", "items": items}
            parsed = parse_batch(json.dumps(doc).encode(), Limits())
            assert store_batch(cloud.engine, parsed, secrets[ws], T0, signed(json.dumps(doc).encode()),
                               steps.chained if steps else None).accepted == 21
            with db.read(cloud.engine) as conn:  # answered only once its entries are in the chain
                mine = conn.execute(select(func.count()).select_from(evidence_log).where(
                    evidence_log.c.workshop_id == ws, evidence_log.c.kind == "events")).scalar_one()
                assert mine == b + 1

    with ThreadPoolExecutor(len(secrets)) as pool:
        for done in [pool.submit(gateway, ws) for ws in secrets]:
            done.result(timeout=120)
    if steps:
        steps.stop()
    assert _count(cloud, evidence_pending) == 0
    with db.read(cloud.engine) as conn:
        kinds = dict(conn.execute(select(evidence_log.c.kind, func.count()).group_by(evidence_log.c.kind)).all())
        assert (kinds["events"], kinds["alarm_transition"]) == (24, 24)
        assert evidence.verify(conn).ok
        found = coverage.check(conn)
        assert found.ok and found.rows["events"] == 3 * 8 * 20, found.lines()


def test_a_round_chains_the_batches_of_every_waiting_request(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    staged = [_stage(cloud, "ws-a", n) for n in range(6)]
    steps = sequencer.Sequencer(cloud.engine)
    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(steps.chained, staged, timeout=60))
        assert _count(cloud, evidence_pending) == 0
        assert steps._started <= 6  # one round per request at most, usually fewer
        steps.chained(_stage(cloud, "ws-a", 9))  # a later batch starts a new round
        assert _count(cloud, evidence_pending) == 0
    finally:
        steps.stop()
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn).ok


def _stranded(cloud, monkeypatch, token: str, ws: str, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    """A batch stored and answered by a worker that stops between its commit and its chain step."""
    with monkeypatch.context() as m:
        m.setattr(sequencer, "chain", lambda engine, ids=(): 0)
        assert cloud.push(token, batch(ws, batch_id, [event(seq=5), alarm(alarm_id=3, seq=3)])).status_code == 200
    assert _count(cloud, evidence_pending) == 2  # the events' entry and the transition's


def test_entries_a_stopped_worker_left_are_chained_by_the_next_batch(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    _stranded(cloud, monkeypatch, tokens["gw-ws-b"], "ws-b", "b-1")
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [event()])).status_code == 200
    assert _count(cloud, evidence_pending) == 0
    with db.read(cloud.engine) as conn:
        kinds = [(r.workshop_id, r.kind) for r in conn.execute(select(evidence_log).order_by(evidence_log.c.seq))]
        assert kinds[-3:] == [("ws-b", "events"), ("ws-b", "alarm_transition"), ("ws-a", "events")]
        assert evidence.verify(conn).ok and coverage.check(conn).ok


def test_verify_chains_what_a_stopped_worker_left(cloud, monkeypatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [event()])).status_code == 200
    _stranded(cloud, monkeypatch, tokens["gw-ws-a"], "ws-a", "b-2")
    config = tmp_path / "cloud.yaml"
    config.write_text(f"database:\n  url: {cloud.url}\nsession_secret: {SECRET}\n")
    assert main(["cloud", "verify", "--config", str(config)]) == 0, capsys.readouterr().out
    assert _count(cloud, evidence_pending) == 0
