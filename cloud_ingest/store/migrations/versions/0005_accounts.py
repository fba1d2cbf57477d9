"""Accounts: server-side page sessions (a logout ends the cookie for good), disabled users, token expiry.

``page_sessions`` starts empty: the cookies issued before it name no row, so
everyone logs in once more after the upgrade. Existing users stay enabled,
existing tokens keep not expiring (``expires_at`` NULL) until revoked.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("disabled_at", sa.BigInteger, nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.BigInteger, nullable=True))
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_page_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_page_sessions_user_id"),
    )
    op.create_index("ix_page_sessions_user_id", "page_sessions", ["user_id"])
    op.create_index("ix_page_sessions_expires_at", "page_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("page_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
