"""数据中断 as a finding: a workshop's gateway silent for longer than ``freshness.silent_after_minutes``.

- ``data_outages``: one row per outage of a workshop, keyed by the workshop and
  the time its last batch was received before the silence (``started_at``):
  two workers that find the same silence compute the same key, and the unique
  constraint lets only one of them store it (and open its ledger item, source
  ``report``, reference ``silence/{id}``);
- ``data_outage_ends``: when data came back (the first batch received after
  ``started_at``), one row per outage, unique.

Both are append-only (the database refuses UPDATE and DELETE) and each row is
an evidence entry (``outage_start``, ``outage_end``). No existing data changes.

Revision ID: 0017
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_outages",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("detected_at", sa.BigInteger, nullable=False),
        sa.Column("silent_after_minutes", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_outages"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_data_outages_workshop_id"),
        sa.UniqueConstraint("workshop_id", "started_at", name="uq_data_outages_key"))
    op.create_table(
        "data_outage_ends",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("outage_id", sa.Integer, nullable=False),
        sa.Column("ended_at", sa.BigInteger, nullable=False),
        sa.Column("noted_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_outage_ends"),
        sa.ForeignKeyConstraint(["outage_id"], ["data_outages.id"], name="fk_data_outage_ends_outage_id"),
        sa.UniqueConstraint("outage_id", name="uq_data_outage_ends_outage_id"))
    for table in ("data_outages", "data_outage_ends"):
        append_only.create(table)


def downgrade() -> None:
    bind = op.get_bind()
    for table in ("data_outage_ends", "data_outages"):
        if bind.dialect.name != "sqlite":
            op.execute(f"DROP TABLE {table}")
            op.execute(f"DROP FUNCTION {table}_append_only()")
        else:
            op.drop_table(table)
