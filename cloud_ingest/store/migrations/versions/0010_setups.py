"""The workshop's setup as evidence: every setup version, the inspectors' acceptances, the silenced alarms.

- ``setups``: each version of a workshop's setup its gateway sent (canonical
  JSON and its SHA-256), one row per (workshop, version);
- ``setup_acceptances``: an inspector's acceptance (备案) of a version's
  relaxations, with a note;
- ``silenced_alarms``: alarms a recorded exception stopped at the gateway.

All three start empty: nothing stored before changes. Their rows are covered
by the evidence chain from the first (``store/coverage.py``: the coverage
start of 0006 names none of them, so none is older than the coverage).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setups",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("setup", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_setups"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_setups_workshop_id"),
        sa.UniqueConstraint("workshop_id", "version", name="uq_setups_key"),
    )
    op.create_table(
        "setup_acceptances",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_setup_acceptances"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_setup_acceptances_workshop_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_setup_acceptances_user_id"),
        sa.UniqueConstraint("workshop_id", "version", name="uq_setup_acceptances_key"),
    )
    op.create_table(
        "silenced_alarms",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(32), nullable=True),
        sa.Column("tag", sa.String(20), nullable=True),
        sa.Column("station", sa.String(32), nullable=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("text_zh", sa.Text, nullable=False),
        sa.Column("text_en", sa.Text, nullable=False),
        sa.Column("exception", sa.Text, nullable=False),
        sa.Column("setup_version", sa.BigInteger, nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silenced_alarms"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_silenced_alarms_workshop_id"),
        sa.UniqueConstraint("workshop_id", "type", "subject", "ts", name="uq_silenced_alarms_key"),
    )


def downgrade() -> None:
    op.drop_table("silenced_alarms")
    op.drop_table("setup_acceptances")
    op.drop_table("setups")
