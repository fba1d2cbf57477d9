"""A database with rectifications made before the issue ledger (revision 0007), upgraded (SQLite and
PostgreSQL): every rectification becomes its alarm's ledger item with its history, chained; the old API's
reads and the ledger's steps both work on it afterwards, and the audit still holds."""

from __future__ import annotations

import json

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0
from sqlalchemy import insert, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.review import ledger, rectification
from cloud_ingest.store import audit, coverage, db, evidence, migrate
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    districts,
    evidence_log,
    ledger_items,
    rectification_steps,
    rectifications,
    user_districts,
    users,
    workshops,
)

PICTURE = {"type": "cross_zone", "severity": "critical", "state": "active", "acked": False, "latched": True,
           "count": 1, "tool": "KN-R-01", "tag": "04A224E2C65E80", "station": "rack-white-1", "ts": T0,
           "last_ts": T0, "raised_at": T0 + 50, "updated_at": T0 + 100, "late": False, "text_zh": "跨区放置",
           "text_en": "Cross-zone", "history_seq": 1}
INSPECTOR = Principal("inspector", 2, "insp1", districts=frozenset({"d1"}))
OWNER = Principal("owner", 3, "owner-a", workshop="ws-a")


def _step(conn, rect_id: int, at: int, user: int, action: str, state: str, text: str | None,  # type: ignore[no-untyped-def]
          alarm_id: int, **extra: object) -> None:
    """A step as the code of revision 0007 wrote it: the row and its entry."""
    row = conn.execute(insert(rectification_steps).values(rectification_id=rect_id, at=at, user_id=user,
                                                          action=action, state=state, text=text)
                       .returning(*rectification_steps.c)).one()
    who = {2: ("insp1", "inspector"), 3: ("owner-a", "owner")}[user]
    evidence.append(conn, at, f"rectification_{action}", "ws-a", alarm_id, {
        "rectification": rect_id, "by": who[0], "role": who[1], "text": text, "state": state, **extra,
        "row": coverage.fact(rectification_steps, row._mapping)})


def _as_before(conn) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    conn.execute(insert(districts).values(id="d1", name="昆都仑区"))
    conn.execute(insert(workshops).values(id="ws-a", name="作坊", district_id="d1", created_at=T0))
    conn.execute(insert(users), [
        {"id": 1, "username": "admin", "password_hash": "-", "role": "admin", "workshop_id": None, "created_at": T0},
        {"id": 2, "username": "insp1", "password_hash": "-", "role": "inspector", "workshop_id": None,
         "created_at": T0},
        {"id": 3, "username": "owner-a", "password_hash": "-", "role": "owner", "workshop_id": "ws-a",
         "created_at": T0}])
    conn.execute(insert(user_districts).values(user_id=2, district_id="d1"))
    alarm_id = conn.execute(insert(alarms).values(workshop_id="ws-a", gateway_id=12, review="open", **PICTURE)
                            .returning(alarms.c.id)).scalar_one()
    moved = conn.execute(insert(alarm_transitions).values(
        workshop_id="ws-a", gateway_alarm_id=12, seq=1, at=T0 + 100, action="raised", state="active", acked=False,
        by="system", comment=None, received_at=T0).returning(*alarm_transitions.c)).one()
    evidence.append(conn, T0, "alarm_transition", "ws-a", alarm_id, {
        "gateway_alarm_id": 12, "seq": 1, "row": coverage.fact(alarm_transitions, moved._mapping),
        "alarm": coverage.picture(PICTURE)})
    # one accepted rectification, one answered and waiting for the inspector
    done = conn.execute(insert(rectifications).values(
        alarm_id=alarm_id, workshop_id="ws-a", state="accepted", note="请整改", requested_by=2, requested_at=T0 + 200,
        due_at=T0 + 1000, updated_at=T0 + 400, closed_by=2, closed_at=T0 + 400, open_alarm_id=None)
        .returning(rectifications.c.id)).scalar_one()
    _step(conn, done, T0 + 200, 2, "request", "requested", "请整改", alarm_id, due=T0 + 1000)
    _step(conn, done, T0 + 300, 3, "answer", "answered", "已整改", alarm_id)
    _step(conn, done, T0 + 400, 2, "accept", "accepted", None, alarm_id)
    waiting = conn.execute(insert(rectifications).values(
        alarm_id=alarm_id, workshop_id="ws-a", state="answered", note="复查", requested_by=2, requested_at=T0 + 500,
        due_at=None, updated_at=T0 + 600, open_alarm_id=alarm_id).returning(rectifications.c.id)).scalar_one()
    _step(conn, waiting, T0 + 500, 2, "request", "requested", "复查", alarm_id, due=None)
    _step(conn, waiting, T0 + 600, 3, "answer", "answered", "已复查", alarm_id)
    return alarm_id, done, waiting


def test_rectifications_become_ledger_items(cloud_url: str) -> None:
    engine = db.make_engine(cloud_url)
    try:
        assert migrate.upgrade(engine, "0007", clock=lambda: T0) == "0007"  # before signed batches: none here
        with db.write(engine) as conn:
            alarm_id, done, waiting = _as_before(conn)
            old = [dict(r._mapping) for r in conn.execute(select(rectifications).order_by(rectifications.c.id))]
        assert migrate.upgrade(engine, clock=lambda: T0 + 5000) == migrate.head()
        assert migrate.upgrade(engine, clock=lambda: T0 + 6000) == migrate.head()  # nothing made twice
        now = T0 + 7000
        with db.read(engine) as conn:
            rows = conn.execute(select(ledger_items).order_by(ledger_items.c.id)).all()
            assert [(r.source, r.source_ref, r.rectification_id, r.severity, r.state, r.text, r.created_by,
                     r.created_at) for r in rows] == [
                ("alarm", str(alarm_id), done, "critical", None, None, 2, T0 + 200),
                ("alarm", str(alarm_id), waiting, "critical", None, None, 2, T0 + 500)]
            entries = conn.execute(select(evidence_log).where(evidence_log.c.kind == "ledger_item")
                                   .order_by(evidence_log.c.seq)).all()
            assert [(e.at, e.alarm_id, json.loads(e.body)["rectification"], json.loads(e.body)["from"])
                    for e in entries] == [(T0 + 5000, alarm_id, done, "rectification"),
                                          (T0 + 5000, alarm_id, waiting, "rectification")]
            # the rectifications are untouched, and name their items; the ledger shows the same history
            assert [dict(r._mapping) for r in conn.execute(select(rectifications).order_by(rectifications.c.id))] == old
            assert [rectification.get(conn, INSPECTOR, r)["item"] for r in (done, waiting)] == [rows[0].id, rows[1].id]
            items = ledger.list_items(conn, OWNER, ledger.ItemFilter(), now)
            assert [(i["rectification"], i["state"], i["text"], i["due"], i["closed_by"]) for i in items] == [
                (waiting, "answered", "复查", None, None), (done, "closed", "请整改", T0 + 1000, "insp1")]
            first = ledger.get(conn, OWNER, items[1]["id"], now)
            assert [(s["action"], s["state"], s["by"], s["text"]) for s in first["steps"]] == [
                ("open", "open", "insp1", "请整改"), ("answer", "answered", "owner-a", "已整改"),
                ("close", "closed", "insp1", None)]
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok, report.text()
        # the migrated item moves on through the ledger, and the rectification with it
        with db.write(engine) as conn:
            closed = ledger.close(conn, INSPECTOR, items[0]["id"], "通过", now)
            assert closed["state"] == "closed"
            assert rectification.get(conn, INSPECTOR, waiting)["state"] == "accepted"
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok, report.text()
    finally:
        engine.dispose()
