"""Disinfection cycles in the evidence chain (SQLite and PostgreSQL).

A batch that stores new cycles appends a ``cycles`` entry (ids, columns, digest, the batch's signature), and
``sebiao cloud verify`` compares the ``cycles`` table with it. As someone holding the database (guard triggers
off), a cycle's verdict is edited, a cycle row deleted, one forged without an entry, one forged with an unsigned
entry, and one edited with its entry and the chain after it recomputed: each is named. Cycles stored before
their coverage (revision 0009) keep their number after the upgrade, and a new cycle is covered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, batch, event
from gateway_keys import gateway_token, signed
from sqlalchemy import delete, insert, select, update
from test_cloud_cycles import cycle_item
from test_cloud_signed_batches import _entries, _rechain, _unguard, _verify

from cloud_ingest.access import admin
from cloud_ingest.access.auth import Principal
from cloud_ingest.config import Limits
from cloud_ingest.ingest.storing import store_batch
from cloud_ingest.store import audit, cycle_chain, db, evidence, migrate
from cloud_ingest.store.schema import cycles, districts, evidence_log, workshops
from cloud_ingest.wire.batch import parse_batch

GOOD = batch("ws-a", "c-1", [event(seq=1), cycle_item(1), cycle_item(2, (100.0,) * 5, ())])


def _forged_row(conn: Any, seq: int = 9) -> list[tuple]:
    """A passed cycle the gateway never sent, inserted as the ingest would: the row as the insert returns it."""
    row = {"workshop_id": "ws-a", "station": "dis-1", "boot": "0a0b0c0d", "seq": seq, "start": T0, "ts": T0 + 600_000,
           "method": "cabinet", "temp_c": 120.0, "hold_required_s": 600, "max_temp_dc": 1200, "hold_s": 600,
           "passed": True, "tools": '["KN-R-01"]', "received_at": T0}
    return [tuple(r) for r in conn.execute(insert(cycles).returning(*cycles.c), [row])]


def _edit_verdict(conn: Any) -> None:
    conn.execute(update(cycles).where(cycles.c.seq == 2).values(passed=True, hold_s=600))


def _delete_row(conn: Any) -> None:
    conn.execute(delete(cycles).where(cycles.c.seq == 2))


def _forge_row(conn: Any) -> None:
    _forged_row(conn)


def _forge_unsigned(conn: Any) -> None:
    evidence.append(conn, T0, "cycles", "ws-a", None, cycle_chain.body(_forged_row(conn)))


def _edit_and_rechain(conn: Any) -> None:
    """The failed cycle made a pass, its entry's digest and every hash after it recomputed."""
    _edit_verdict(conn)
    seq = _entries(conn, "cycles")[0]
    rows = [tuple(r) for r in conn.execute(select(cycles).order_by(cycles.c.id))]
    _rechain(conn, seq, lambda body: {**body, **cycle_chain.body(rows)})


ATTACKS: dict[str, tuple[Callable[[Any], None], str]] = {
    "a verdict edited": (_edit_verdict, "(cycles rows 1, 2) were changed after they were stored"),
    "a row deleted": (_delete_row, "cycles rows 2 of evidence entry"),
    "a row forged without an entry": (_forge_row, "are not in the evidence chain (forged?)"),
    "a row forged with an unsigned entry": (_forge_unsigned, "a batch entry without its gateway's signature"),
    "a verdict edited, the chain recomputed": (_edit_and_rechain, "cycles rows 2 (evidence entry"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_verify_names_a_changed_deleted_or_forged_cycle(cloud, tmp_path: Path, attack: str) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], GOOD).status_code == 200
    with db.read(cloud.engine) as conn:
        (body,) = [json.loads(b) for b in conn.execute(select(evidence_log.c.body)
                                                        .where(evidence_log.c.kind == "cycles")).scalars()]
    assert body["ids"] == [1, 2] and body["columns"] == list(cycle_chain.COLUMNS) and body["signed"]["batch"] == "c-1"
    code, out = _verify(cloud.url, tmp_path)
    assert code == 0, out
    assert "the disinfection cycles match the chain: 2 rows" in out, out
    assert "gateway signatures: 1 batches verify, 2 entries hold what was signed" in out, out
    # sent again: nothing new, no second entry
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "c-2", [cycle_item(1)])).json()["duplicates"] == 1
    with db.read(cloud.engine) as conn:
        assert len(_entries(conn, "cycles")) == 1
    _unguard(cloud.engine)
    forge, words = ATTACKS[attack]
    with db.write(cloud.engine) as conn:
        forge(conn)
    code, out = _verify(cloud.url, tmp_path)
    assert code == 1 and words in out, out
    assert "entries link up" in out and "verdict: the evidence was changed" in out, out


def test_cycles_stored_before_their_coverage_keep_their_number(cloud_url: str) -> None:
    engine = db.make_engine(cloud_url)
    try:
        assert migrate.upgrade(engine, "0009", clock=lambda: T0) == "0009"
        with db.write(engine) as conn:  # what the code of revision 0009 wrote: the rows, no entry
            conn.execute(insert(districts).values(id="d1", name="昆都仑区"))
            conn.execute(insert(workshops).values(id="ws-a", name="作坊", district_id="d1", created_at=T0))
            _forged_row(conn, 1)
            _forged_row(conn, 2)
        assert migrate.upgrade(engine, clock=lambda: T0 + 1000) == migrate.head()
        assert migrate.upgrade(engine, clock=lambda: T0 + 2000) == migrate.head()  # nothing appended twice
        with db.read(engine) as conn:
            starts = conn.execute(select(evidence_log.c.body).where(evidence_log.c.kind == "cycles_start")).all()
            assert [json.loads(b) for (b,) in starts] == [{"max_id": 2, "rows": 2}]
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok, report.text()
        assert "the disinfection cycles match the chain: 0 rows; the 2 rows stored before" in report.text()

        with db.write(engine) as conn:
            secret = admin.issue_token(conn, Principal("admin", 1, "admin"), gateway_token("ws-a"), T0)["token"]
        raw = json.dumps(batch("ws-a", "b-1", [cycle_item(5)])).encode()
        store_batch(engine, parse_batch(raw, Limits()), secret, T0 + 3000, signed(raw))
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok and "the disinfection cycles match the chain: 1 rows" in report.text(), report.text()

        with db.write(engine) as conn:
            conn.execute(delete(cycles).where(cycles.c.seq == 1))
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert not report.ok
        assert "cycles: 2 rows were stored before the coverage start, 1 are there now" in report.text()
    finally:
        engine.dispose()
