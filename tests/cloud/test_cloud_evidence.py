"""The evidence chain: verifies, refuses UPDATE, and names the first entry changed behind its back."""

from __future__ import annotations

from pathlib import Path

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, alarm, batch
from sqlalchemy import text, update

from cloud_ingest.errors import CloudError
from cloud_ingest.store import db, evidence
from cloud_ingest.store.schema import evidence_log
from sebiao.cli import main


def _fill(cloud) -> int:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [alarm(alarm_id=i, seq=i) for i in range(1, 6)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items)).status_code == 200
    alarm_id = cloud.get(tokens["insp1"], "/api/v1/alarms").json()[0]["id"]
    assert cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/ack", {"note": "收到"}).status_code == 200
    return 6


def test_chain_verifies_then_names_the_tampered_entry(cloud, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    entries = _fill(cloud)
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn) == evidence.ChainReport(entries)
    # the database itself refuses changes …
    try:
        with db.write(cloud.engine) as conn:
            conn.execute(update(evidence_log).where(evidence_log.c.seq == 3).values(body='{"x":1}'))
        raise AssertionError("the UPDATE went through")
    except CloudError as exc:  # SQLite: an integrity abort (409), PostgreSQL: a raised exception (503)
        assert "append-only" in str(exc)
    # … so a tamperer with the database's rights drops the trigger first
    with db.write(cloud.engine) as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER evidence_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE evidence_log DISABLE TRIGGER evidence_log_append_only"))
        body = conn.execute(text("SELECT body FROM evidence_log WHERE seq = 3")).scalar_one()
        conn.execute(text("UPDATE evidence_log SET body = :b WHERE seq = 3"),
                     {"b": body.replace('"by":"system"', '"by":"someone-else"')})
    config = tmp_path / "cloud.yaml"
    config.write_text(f"database:\n  url: {cloud.url}\nsession_secret: {SECRET}\n")
    assert main(["cloud", "verify", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "entry 3" in out and "does not match its hash" in out and "证据链在第 3 条断开" in out


def test_a_removed_entry_is_named(cloud) -> None:  # type: ignore[no-untyped-def]
    _fill(cloud)
    with db.write(cloud.engine) as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER evidence_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE evidence_log DISABLE TRIGGER evidence_log_append_only"))
        conn.execute(text("DELETE FROM evidence_log WHERE seq = 2"))
    with db.read(cloud.engine) as conn:
        report = evidence.verify(conn)
    assert (report.ok, report.broken_seq, report.checked) == (False, 2, 1)
    assert "missing" in report.reason
