"""The first cloud schema: tenancy, tokens, gateway facts, inspector notes, the evidence chain.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID64 = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_districts"))
    op.create_table(
        "workshops",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("district_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workshops"),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name="fk_workshops_district_id"))
    op.create_index("ix_workshops_district_id", "workshops", ["district_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_users_workshop_id"),
        sa.CheckConstraint("role IN ('admin', 'inspector', 'owner')", name="ck_users_role"),
        sa.CheckConstraint("(role = 'owner') = (workshop_id IS NOT NULL)", name="ck_users_owner_workshop"))
    op.create_table(
        "user_districts",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("district_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "district_id", name="pk_user_districts"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_districts_user_id"),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name="fk_user_districts_district_id"))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_api_tokens_workshop_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id"),
        sa.CheckConstraint("(kind = 'gateway' AND workshop_id IS NOT NULL AND user_id IS NULL) OR "
                           "(kind = 'api' AND user_id IS NOT NULL AND workshop_id IS NULL)",
                           name="ck_api_tokens_kind_owner"))
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_batches"),
        sa.UniqueConstraint("workshop_id", "batch", name="uq_ingest_batches_key"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_ingest_batches_workshop_id"))
    op.create_table(
        "events",
        sa.Column("id", ID64, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("station", sa.String(32), nullable=False),
        sa.Column("boot", sa.String(8), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("tag", sa.String(20), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("tool", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("workshop_id", "station", "boot", "seq", name="uq_events_key"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_events_workshop_id"))
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("gateway_id", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acked", sa.Boolean, nullable=False),
        sa.Column("latched", sa.Boolean, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("tool", sa.String(32), nullable=True),
        sa.Column("tag", sa.String(20), nullable=True),
        sa.Column("station", sa.String(32), nullable=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=False),
        sa.Column("raised_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("text_zh", sa.Text, nullable=False),
        sa.Column("text_en", sa.Text, nullable=False),
        sa.Column("history_seq", sa.BigInteger, nullable=False),
        sa.Column("review", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.Integer, nullable=True),
        sa.Column("reviewed_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        sa.UniqueConstraint("workshop_id", "gateway_id", name="uq_alarms_key"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_alarms_workshop_id"),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"], name="fk_alarms_reviewed_by"))
    op.create_table(
        "alarm_transitions",
        sa.Column("id", ID64, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("gateway_alarm_id", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acked", sa.Boolean, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_transitions"),
        sa.UniqueConstraint("workshop_id", "gateway_alarm_id", "seq", name="uq_alarm_transitions_key"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_alarm_transitions_workshop_id"))
    op.create_table(
        "inspector_notes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("alarm_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspector_notes"),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name="fk_inspector_notes_alarm_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_inspector_notes_user_id"))
    op.create_index("ix_inspector_notes_alarm_id", "inspector_notes", ["alarm_id"])
    op.create_table(
        "station_status",
        sa.Column("id", ID64, nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("station", sa.String(32), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("buffer_depth", sa.Integer, nullable=True),
        sa.Column("health", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_station_status"),
        sa.UniqueConstraint("workshop_id", "station", "ts", name="uq_station_status_key"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_station_status_workshop_id"))
    op.create_table(
        "evidence_log",
        sa.Column("seq", ID64, nullable=False, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("alarm_id", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_evidence_log"))
    append_only.create("evidence_log", truncate=False)  # TRUNCATE is refused from 0006 on


def downgrade() -> None:
    append_only.drop("evidence_log", truncate=False)
    for table in ("evidence_log", "station_status", "inspector_notes", "alarm_transitions", "alarms", "events",
                  "ingest_batches", "api_tokens", "user_districts", "users", "workshops", "districts"):
        op.drop_table(table)
