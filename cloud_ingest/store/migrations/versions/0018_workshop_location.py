"""A workshop's location on its record (登记信息): latitude and longitude, WGS-84.

Two nullable columns of ``workshop_records``, in millionths of a degree
(``latitude_e6``, ``longitude_e6``: integers, so that a row's fact in the
evidence chain is the same bytes on SQLite and PostgreSQL, which a float need
not be; 1e-6° is about 0.1 m), both set or both empty, checked by the
database as by ``review.locations``. The rows stored before stay as they
were: their location is empty (NULL), and their evidence entries, written
without these columns, still verify (``store.coverage``).

The table is append-only (triggers): adding a column keeps them; a downgrade
on SQLite rebuilds the table without the columns and puts its guard back.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_ingest.store.migrations import append_only

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LATITUDE = "latitude_e6 IS NULL OR latitude_e6 BETWEEN -90000000 AND 90000000"
LONGITUDE = "longitude_e6 IS NULL OR longitude_e6 BETWEEN -180000000 AND 180000000"
BOTH = "(latitude_e6 IS NULL) = (longitude_e6 IS NULL)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds no table constraint to a table: on the columns
        op.execute(f"ALTER TABLE workshop_records ADD COLUMN latitude_e6 INTEGER "
                   f"CONSTRAINT ck_workshop_records_latitude CHECK ({LATITUDE})")
        op.execute(f"ALTER TABLE workshop_records ADD COLUMN longitude_e6 INTEGER "
                   f"CONSTRAINT ck_workshop_records_longitude CHECK ({LONGITUDE}) "
                   f"CONSTRAINT ck_workshop_records_location CHECK ({BOTH})")
        return
    op.add_column("workshop_records", sa.Column("latitude_e6", sa.Integer, nullable=True))
    op.add_column("workshop_records", sa.Column("longitude_e6", sa.Integer, nullable=True))
    op.create_check_constraint("ck_workshop_records_latitude", "workshop_records", LATITUDE)
    op.create_check_constraint("ck_workshop_records_longitude", "workshop_records", LONGITUDE)
    op.create_check_constraint("ck_workshop_records_location", "workshop_records", BOTH)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # a column in a CHECK cannot be dropped: the table is rebuilt
        # the reflected constraints keep the names they have (no naming convention applied twice)
        with op.batch_alter_table("workshop_records", recreate="always",
                                  naming_convention={"ck": "%(constraint_name)s"}) as batch:
            for name in ("location", "longitude", "latitude"):
                batch.drop_constraint(op.f(f"ck_workshop_records_{name}"), type_="check")
            batch.drop_column("longitude_e6")
            batch.drop_column("latitude_e6")
        append_only.create("workshop_records")  # the rebuilt table lost its triggers
        return
    for name in ("location", "longitude", "latitude"):
        op.drop_constraint(f"ck_workshop_records_{name}", "workshop_records", type_="check")
    op.drop_column("workshop_records", "longitude_e6")
    op.drop_column("workshop_records", "latitude_e6")
