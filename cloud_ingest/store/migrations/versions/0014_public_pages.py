"""Each workshop's public page (透明作坊 on the cloud) gets a random address.

- ``public_pages``: one row per workshop, its ``slug`` (24 characters of
  base32, 120 random bits: ``access/public_slugs.py``), unique, and when it was
  made. The page is ``/p/{slug}``; a district's admin may rotate the slug,
  which replaces the row (the old address then answers 404 like any other).

Every workshop that exists gets its slug here; workshops created later get
theirs when they are created. ``ingest_batches`` gets an index on
(workshop_id, received_at): the page's "last data received" is a lookup.

Revision ID: 0014
Revises: 0011
"""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa
from alembic import context, op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _slug() -> str:
    # the same form as access/public_slugs.new_slug, written out: a migration must not change with later code
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def upgrade() -> None:
    op.create_table(
        "public_pages",
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("slug", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("workshop_id", name="pk_public_pages"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_public_pages_workshop_id"),
        sa.UniqueConstraint("slug", name="uq_public_pages_slug"))
    op.create_index("ix_ingest_batches_workshop_received", "ingest_batches", ["workshop_id", "received_at"])
    bind = op.get_bind()
    ids = [r[0] for r in bind.execute(sa.text("SELECT id FROM workshops ORDER BY id"))]
    if ids:
        now = context.config.attributes.get("now")
        if now is None:
            raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
        bind.execute(sa.text("INSERT INTO public_pages (workshop_id, slug, created_at) VALUES (:w, :s, :t)"),
                     [{"w": w, "s": _slug(), "t": now} for w in ids])


def downgrade() -> None:
    op.drop_index("ix_ingest_batches_workshop_received", "ingest_batches")
    op.drop_table("public_pages")
