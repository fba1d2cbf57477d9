"""Signed checkpoints of the evidence chain; the chain covers what the pages show.

- ``evidence_checkpoints``: the signed heads (``store/anchor.py``),
  append-only like the chain;
- on PostgreSQL both tables also refuse TRUNCATE (a row trigger does not
  see it);
- an index on ``evidence_log.alarm_id``, for ``verify``'s per-alarm check;
- the coverage start: on a database that already holds evidence or covered
  rows, one ``coverage`` entry records, per covered table, the highest row id
  and the number of rows stored until now (``store/coverage.py``). Those rows
  and their entries keep their form; every row after them is covered.

The migration takes the time of that entry from the clock ``migrate.upgrade``
hands it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from cloud_ingest.store.migrations import append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COVERED = ("events", "alarm_transitions", "inspector_notes", "rectification_steps")


def upgrade() -> None:
    op.create_table(
        "evidence_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_checkpoints"))
    op.create_index("ix_evidence_log_alarm_id", "evidence_log", ["alarm_id"])
    bind = op.get_bind()
    append_only.create("evidence_checkpoints")
    if bind.dialect.name != "sqlite":
        append_only.no_truncate("evidence_log")  # 0001 guarded it against UPDATE and DELETE only
    _coverage_start(bind)


def _coverage_start(bind: sa.Connection) -> None:
    from cloud_ingest.store import evidence  # the chain's one way of appending (its lock, its hash)

    tables = {}
    for table in COVERED:
        top, rows = bind.execute(sa.text(f"SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {table}")).one()
        tables[table] = {"max_id": int(top), "rows": int(rows)}
    held = bind.execute(sa.text("SELECT COUNT(*) FROM evidence_log")).scalar_one()
    again = bind.execute(sa.text("SELECT COUNT(*) FROM evidence_log WHERE kind = 'coverage'")).scalar_one()
    if (held or any(t["rows"] for t in tables.values())) and not again:  # once, even after a downgrade
        now = context.config.attributes.get("now")
        if now is None:
            raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
        evidence.append(bind, now, "coverage", "", None, {"tables": tables})


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        append_only.drop_no_truncate("evidence_log")
    append_only.drop("evidence_checkpoints")
    op.drop_index("ix_evidence_log_alarm_id", "evidence_log")
    op.drop_table("evidence_checkpoints")
