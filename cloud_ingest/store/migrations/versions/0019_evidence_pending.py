"""The evidence sequencer's table (``store/sequencer.py``) and an index for the alarm queue.

- ``evidence_pending``: on PostgreSQL the ingest writes a batch's entries here
  in the batch's transaction, without the chain's lock, and chains them after
  its commit, with every other batch's waiting then, in one transaction that
  deletes them here. Empty but for the moments between a batch's commit and
  its chain step (or a worker stopped in between: the next step chains them).

- ``ix_alarms_ts``: the alarm queue (``GET /api/v1/alarms``, the inspectors'
  pages) asks for the newest alarms first, from a time on; without the index
  each poll read every alarm of the province.

Nothing existing changes: the chain (``evidence_log``) keeps its rows and its
form; SQLite's ingest still appends in its own transaction.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("alarm_id", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_pending"))
    op.create_index("ix_alarms_ts", "alarms", ["ts"])


def downgrade() -> None:
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM evidence_pending")).scalar_one()
    if waiting:  # entries of stored batches, not chained yet: dropping them would leave facts out of the chain
        raise RuntimeError(f"evidence_pending holds {waiting} entries not yet chained: run `sebiao cloud verify` "
                           "(it chains them) on this release before downgrading")
    op.drop_index("ix_alarms_ts", "alarms")
    op.drop_table("evidence_pending")
