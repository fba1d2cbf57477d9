"""Critical alarms and a daily digest to each district's office: the cloud's notify outbox.

- ``notify_outbox``: one row per message and channel, written in the ingest
  transaction that stores the alarm (or once per district and day for the
  digest: the unique (district_id, channel, key) makes a second insert do
  nothing), marked ``sent_at`` once the receiver accepted it or
  ``given_up_at`` (with ``last_error``) when it was refused for good or not
  accepted within ``notify.give_up_hours``.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("district_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=True),
        sa.Column("alarm_id", sa.Integer, nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("notice", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
        sa.Column("given_up_at", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notify_outbox"),
        sa.UniqueConstraint("district_id", "channel", "key", name="uq_notify_outbox_message"))
    op.create_index("ix_notify_outbox_waiting", "notify_outbox", ["sent_at", "given_up_at", "next_try"])


def downgrade() -> None:
    op.drop_index("ix_notify_outbox_waiting", "notify_outbox")
    op.drop_table("notify_outbox")
