"""Disinfection cycles, and disinfect stations.

- ``cycles``: one row per cycle of a probed station (a disinfection cabinet, a
  boiling pot, a dishwasher, a sink with a probe) as the gateway judged it:
  the method and its threshold, the highest temperature, the longest hold,
  whether it passed, and the tools that were in it;
- ``stations.kind`` takes ``disinfect`` (and is widened to 16 characters to
  hold it). Existing rows keep their kind; nothing else changes.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_constraint("ck_stations_kind", type_="check")
        batch.alter_column("kind", type_=sa.String(16), existing_type=sa.String(8), existing_nullable=True)
        batch.create_check_constraint("ck_stations_kind", "kind IN ('rack', 'sink', 'disinfect')")
    op.create_table(
        "cycles",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("station", sa.String(32), nullable=False),
        sa.Column("boot", sa.String(8), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("temp_c", sa.Float, nullable=False),
        sa.Column("hold_required_s", sa.Integer, nullable=False),
        sa.Column("max_temp_dc", sa.Integer, nullable=False),
        sa.Column("hold_s", sa.Integer, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("tools", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cycles"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_cycles_workshop_id"),
        sa.UniqueConstraint("workshop_id", "station", "boot", "seq", name="uq_cycles_key"),
    )
    op.create_index("ix_cycles_workshop_ts", "cycles", ["workshop_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_cycles_workshop_ts", "cycles")
    op.drop_table("cycles")
    op.execute("UPDATE stations SET kind = NULL WHERE kind = 'disinfect'")  # unknown again, as before 0004
    with op.batch_alter_table("stations") as batch:
        batch.drop_constraint("ck_stations_kind", type_="check")
        batch.alter_column("kind", type_=sa.String(8), existing_type=sa.String(16), existing_nullable=True)
        batch.create_check_constraint("ck_stations_kind", "kind IN ('rack', 'sink')")
