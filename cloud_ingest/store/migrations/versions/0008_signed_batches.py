"""Signed batches: each gateway token's public key, each batch as its gateway signed it.

- ``api_tokens.public_key``, ``api_tokens.key_id``: a gateway token's Ed25519
  public key (``sebiao_common.batch_signature``), set once: a trigger refuses
  to change it after it was set. Gateway tokens made before have none: their
  batches are refused (403) until an admin registers the gateway's key
  (``POST /api/v1/admin/tokens/{id}/key``);
- ``signed_batches``: every batch stored from now on, its body as received
  (gzip), digest, signature and key id; append-only like the chain;
- the signing start: on a database whose chain already holds entries, one
  ``signing`` entry; the ``events`` and ``alarm_transition`` entries before it
  carry no signature and verify as before, every one after it must carry one
  (``store/signed.py``). A database created with this migration has no such
  entry: every batch entry must be signed.

The migration takes the time of that entry from the clock ``migrate.upgrade``
hands it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from cloud_ingest.store.migrations import append_only

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("public_key", sa.String(64), nullable=True))
    op.add_column("api_tokens", sa.Column("key_id", sa.String(16), nullable=True))
    op.create_table(
        "signed_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signed_batches"),
        sa.UniqueConstraint("workshop_id", "batch", name="uq_signed_batches_key"))
    bind = op.get_bind()
    append_only.create("signed_batches")
    if bind.dialect.name == "sqlite":
        op.execute("CREATE TRIGGER api_tokens_key_once BEFORE UPDATE OF public_key, key_id ON api_tokens "
                   "WHEN OLD.public_key IS NOT NULL "
                   "BEGIN SELECT RAISE(ABORT, 'a gateway token''s public key is set once'); END")
    else:
        op.execute("CREATE FUNCTION api_tokens_key_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF OLD.public_key IS NOT NULL AND (NEW.public_key IS DISTINCT FROM OLD.public_key "
                   "OR NEW.key_id IS DISTINCT FROM OLD.key_id) THEN "
                   "RAISE EXCEPTION 'a gateway token''s public key is set once'; END IF; RETURN NEW; END $$")
        op.execute("CREATE TRIGGER api_tokens_key_once BEFORE UPDATE ON api_tokens "
                   "FOR EACH ROW EXECUTE FUNCTION api_tokens_key_once()")
    _signing_start(bind)


def _signing_start(bind: sa.Connection) -> None:
    from cloud_ingest.store import evidence  # the chain's one way of appending (its lock, its hash)

    held = bind.execute(sa.text("SELECT COUNT(*) FROM evidence_log")).scalar_one()
    again = bind.execute(sa.text("SELECT COUNT(*) FROM evidence_log WHERE kind = 'signing'")).scalar_one()
    if held and not again:  # once, even after a downgrade
        now = context.config.attributes.get("now")
        if now is None:
            raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
        evidence.append(bind, now, "signing", "", None, {"from": "now on, every batch entry carries its "
                                                                 "gateway's signature"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER api_tokens_key_once")
    else:
        op.execute("DROP TRIGGER api_tokens_key_once ON api_tokens")
        op.execute("DROP FUNCTION api_tokens_key_once()")
    append_only.drop("signed_batches")
    op.drop_table("signed_batches")
    with op.batch_alter_table("api_tokens") as table:
        table.drop_column("key_id")
        table.drop_column("public_key")
