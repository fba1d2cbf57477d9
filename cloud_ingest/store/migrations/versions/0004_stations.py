"""The stations table (kind and zone from the gateways, the newest status) and the reports' time indexes.

``stations`` is filled from what is already stored: every station of
``station_status`` or ``events`` gets a row (kind and zone unknown: the
gateways had not sent them), with its newest status and, as ``first_seen``,
the cloud clock of its first stored fact.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BACKFILL = (
    ("INSERT INTO stations (workshop_id, station, kind, zone, first_seen, last_ts, online) "
    "SELECT k.workshop_id, k.station, NULL, NULL, MIN(k.received_at), NULL, NULL FROM ("
    " SELECT workshop_id, station, received_at FROM station_status"
    " UNION ALL SELECT workshop_id, station, received_at FROM events) AS k "
    "GROUP BY k.workshop_id, k.station"),
    ("UPDATE stations SET "
    "last_ts = (SELECT s.ts FROM station_status s WHERE s.workshop_id = stations.workshop_id"
    " AND s.station = stations.station ORDER BY s.ts DESC LIMIT 1), "
    "online = (SELECT s.online FROM station_status s WHERE s.workshop_id = stations.workshop_id"
    " AND s.station = stations.station ORDER BY s.ts DESC LIMIT 1)"),
)


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("workshop_id", sa.String(32), nullable=False),
        sa.Column("station", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=True),
        sa.Column("zone", sa.String(16), nullable=True),
        sa.Column("first_seen", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=True),
        sa.Column("online", sa.Boolean, nullable=True),
        sa.PrimaryKeyConstraint("workshop_id", "station", name="pk_stations"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], name="fk_stations_workshop_id"),
        sa.CheckConstraint("kind IN ('rack', 'sink')", name="ck_stations_kind"))
    op.create_index("ix_events_workshop_ts", "events", ["workshop_id", "ts"])
    op.create_index("ix_alarm_transitions_workshop_at", "alarm_transitions", ["workshop_id", "at"])
    for sql in BACKFILL:
        op.execute(sql)


def downgrade() -> None:
    op.drop_index("ix_alarm_transitions_workshop_at", "alarm_transitions")
    op.drop_index("ix_events_workshop_ts", "events")
    op.drop_table("stations")
