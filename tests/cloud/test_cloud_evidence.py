"""The evidence chain: verifies, refuses UPDATE, and names the first entry changed behind its back."""

from __future__ import annotations

from pathlib import Path

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, T0, alarm, batch, event, unguard
from sqlalchemy import insert, select, text, update

from cloud_ingest.errors import CloudError
from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.schema import events, evidence_log
from sebiao.cli import main
from sebiao_common import strict_json


def _fill(cloud) -> int:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [alarm(alarm_id=i, seq=i) for i in range(1, 6)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items)).status_code == 200
    alarm_id = cloud.get(tokens["insp1"], "/api/v1/alarms").json()[0]["id"]
    assert cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/ack", {"note": "收到"}).status_code == 200
    return 3 + 6  # the three gateways' keys, five transitions, one acknowledgement


def test_chain_verifies_then_names_the_tampered_entry(cloud, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    entries = _fill(cloud)
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn) == evidence.ChainReport(entries)
    # the database itself refuses changes …
    try:
        with db.write(cloud.engine) as conn:
            conn.execute(update(evidence_log).where(evidence_log.c.seq == 6).values(body='{"x":1}'))
        raise AssertionError("the UPDATE went through")
    except CloudError as exc:  # SQLite: an integrity abort (409), PostgreSQL: a raised exception (503)
        assert "append-only" in str(exc)
    # … so a tamperer with the database's rights drops the trigger first
    with db.write(cloud.engine) as conn:
        unguard(conn, "evidence_log")
        body = conn.execute(text("SELECT body FROM evidence_log WHERE seq = 6")).scalar_one()
        conn.execute(text("UPDATE evidence_log SET body = :b WHERE seq = 6"),
                     {"b": body.replace('"by":"system"', '"by":"someone-else"')})
    config = tmp_path / "cloud.yaml"
    config.write_text(f"database:\n  url: {cloud.url}\nsession_secret: {SECRET}\n")
    assert main(["cloud", "verify", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "entry 6" in out and "does not match its hash" in out and "证据链在第 6 条断开" in out


def test_a_removed_entry_is_named(cloud) -> None:  # type: ignore[no-untyped-def]
    _fill(cloud)
    with db.write(cloud.engine) as conn:
        unguard(conn, "evidence_log")
        conn.execute(text("DELETE FROM evidence_log WHERE seq = 2"))
    with db.read(cloud.engine) as conn:
        report = evidence.verify(conn)
    assert (report.ok, report.broken_seq, report.checked) == (False, 2, 1)
    assert "missing" in report.reason


def test_events_entries_of_both_forms_verify_and_name_an_edit(cloud) -> None:  # type: ignore[no-untyped-def]
    """An ``events`` entry digests its rows as value lists (``columns``); entries an earlier release wrote digest
    them as facts (objects by column name). Both verify, and an edited row is named under either form."""
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [event(seq=1), event(seq=2)])).status_code == 200
    with db.write(cloud.engine) as conn:  # what the earlier release stored: a row and its fact-form entry
        row = conn.execute(insert(events).values(workshop_id="ws-a", station="RACK-R-01", boot="b0", seq=9,
                                                 ts=T0, tag="04A1B2C3D4", action="lift", tool=None, note=None,
                                                 received_at=T0).returning(*events.c)).one()
        old = coverage.fact(events, row._mapping)
        evidence.append_many(conn, T0, [evidence.Entry("events", "ws-a", None, {
            "count": 1, "ids": [old["id"]], "digest": coverage.digest([old])})])
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
        bodies = [strict_json.loads(b) for b in conn.execute(
            select(evidence_log.c.body).where(evidence_log.c.kind == "events")).scalars()]
    assert found.ok and found.rows["events"] == 3, found.lines()
    assert [("columns" in b) for b in bodies] == [True, False]
    for seq in (1, 9):  # a row of the new form, then the old one
        with db.write(cloud.engine) as conn:
            conn.execute(update(events).where(events.c.seq == seq).values(tool="KN-W-01"))
        with db.read(cloud.engine) as conn:
            found = coverage.check(conn)
        assert not found.ok and "were changed after they were stored" in found.lines()[0], found.lines()
        with db.write(cloud.engine) as conn:
            conn.execute(update(events).where(events.c.seq == seq).values(tool=None))
