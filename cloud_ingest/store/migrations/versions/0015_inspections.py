"""On-site inspections (现场检查) and the 5% spot checks (抽查).

- ``inspection_visits``: one signed visit of a workshop (its day, the inspectors present, the checklist's
  version, the findings, the workshop representative's name, the inspector who signed and when);
- ``inspection_items``: each checklist item's result (pass | fail | na) and note; a failed item names the
  ledger item it opened;
- ``inspection_photos``: the visit's photos (checked images);
- ``spot_draws``: a district's draw of a period: the population, the seed and the sample, one per district
  and period.

All four are append-only (the database refuses UPDATE, DELETE and, on PostgreSQL, TRUNCATE): a visit is
immutable once signed, and it is signed when it is stored. New tables only: existing data is untouched.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ("inspection_visits", "inspection_items", "inspection_photos", "spot_draws")


def upgrade() -> None:
    op.create_table(
        "inspection_visits",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("checklist", sa.String(16), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("inspectors", sa.Text, nullable=False),
        sa.Column("findings", sa.Text, nullable=True),
        sa.Column("representative", sa.Text, nullable=False),
        sa.Column("signed_by", sa.Integer, nullable=False),
        sa.Column("signed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_visits"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_inspection_visits_workshop_id"),
        sa.ForeignKeyConstraint(["signed_by"], ["users.id"], name="fk_inspection_visits_signed_by"))
    op.create_index("ix_inspection_visits_workshop_id", "inspection_visits", ["workshop_id"])
    op.create_table(
        "inspection_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("visit_id", sa.Integer, nullable=False),
        sa.Column("item", sa.String(24), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("ledger_item_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_items"),
        sa.ForeignKeyConstraint(["visit_id"], ["inspection_visits.id"], name="fk_inspection_items_visit_id"),
        sa.ForeignKeyConstraint(["ledger_item_id"], ["ledger_items.id"],
                                name="fk_inspection_items_ledger_item_id"),
        sa.CheckConstraint("result IN ('pass', 'fail', 'na')", name="ck_inspection_items_result"),
        sa.CheckConstraint("(result = 'fail') = (ledger_item_id IS NOT NULL)",
                           name="ck_inspection_items_fail_ledger"),
        sa.UniqueConstraint("visit_id", "item", name="uq_inspection_items_key"))
    op.create_index("ix_inspection_items_visit_id", "inspection_items", ["visit_id"])
    op.create_table(
        "inspection_photos",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("visit_id", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_photos"),
        sa.ForeignKeyConstraint(["visit_id"], ["inspection_visits.id"], name="fk_inspection_photos_visit_id"))
    op.create_index("ix_inspection_photos_visit_id", "inspection_photos", ["visit_id"])
    op.create_table(
        "spot_draws",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("district_id", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("seed_input", sa.Text, nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("population", sa.Text, nullable=False),
        sa.Column("sample", sa.Text, nullable=False),
        sa.Column("drawn_by", sa.Integer, nullable=False),
        sa.Column("drawn_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_spot_draws"),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name="fk_spot_draws_district_id"),
        sa.ForeignKeyConstraint(["drawn_by"], ["users.id"], name="fk_spot_draws_drawn_by"),
        sa.UniqueConstraint("district_id", "period", name="uq_spot_draws_key"))
    for table in TABLES:
        append_only.create(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        append_only.drop(table)
    for table, index in (("spot_draws", None), ("inspection_photos", "ix_inspection_photos_visit_id"),
                         ("inspection_items", "ix_inspection_items_visit_id"),
                         ("inspection_visits", "ix_inspection_visits_workshop_id")):
        if index:
            op.drop_index(index, table)
        op.drop_table(table)
