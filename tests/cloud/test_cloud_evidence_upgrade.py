"""A database written before the chain covered the pages' facts (SQLite and PostgreSQL).

At revision 0004 the chain held the transitions and the inspectors' steps in
their first form, and no events. Migration 0006 appends one ``coverage``
entry: the rows stored until then keep their entries and their number; every
row after them is covered in the new form.
"""

from __future__ import annotations

import json

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch, event
from sqlalchemy import delete, insert, select, update

from cloud_ingest.access import admin
from cloud_ingest.access.auth import Principal
from cloud_ingest.config import Limits
from cloud_ingest.ingest.storing import store_batch
from cloud_ingest.store import audit, db, evidence, migrate
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    districts,
    events,
    evidence_log,
    inspector_notes,
    users,
    workshops,
)
from cloud_ingest.wire.batch import parse_batch

PICTURE = {"type": "cross_zone", "severity": "critical", "state": "active", "acked": False, "latched": True,
           "count": 1, "tool": "KN-R-01", "tag": "04A224E2C65E80", "station": "rack-white-1", "ts": T0,
           "last_ts": T0, "raised_at": T0 + 50, "updated_at": T0 + 100, "late": False, "text_zh": "跨区放置",
           "text_en": "Cross-zone", "history_seq": 1}


def _as_before(conn) -> None:  # type: ignore[no-untyped-def]
    """What the code of revision 0004 wrote: rows, and entries of the first form (no events, no rows in them)."""
    conn.execute(insert(districts).values(id="d1", name="昆都仑区"))
    conn.execute(insert(workshops).values(id="ws-a", name="作坊", district_id="d1", created_at=T0))
    conn.execute(insert(users).values(id=1, username="admin", password_hash="-", role="admin", created_at=T0))
    conn.execute(insert(users).values(id=2, username="insp1", password_hash="-", role="inspector", created_at=T0))
    conn.execute(insert(events), [{"workshop_id": "ws-a", "station": "rack-red-1", "boot": "1a2b3c4d", "seq": n,
                                   "ts": T0 + n, "tag": "04A224E2C65E80", "action": "removed", "tool": "KN-R-01",
                                   "note": None, "received_at": T0} for n in range(3)])
    alarm_id = conn.execute(insert(alarms).values(workshop_id="ws-a", gateway_id=12, review="acknowledged",
                                                  reviewed_by=2, reviewed_at=T0 + 200, **PICTURE)
                            .returning(alarms.c.id)).scalar_one()
    conn.execute(insert(alarm_transitions).values(workshop_id="ws-a", gateway_alarm_id=12, seq=1, at=T0 + 100,
                                                  action="raised", state="active", acked=False, by="system",
                                                  comment=None, received_at=T0))
    evidence.append(conn, T0, "alarm_transition", "ws-a", alarm_id, {
        "gateway_alarm_id": 12, "seq": 1, "at": T0 + 100, "action": "raised", "state": "active", "acked": False,
        "by": "system", "comment": None, "type": "cross_zone", "severity": "critical", "tool": "KN-R-01",
        "station": "rack-white-1", "ts": T0})
    conn.execute(insert(inspector_notes).values(alarm_id=alarm_id, user_id=2, action="ack", note="收到", at=T0 + 200))
    evidence.append(conn, T0 + 200, "inspector_ack", "ws-a", alarm_id,
                    {"by": "insp1", "role": "inspector", "note": "收到", "review": "acknowledged"})


def test_an_older_database_keeps_its_entries_and_covers_what_comes_after(cloud_url: str) -> None:
    engine = db.make_engine(cloud_url)
    try:
        assert migrate.upgrade(engine, "0004", clock=lambda: T0) == "0004"
        with db.write(engine) as conn:
            _as_before(conn)
        assert migrate.upgrade(engine, clock=lambda: T0 + 1000) == migrate.head()
        assert migrate.upgrade(engine, clock=lambda: T0 + 2000) == migrate.head()  # nothing appended twice
        with db.read(engine) as conn:
            chain = conn.execute(select(evidence_log).order_by(evidence_log.c.seq)).all()
            assert [(e.kind, e.at) for e in chain] == [("alarm_transition", T0), ("inspector_ack", T0 + 200),
                                                       ("coverage", T0 + 1000)]
            assert json.loads(chain[-1].body) == {"tables": {
                "events": {"max_id": 3, "rows": 3}, "alarm_transitions": {"max_id": 1, "rows": 1},
                "inspector_notes": {"max_id": 1, "rows": 1}, "rectification_steps": {"max_id": 0, "rows": 0}}}
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok, report.text()
        assert "the 5 rows stored before the coverage are all still there" in report.text()

        # new facts: covered in the new form, the alarm's picture now from a covering entry
        with db.write(engine) as conn:
            secret = admin.issue_token(conn, Principal("admin", 1, "admin"), {"kind": "gateway", "workshop": "ws-a"},
                                       T0)["token"]
        doc = batch("ws-a", "b-1", [event(seq=10, ts=T0 + 10), event(seq=11, ts=T0 + 11),
                                    alarm(12, 2, "acknowledged", at=T0 + 3000, comment="已清洗", acked=True)])
        store_batch(engine, parse_batch(json.dumps(doc).encode(), Limits()), secret, T0 + 3000)
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok, report.text()
        assert ("events 2, alarm_transitions 1, inspector_notes 0, rectification_steps 0, setups 0, "
                "setup_acceptances 0, silenced_alarms 0 rows") in report.text()

        # a row of either period changed or removed is named
        with db.write(engine) as conn:
            conn.execute(update(alarms).values(text_zh="正常"))
            conn.execute(delete(events).where(events.c.seq == 1))
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert not report.ok
        assert "events: 3 rows were stored before the coverage start, 2 are there now" in report.text()
        assert "(text_zh)" in report.text()
    finally:
        engine.dispose()
