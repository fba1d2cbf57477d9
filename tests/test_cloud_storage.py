"""The cloud's storage: the Alembic migrations build exactly the tables of ``cloud_ingest/schema.py``.

A fresh database (SQLite and PostgreSQL) is upgraded to head, then Alembic's
autogenerate compares it with the metadata: any difference (a column, type,
nullability, index, unique or foreign key in one and not the other) means
the migrations and schema.py have drifted apart.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

from cloud_fixtures import *  # noqa: F401,F403
from cloud_ingest import db, migrate, schema


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
