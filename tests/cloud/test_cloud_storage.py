"""The cloud's storage: the Alembic migrations build exactly the tables of ``cloud_ingest/store/schema.py``.

A fresh database (SQLite and PostgreSQL) is upgraded to head, then Alembic's
autogenerate compares it with the metadata: any difference (a column, type,
nullability, index, unique or foreign key in one and not the other) means
the migrations and schema.py have drifted apart.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cloud_fixtures import *  # noqa: F401,F403
from sqlalchemy import Column, Integer, MetaData, inspect

from cloud_ingest.store import db, migrate, schema


def _diff(url: str, metadata: MetaData = schema.metadata) -> tuple[list, list[str]]:
    engine = db.make_engine(url)
    try:
        assert migrate.upgrade(engine) == migrate.head()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            return compare_metadata(context, metadata), sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_migrations_match_schema(cloud_url: str) -> None:
    diff, tables = _diff(cloud_url)
    assert diff == []
    # the comparison saw every table of the metadata (plus Alembic's own version table)
    assert set(schema.metadata.tables) <= set(tables)
    assert set(tables) - set(schema.metadata.tables) == {"alembic_version"}


def test_upgrade_is_idempotent(cloud_url: str) -> None:
    engine = db.make_engine(cloud_url)
    try:
        first = migrate.upgrade(engine)
        assert migrate.upgrade(engine) == first == migrate.head()
    finally:
        engine.dispose()


def test_comparison_sees_drift(cloud_url: str) -> None:
    """The check above is not vacuous: a column the migrations lack and a missing index are reported."""
    drifted = MetaData(naming_convention=schema.metadata.naming_convention)
    for table in schema.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["rectifications"].append_column(Column("extra", Integer, nullable=True))
    steps = drifted.tables["rectification_steps"]
    steps.indexes.discard(next(ix for ix in steps.indexes if ix.name == "ix_rectification_steps_rectification_id"))
    diff, _ = _diff(cloud_url, drifted)
    kinds = {(d[0], getattr(d[-1], "name", None)) for d in diff if isinstance(d, tuple)}
    assert ("add_column", "extra") in kinds
    assert ("remove_index", "ix_rectification_steps_rectification_id") in kinds


def test_0004_fills_stations_from_what_is_stored(cloud_url: str) -> None:
    """A database at 0003 with status and events gets one stations row per station: the newest status, kind
    and zone unknown (older gateways never sent them), first_seen the cloud clock of its first fact."""
    engine = db.make_engine(cloud_url)
    try:
        assert migrate.upgrade(engine, "0003") == "0003"
        with engine.begin() as conn:
            conn.execute(schema.districts.insert(), [{"id": "d1", "name": "昆都仑区"}])
            conn.execute(schema.workshops.insert(), [{"id": w, "name": w, "district_id": "d1", "created_at": 0}
                                                     for w in ("ws-a", "ws-b")])
            conn.execute(schema.station_status.insert(), [
                {"workshop_id": ws, "station": st, "ts": ts, "online": online, "buffer_depth": 0, "health": "{}",
                 "received_at": received}
                for ws, st, ts, online, received in (("ws-a", "rack-red-1", 100, True, 1000),
                                                     ("ws-a", "rack-red-1", 300, False, 3000),
                                                     ("ws-a", "rack-red-1", 200, True, 2000),
                                                     ("ws-b", "rack-red-1", 50, True, 500))])
            conn.execute(schema.events.insert(), [
                {"workshop_id": ws, "station": st, "boot": "1a2b3c4d", "seq": seq, "ts": 10, "tag": "04A224E2",
                 "action": "removed", "tool": None, "note": None, "received_at": received}
                for ws, st, seq, received in (("ws-a", "rack-red-1", 0, 900), ("ws-a", "A1", 1, 700),
                                              ("ws-a", "A1", 2, 800))])
        assert migrate.upgrade(engine) == migrate.head()
        with engine.connect() as conn:
            rows = conn.execute(schema.stations.select().order_by(schema.stations.c.workshop_id,
                                                                  schema.stations.c.station)).all()
        assert [tuple(r) for r in rows] == [("ws-a", "A1", None, None, 700, None, None),
                                            ("ws-a", "rack-red-1", None, None, 900, 300, False),
                                            ("ws-b", "rack-red-1", None, None, 500, 50, True)]
    finally:
        engine.dispose()
