"""The central InfluxDB's outbox table: written in the ingest transaction, claimed by the drain workers.

``add`` runs inside ``store_batch``'s transaction, so a batch's points are
queued exactly when its facts are committed, and a replayed batch (answered
before its items are stored) queues nothing. An item repeated in a later batch
is queued again: its point has the same series and timestamp and overwrites
itself in InfluxDB.

The outbox is on only for an engine marked by :func:`enabled_engine` (the app
does it when the config has ``influx:``); otherwise ``add`` writes nothing.

Claiming: on PostgreSQL a worker takes the oldest rows with ``FOR UPDATE SKIP
LOCKED`` and holds them in its transaction while it writes to InfluxDB, so
several workers (processes, hosts) never write the same rows; ingest inserts
are not blocked by those row locks. SQLite has one writer at a time and runs
one worker: it reads, writes to InfluxDB outside any transaction, then deletes.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import Connection, Engine, delete, func, insert, select

from cloud_ingest.influx.points import batch_lines
from cloud_ingest.store import db
from cloud_ingest.store.schema import influx_outbox, workshops
from cloud_ingest.wire.batch import Batch

OPTION = "sebiao_influx_outbox"


def enabled_engine(engine: Engine) -> Engine:
    """The same engine (same pool) with the outbox switched on for its connections."""
    return engine.execution_options(**{OPTION: True})


def is_enabled(engine_or_conn: Engine | Connection) -> bool:
    return bool(engine_or_conn.get_execution_options().get(OPTION))


def add(conn: Connection, workshop_id: str, batch: Batch, now: int) -> int:
    """Queue the batch's points (one line per item); how many rows were added."""
    if not is_enabled(conn) or not batch.items:
        return 0
    district = conn.execute(select(workshops.c.district_id).where(workshops.c.id == workshop_id)).scalar_one()
    rows = [{"workshop_id": workshop_id, "created": now, "line": line}
            for line in batch_lines(batch, district, now)]
    conn.execute(insert(influx_outbox), rows)
    return len(rows)


def queue(conn: Connection, lines: list[tuple[str, str]], now: int) -> int:
    """Queue the cloud's own points, ``(workshop, line)`` each (``gauges``); nothing unless enabled."""
    if not is_enabled(conn) or not lines:
        return 0
    conn.execute(insert(influx_outbox), [{"workshop_id": ws, "created": now, "line": line} for ws, line in lines])
    return len(lines)


@dataclass(frozen=True)
class Claim:
    ids: list[int]
    lines: list[str]


@contextmanager
def claim(engine: Engine, limit: int) -> Iterator[tuple[Connection, Claim]]:
    """The oldest ``limit`` rows nobody else holds, in a transaction that stays open while the caller
    writes them; the caller removes what was written with :func:`remove` on the same connection."""
    with engine.connect() as conn, conn.begin():
        query = select(influx_outbox.c.id, influx_outbox.c.line).order_by(influx_outbox.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        yield conn, Claim([r[0] for r in rows], [r[1] for r in rows])


def remove(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(delete(influx_outbox).where(influx_outbox.c.id.in_(ids)))


@dataclass(frozen=True)
class OutboxState:
    depth: int
    oldest_created: int | None  # ms, cloud clock

    def json(self, now: int) -> dict:
        age = None if self.oldest_created is None else max(0.0, (now - self.oldest_created) / 1000)
        return {"depth": self.depth, "oldest_age_seconds": age}


def state(conn: Connection) -> OutboxState:
    depth, oldest = conn.execute(select(func.count(), func.min(influx_outbox.c.created))).one()
    return OutboxState(depth, oldest)


def health(engine: Engine, now: int) -> dict:
    """For /healthz: the outbox's depth and oldest age, when the central InfluxDB is configured."""
    if not is_enabled(engine):
        return {}
    with db.read(engine) as conn:
        return {"influx_outbox": state(conn).json(now)}
