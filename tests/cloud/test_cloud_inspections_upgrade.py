"""A database of revision 0014 with workshops, users and registration records, upgraded to 0015 (SQLite and
PostgreSQL): nothing of it changes; the new tables start empty and guarded; a registration saved before the
upgrade counts in a spot check's population; a visit is recorded on the upgraded database; the audit holds."""

from __future__ import annotations

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0
from sqlalchemy import create_engine, insert, select, text

from cloud_ingest.access.auth import Principal
from cloud_ingest.review import checklist, inspections, spot_checks
from cloud_ingest.store import audit, coverage, db, evidence, migrate
from cloud_ingest.store.schema import districts, user_districts, users, workshop_records, workshops

INSPECTOR = Principal("inspector", 2, "insp1", districts=frozenset({"d1"}))
DAY_MS = 86_400_000
# the record's columns at revision 0014 (later migrations add some: coverage.ADDED)
RECORD_0014 = [c for c in workshop_records.c if c.name not in coverage.ADDED["workshop_records"]]


def _rows(conn, table):  # type: ignore[no-untyped-def]
    return [tuple(r) for r in conn.execute(select(*RECORD_0014) if table is workshop_records else select(table))]


def _as_before(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(insert(districts).values(id="d1", name="昆都仑区"))
    conn.execute(insert(workshops), [{"id": w, "name": f"作坊 {w}", "district_id": "d1", "created_at": T0}
                                     for w in ("ws-a", "ws-b")])
    conn.execute(insert(users), [
        {"id": 1, "username": "admin", "password_hash": "-", "role": "admin", "workshop_id": None, "created_at": T0},
        {"id": 2, "username": "insp1", "password_hash": "-", "role": "inspector", "workshop_id": None,
         "created_at": T0}])
    conn.execute(insert(user_districts).values(user_id=2, district_id="d1"))
    row = conn.execute(insert(workshop_records).values(workshop_id="ws-a", registration="JY-1", set_by=2,
                                                       set_at=T0).returning(*RECORD_0014)).one()
    evidence.append(conn, T0, "workshop_record", "ws-a", None, {"row": dict(row._mapping)})


def test_an_upgraded_database_keeps_its_data_and_takes_visits_and_draws(cloud_url: str) -> None:
    engine = create_engine(cloud_url)
    try:
        assert migrate.upgrade(engine, "0014", clock=lambda: T0) == "0014"
        with db.write(engine) as conn:
            _as_before(conn)
            before = {t.name: _rows(conn, t) for t in (workshops, users, workshop_records)}
        assert migrate.upgrade(engine, clock=lambda: T0 + 1000) == migrate.head()
        with db.read(engine) as conn:
            assert {t.name: _rows(conn, t) for t in (workshops, users, workshop_records)} == before
            for table in ("inspection_visits", "inspection_items", "inspection_photos", "spot_draws"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
        now = T0 + DAY_MS
        body = {"workshop": "ws-a", "day": inspections.today(now), "inspectors": ["张"], "representative": "王",
                "items": [{"item": i.key, "result": "pass"} for i in checklist.items(checklist.CURRENT)]}
        with db.write(engine) as conn:
            v = inspections.record(conn, INSPECTOR, inspections.NewVisit.from_body(body, now), now)
        assert v["counts"] == {"pass": len(checklist.items(checklist.CURRENT)), "fail": 0, "na": 0}
        period = spot_checks.period("2025-Q4")  # T0 lies in it
        with db.write(engine) as conn:
            d = spot_checks.draw(conn, INSPECTOR, {"district": "d1", "period": period.name, "seed_input": "1"},
                                 spot_checks.period("2026-Q1").ms()[0])
        assert d["population"] == ["ws-a"] and d["sample"] == ["ws-a"] and d["sampled"][0]["status"] == "visited"
        with db.read(engine) as conn:
            report = audit.audit(conn, keys={}, files=[])
        assert report.ok and "1 visits, 1 draws" in report.text(), report.text()
    finally:
        engine.dispose()
