"""PostgreSQL: what the workers' login role may do, as GRANT statements.

The tables belong to an owner role that runs the migrations; the workers log
in as another role that owns nothing. PostgreSQL lets only a table's owner
(or a superuser) alter a table, so the workers' role cannot switch the
evidence log's append-only triggers off (``ALTER TABLE … DISABLE TRIGGER``,
``DROP TRIGGER``); it is granted INSERT and SELECT on the evidence tables and the signed batches,
and on the others only what the code does there (UPDATE where a row moves on,
DELETE only on the InfluxDB outbox, whose rows leave once written).

``sebiao cloud migrate --grant-to ROLE`` (run as the owner) runs these
statements after the migrations, so a table a new release adds is granted
too; docs/cloud-ingest.md shows them for ``sebiao_app``.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

from cloud_ingest.store import (
    db,
    outage_tables,  # noqa: F401 - its tables in the metadata, granted below
)
from cloud_ingest.store.schema import metadata

ROLE = r"[a-z_][a-z0-9_]{0,62}"
PRIVILEGES: dict[str, str] = {
    "alembic_version": "SELECT",  # a worker checks the schema's revision
    "districts": "SELECT, INSERT",
    "workshops": "SELECT, INSERT",
    "users": "SELECT, INSERT, UPDATE",  # disabled and enabled again
    "user_districts": "SELECT, INSERT",
    "api_tokens": "SELECT, INSERT, UPDATE",  # revocation; and FOR SHARE while a batch is stored
    "ingest_batches": "SELECT, INSERT, UPDATE",
    "events": "SELECT, INSERT",
    "station_status": "SELECT, INSERT",
    "stations": "SELECT, INSERT, UPDATE",
    "alarms": "SELECT, INSERT, UPDATE",  # the picture moves forward, the inspector's review
    "alarm_transitions": "SELECT, INSERT",
    "inspector_notes": "SELECT, INSERT",
    "rectifications": "SELECT, INSERT, UPDATE",
    "rectification_steps": "SELECT, INSERT",
    "influx_outbox": "SELECT, INSERT, UPDATE, DELETE",  # FOR UPDATE SKIP LOCKED, then deleted once written
    "page_sessions": "SELECT, INSERT, DELETE",  # a login's session, gone at logout or when its user is disabled
    "workshop_grades": "SELECT, INSERT",  # append-only: a new grading is a new row
    "evidence_log": "SELECT, INSERT",
    "evidence_pending": "SELECT, INSERT, DELETE",  # staged by a batch, deleted when chained (store/sequencer.py)
    "evidence_checkpoints": "SELECT, INSERT",
    "signed_batches": "SELECT, INSERT",  # append-only like the chain
    "cycles": "SELECT, INSERT",  # a cycle is stored once (insert or ignore), never changed
    "setups": "SELECT, INSERT",  # every version kept
    "setup_acceptances": "SELECT, INSERT",  # an inspector's 备案, never changed
    "silenced_alarms": "SELECT, INSERT",  # stored once (insert or ignore)
    "workshop_records": "SELECT, INSERT",  # append-only: a changed record is a new row
    "trainings": "SELECT, INSERT",  # stored once (insert or ignore)
    "public_pages": "SELECT, INSERT, DELETE",  # a workshop's public address; a rotation replaces the row
    "ledger_items": "SELECT, INSERT, UPDATE",  # an item moves on (answered, closed, sent back)
    "ledger_steps": "SELECT, INSERT",
    "ledger_photos": "SELECT, INSERT",  # a photo is never changed
    "improvement_plans": "SELECT, INSERT, UPDATE",  # the plan's summary is edited
    "plan_goals": "SELECT, INSERT, UPDATE",  # a goal is edited, met
    "inspection_visits": "SELECT, INSERT",  # append-only: signed when stored, never changed
    "inspection_items": "SELECT, INSERT",
    "inspection_photos": "SELECT, INSERT",
    "spot_draws": "SELECT, INSERT",  # a district's draw of a period, once
    "notify_outbox": "SELECT, INSERT, UPDATE, DELETE",  # claimed FOR UPDATE SKIP LOCKED, marked sent; pruned
    "data_outages": "SELECT, INSERT",  # append-only: one row per outage, stored once (insert or ignore)
    "data_outage_ends": "SELECT, INSERT",  # append-only: the outage's end, stored once
}


def grant_sql(role: str) -> list[str]:
    """The statements, in order: everything taken back, then exactly what the workers need."""
    if not re.fullmatch(ROLE, role):
        raise ValueError(f"{role!r}: a role name of lowercase letters, digits and '_'")
    missing = sorted(set(metadata.tables) - set(PRIVILEGES))
    if missing:  # a new table must say what the workers may do with it
        raise ValueError(f"no privileges are written for {', '.join(missing)} (cloud_ingest/store/roles.py)")
    return [f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            *(f"GRANT {privileges} ON {table} TO {role}" for table, privileges in PRIVILEGES.items()),
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"]


def grant(engine: Engine, role: str) -> int:
    """Runs ``grant_sql(role)`` in one transaction (PostgreSQL only); returns how many statements ran."""
    if engine.dialect.name != "postgresql":
        raise ValueError("--grant-to is for PostgreSQL (SQLite has no roles)")
    statements = grant_sql(role)
    with db.write(engine) as conn:
        for sql in statements:
            conn.execute(text(sql))
    return len(statements)
