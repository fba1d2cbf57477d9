"""The issue ledger (挂账销号) and the improvement plan (一坊一策).

- ``ledger_items``: every finding of a workshop: its source (an alarm, an
  on-site inspection, a report, or entered by hand), category, severity,
  responsible person, text, deadline and state. An alarm's item is its
  rectification: its text, deadline, state and steps stay in
  ``rectifications`` and ``rectification_steps`` (``rectification_id``);
- ``ledger_steps``: the steps of the other items; ``ledger_photos``: the
  photos of the owners' answers;
- ``improvement_plans`` and ``plan_goals``: one plan per workshop, its goals.

Existing data: every rectification becomes the item of its alarm (source
``alarm``, the alarm's severity), its history untouched; each such item is
also an evidence entry (kind ``ledger_item``, ``"from": "rectification"``).

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=True),
        sa.Column("rectification_id", sa.Integer, nullable=True),
        sa.Column("category", sa.String(24), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("responsible", sa.String(64), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("due_at", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("closed_by", sa.Integer, nullable=True),
        sa.Column("closed_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_items"),
        sa.UniqueConstraint("rectification_id", name="uq_ledger_items_rectification_id"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_ledger_items_workshop_id"),
        sa.ForeignKeyConstraint(["rectification_id"], ["rectifications.id"],
                                name="fk_ledger_items_rectification_id"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_ledger_items_created_by"),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name="fk_ledger_items_closed_by"),
        sa.CheckConstraint("source IN ('alarm', 'inspection', 'report', 'manual')", name="ck_ledger_items_source"),
        sa.CheckConstraint("(source = 'alarm') = (rectification_id IS NOT NULL)",
                           name="ck_ledger_items_alarm_source"),
        sa.CheckConstraint("(rectification_id IS NULL) = (state IS NOT NULL AND text IS NOT NULL)",
                           name="ck_ledger_items_own_state"),
        sa.CheckConstraint("state IS NULL OR state IN ('open', 'answered', 'returned', 'closed')",
                           name="ck_ledger_items_state"))
    op.create_index("ix_ledger_items_workshop_id", "ledger_items", ["workshop_id"])
    op.create_table(
        "ledger_steps",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_steps"),
        sa.ForeignKeyConstraint(["item_id"], ["ledger_items.id"], name="fk_ledger_steps_item_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_ledger_steps_user_id"),
        sa.CheckConstraint("action IN ('open', 'answer', 'close', 'return')", name="ck_ledger_steps_action"))
    op.create_index("ix_ledger_steps_item_id", "ledger_steps", ["item_id"])
    op.create_table(
        "ledger_photos",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_photos"),
        sa.ForeignKeyConstraint(["item_id"], ["ledger_items.id"], name="fk_ledger_photos_item_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_ledger_photos_user_id"))
    op.create_index("ix_ledger_photos_item_id", "ledger_photos", ["item_id"])
    op.create_table(
        "improvement_plans",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_improvement_plans"),
        sa.UniqueConstraint("workshop_id", name="uq_improvement_plans_workshop_id"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_improvement_plans_workshop_id"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name="fk_improvement_plans_updated_by"))
    op.create_table(
        "plan_goals",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("target", sa.String(10), nullable=False),
        sa.Column("items", sa.Text, nullable=False),
        sa.Column("met_at", sa.BigInteger, nullable=True),
        sa.Column("met_by", sa.Integer, nullable=True),
        sa.Column("updated_by", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_goals"),
        sa.ForeignKeyConstraint(["plan_id"], ["improvement_plans.id"], name="fk_plan_goals_plan_id"),
        sa.ForeignKeyConstraint(["met_by"], ["users.id"], name="fk_plan_goals_met_by"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name="fk_plan_goals_updated_by"))
    op.create_index("ix_plan_goals_plan_id", "plan_goals", ["plan_id"])
    _items_of_rectifications()


def _items_of_rectifications() -> None:
    """Every rectification becomes its alarm's ledger item, chained like the items made from now on."""
    from cloud_ingest.store import coverage, evidence  # the chain's one way of appending
    from cloud_ingest.store.schema import ledger_items

    bind = op.get_bind()
    rects = bind.execute(sa.text(
        "SELECT r.id, r.alarm_id, r.workshop_id, r.requested_by, r.requested_at, r.updated_at, a.severity "
        "FROM rectifications r JOIN alarms a ON a.id = r.alarm_id ORDER BY r.id")).all()
    if not rects:
        return
    now = context.config.attributes.get("now")
    if now is None:
        raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
    entries = []
    for r in rects:
        row = bind.execute(ledger_items.insert().values(
            workshop_id=r.workshop_id, source="alarm", source_ref=str(r.alarm_id), rectification_id=r.id,
            severity=r.severity, created_by=r.requested_by, created_at=r.requested_at, updated_at=r.updated_at)
            .returning(*ledger_items.c)).one()
        entries.append(evidence.Entry("ledger_item", r.workshop_id, r.alarm_id, {
            "item": row.id, "rectification": r.id, "from": "rectification",
            "row": coverage.fact(ledger_items, row._mapping)}))
    evidence.append_many(bind, now, entries)


def downgrade() -> None:
    """The items made from rectifications go with their tables; the rectifications themselves stay."""
    for table, index in (("plan_goals", "ix_plan_goals_plan_id"), ("improvement_plans", None),
                         ("ledger_photos", "ix_ledger_photos_item_id"), ("ledger_steps", "ix_ledger_steps_item_id"),
                         ("ledger_items", "ix_ledger_items_workshop_id")):
        if index:
            op.drop_index(index, table)
        op.drop_table(table)
