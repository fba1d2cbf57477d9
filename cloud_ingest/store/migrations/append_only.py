"""The append-only guard the migrations put on a table: the database refuses UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE, which a row trigger does not see). A tamperer must first drop the trigger.

Shared by the migrations that make such a table (0001 ``evidence_log``, 0006 ``evidence_checkpoints``, 0007
``workshop_grades``, 0008 ``signed_batches``). The SQL is exactly what those migrations wrote when each had
its own copy: a database already upgraded holds these very triggers, so never change the text here — a new
guard gets a new function.
"""

from __future__ import annotations

from alembic import op


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def create(table: str, *, truncate: bool = True) -> None:
    """Guards ``table``: SQLite gets ``{table}_no_update`` and ``{table}_no_delete``; PostgreSQL gets the
    function and row trigger ``{table}_append_only`` and, with ``truncate``, ``{table}_no_truncate``."""
    if _sqlite():
        for verb in ("update", "delete"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        return
    op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    if truncate:
        no_truncate(table)


def no_truncate(table: str) -> None:
    """PostgreSQL only: ``{table}_no_truncate``, on a table ``create`` already guarded (its function raises)."""
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def drop(table: str, *, truncate: bool = True) -> None:
    """Undoes ``create`` on PostgreSQL; on SQLite the triggers go with the table, so there is nothing to do."""
    if _sqlite():
        return
    if truncate:
        drop_no_truncate(table)
    op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION {table}_append_only()")


def drop_no_truncate(table: str) -> None:
    """Undoes ``no_truncate`` (PostgreSQL only)."""
    op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
