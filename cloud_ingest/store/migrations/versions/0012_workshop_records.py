"""The regulator's desk: each workshop's record (登记信息) and its gateway's training records.

- ``workshop_records``: every version of a workshop's record an inspector
  (or admin) of its district saved: registration number (登记证号), product
  category, address, responsible person (负责人) and phone, the inspector
  assigned, who saved it and when. The newest row is the workshop's record;
  append-only, like the grades (the database refuses UPDATE and DELETE, and
  TRUNCATE on PostgreSQL), and each row an evidence entry
  (``workshop_record``) written in the same transaction;
- ``trainings``: the staff training records the workshops' gateways push
  (``training`` items), one row per (workshop, gateway training id), each an
  evidence entry (``training``).

Existing workshops are untouched: a workshop without a record row shows every
field as not filled in (未填写). Both tables start empty and are covered by the
evidence chain from their first row.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CATEGORIES = "('raw_animal', 'aquatic', 'plant', 'liangpi', 'liangao', 'youmian', 'other')"


def upgrade() -> None:
    op.create_table(
        "workshop_records",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("registration", sa.String(40), nullable=True),
        sa.Column("category", sa.String(16), nullable=True),
        sa.Column("category_other", sa.Text, nullable=True),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("responsible", sa.Text, nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("inspector_id", sa.Integer, nullable=True),
        sa.Column("set_by", sa.Integer, nullable=False),
        sa.Column("set_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workshop_records"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_workshop_records_workshop_id"),
        sa.ForeignKeyConstraint(["inspector_id"], ["users.id"], name="fk_workshop_records_inspector_id"),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name="fk_workshop_records_set_by"),
        sa.CheckConstraint(f"category IS NULL OR category IN {CATEGORIES}", name="ck_workshop_records_category"),
        sa.CheckConstraint("(category_other IS NULL) = (category IS NULL OR category <> 'other')",
                           name="ck_workshop_records_category_other"))
    op.create_index("ix_workshop_records_workshop_id", "workshop_records", ["workshop_id"])
    append_only.create("workshop_records")
    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("gateway_id", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("trainer", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trainings"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_trainings_workshop_id"),
        sa.UniqueConstraint("workshop_id", "gateway_id", name="uq_trainings_key"))
    op.create_index("ix_trainings_workshop_day", "trainings", ["workshop_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_trainings_workshop_day", "trainings")
    op.drop_table("trainings")
    append_only.drop("workshop_records")
    op.drop_index("ix_workshop_records_workshop_id", "workshop_records")
    op.drop_table("workshop_records")
