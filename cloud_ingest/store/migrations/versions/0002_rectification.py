"""Remote rectification (远程整改): an inspector's request on an alarm and each step of it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("alarm_id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Integer, nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("closed_by", sa.Integer, nullable=True),
        sa.Column("closed_at", sa.BigInteger, nullable=True),
        sa.Column("open_alarm_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rectifications"),
        sa.UniqueConstraint("open_alarm_id", name="uq_rectifications_open_alarm_id"),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name="fk_rectifications_alarm_id"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_rectifications_workshop_id"),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name="fk_rectifications_requested_by"),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name="fk_rectifications_closed_by"),
        sa.CheckConstraint("state IN ('requested', 'answered', 'accepted', 'returned')",
                           name="ck_rectifications_state"),
        sa.CheckConstraint("(state = 'accepted') = (open_alarm_id IS NULL) AND "
                           "(open_alarm_id IS NULL OR open_alarm_id = alarm_id)",
                           name="ck_rectifications_open_alarm"))
    op.create_index("ix_rectifications_alarm_id", "rectifications", ["alarm_id"])
    op.create_index("ix_rectifications_workshop_id", "rectifications", ["workshop_id"])
    op.create_table(
        "rectification_steps",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("rectification_id", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rectification_steps"),
        sa.ForeignKeyConstraint(["rectification_id"], ["rectifications.id"],
                                name="fk_rectification_steps_rectification_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_rectification_steps_user_id"),
        sa.CheckConstraint("action IN ('request', 'answer', 'accept', 'return')",
                           name="ck_rectification_steps_action"))
    op.create_index("ix_rectification_steps_rectification_id", "rectification_steps", ["rectification_id"])


def downgrade() -> None:
    op.drop_index("ix_rectification_steps_rectification_id", "rectification_steps")
    op.drop_table("rectification_steps")
    op.drop_index("ix_rectifications_workshop_id", "rectifications")
    op.drop_index("ix_rectifications_alarm_id", "rectifications")
    op.drop_table("rectifications")
