"""The regulator's grades (分级定榜): every grading of a workshop, kept for good (升榜/降榜 history).

- ``workshop_grades``: one row per grading an inspector (or admin) set: the
  grade, the one before it (NULL for the first), the date it takes effect,
  the reason, who set it and when. The newest row is the workshop's grade;
  its id is the ``seq`` of the signed statement the gateway fetches
  (``review/grades.py``), so it only grows;
- append-only, like the evidence tables: the database refuses UPDATE and
  DELETE (and TRUNCATE on PostgreSQL); each row is also an evidence entry
  (kind ``grade_set``) written in the same transaction.

Existing data is untouched: a workshop without a row has no published grade.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GRADES = "('gold', 'silver', 'bronze', 'orange')"


def upgrade() -> None:
    op.create_table(
        "workshop_grades",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("previous", sa.String(8), nullable=True),
        sa.Column("effective", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.Integer, nullable=False),
        sa.Column("set_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workshop_grades"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_workshop_grades_workshop_id"),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name="fk_workshop_grades_set_by"),
        sa.CheckConstraint(f"grade IN {GRADES}", name="ck_workshop_grades_grade"),
        sa.CheckConstraint(f"previous IS NULL OR previous IN {GRADES}", name="ck_workshop_grades_previous"))
    op.create_index("ix_workshop_grades_workshop_id", "workshop_grades", ["workshop_id"])
    append_only.create("workshop_grades")


def downgrade() -> None:
    append_only.drop("workshop_grades")
    op.drop_index("ix_workshop_grades_workshop_id", "workshop_grades")
    op.drop_table("workshop_grades")
