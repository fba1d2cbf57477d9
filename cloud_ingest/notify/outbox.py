"""The cloud's notify outbox: rows added in the ingest transaction, claimed and marked by the workers.

``add_alarms`` runs inside ``store_batch``'s transaction with the batch's new alarm transitions (a replayed batch
or a retried item adds nothing: only the transitions stored just now are given), one row per channel of the
workshop's district that wants the alarm's type and transition, for critical alarms only (the rest go in the
digest). The row's ``key`` names the transition for good (``alarm:{workshop}:{gateway alarm id}:{seq}``); the
unique (district, channel, key) makes a second insert of the same message do nothing, which is also how a digest
is written once per district and day however many workers and restarts.

Claiming: on PostgreSQL a worker takes due rows with ``FOR UPDATE SKIP LOCKED`` and holds them while it sends,
so two workers never send the same row; SQLite has one writer and runs one worker: it reads, sends outside any
transaction, then marks. The notify settings ride on the engine (:func:`enabled_engine`), as the central
InfluxDB's outbox does: without ``notify:`` nothing is added.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Connection, Engine, and_, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cloud_ingest.config import Notify
from cloud_ingest.notify.notices import alarm_notice
from cloud_ingest.store import db
from cloud_ingest.store.notify_table import notify_outbox as table
from cloud_ingest.store.schema import workshops
from sebiao_common import strict_json

OPTION = "sebiao_notify"
SEND_SEVERITIES = ("critical",)  # pushed one by one; the rest are counted in the digest
KEEP_MS = 30 * 86_400_000  # sent and given-up rows are kept this long for the channel's state, then pruned


def enabled_engine(engine: Engine, settings: Notify) -> Engine:
    """The same engine (same pool) carrying the notify settings to the ingest's connections."""
    return engine.execution_options(**{OPTION: settings})


def settings_of(engine_or_conn: Engine | Connection) -> Notify | None:
    value = engine_or_conn.get_execution_options().get(OPTION)
    return value if isinstance(value, Notify) else None


def add_alarms(conn: Connection, workshop_id: str, transitions: Sequence[tuple[int, dict[str, Any]]],
               now: int) -> int:
    """Queue the critical ones of the new transitions (cloud alarm id, evidence body); how many rows."""
    settings = settings_of(conn)
    wanted = [(alarm_id, body) for alarm_id, body in transitions if body["severity"] in SEND_SEVERITIES]
    if settings is None or not wanted:
        return 0
    district, name = conn.execute(select(workshops.c.district_id, workshops.c.name)
                                  .where(workshops.c.id == workshop_id)).one()
    place = next((d for d in settings.districts if d.district == district), None)
    if place is None:
        return 0
    rows = []
    for alarm_id, body in wanted:
        notice = alarm_notice(workshop_id, name, alarm_id, body, place.timezone, settings.base_url)
        for channel in place.channels:
            if channel.wants(body["type"], body["action"]):
                rows.append({"district_id": district, "channel": channel.name, "key": notice["id"][:96],
                             "kind": "alarm", "workshop_id": workshop_id, "alarm_id": alarm_id,
                             "severity": body["severity"], "notice": strict_json.dumps(notice), "created": now,
                             "attempts": 0, "next_try": now})
    return insert_new(conn, rows)


def insert_new(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Inserts the rows whose (district, channel, key) is not there yet; how many were new."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["district_id", "channel", "key"])
    return sum(conn.execute(stmt, row).rowcount or 0 for row in rows)


@dataclass(frozen=True, kw_only=True)
class Row:
    id: int
    district_id: str
    channel: str
    severity: str | None
    notice: str
    attempts: int
    created: int


def _due(now: int):  # type: ignore[no-untyped-def]
    return (select(table.c.id, table.c.district_id, table.c.channel, table.c.severity, table.c.notice,
                   table.c.attempts, table.c.created)
            .where(table.c.sent_at.is_(None), table.c.given_up_at.is_(None), table.c.next_try <= now)
            .order_by(table.c.id))


class Marks:
    """Where a claimed row's answer is written: the claim's own transaction (PostgreSQL), or a short write
    transaction of its own (SQLite: the ingest is never held up while a receiver answers)."""

    def __init__(self, engine: Engine, conn: Connection | None) -> None:
        self.engine, self.conn = engine, conn

    def run(self, write: Callable[[Connection], None]) -> None:
        if self.conn is not None:
            write(self.conn)
            return
        with db.write(self.engine) as conn:
            write(conn)


@contextmanager
def claim(engine: Engine, now: int, limit: int) -> Iterator[tuple[Marks, list[Row]]]:
    """Due rows nobody else holds; on PostgreSQL in a transaction open while the caller sends them and marks
    them (``FOR UPDATE SKIP LOCKED``), on SQLite (one worker) read first, each mark its own transaction."""
    if engine.dialect.name == "postgresql":
        with db.converted(), engine.connect() as conn, conn.begin():
            rows = conn.execute(_due(now).limit(limit).with_for_update(skip_locked=True)).all()
            yield Marks(engine, conn), [Row(**r._mapping) for r in rows]
        return
    with db.read(engine) as conn:
        rows = conn.execute(_due(now).limit(limit)).all()
    yield Marks(engine, None), [Row(**r._mapping) for r in rows]


def sent(conn: Connection, row_id: int, now: int) -> None:
    conn.execute(update(table).where(table.c.id == row_id).values(sent_at=now, attempts=table.c.attempts + 1,
                                                                   last_error=None))


def failed(conn: Connection, row_id: int, reason: str, *, next_try: int | None, now: int) -> None:
    """A try that failed: tried again at ``next_try``, or given up now (``next_try`` None)."""
    values: dict[str, Any] = {"attempts": table.c.attempts + 1, "last_error": reason[:500]}
    values.update({"next_try": next_try} if next_try is not None else {"given_up_at": now})
    conn.execute(update(table).where(table.c.id == row_id).values(**values))


def hold(conn: Connection, row_ids: list[int], until: int) -> None:
    """Rows not to be tried before ``until`` (quiet hours, a channel backing off)."""
    if row_ids:
        conn.execute(update(table).where(table.c.id.in_(row_ids)).values(next_try=until))


def prune(conn: Connection, now: int) -> None:
    done = and_(func.coalesce(table.c.sent_at, table.c.given_up_at) < now - KEEP_MS)
    conn.execute(delete(table).where(done))


def channel_states(conn: Connection, since: int) -> list[dict[str, Any]]:
    """Each (district, channel) with messages: sent, given up (failed) since ``since``, waiting, last error."""
    count = func.count()
    rows = conn.execute(select(
        table.c.district_id, table.c.channel,
        func.sum(_flag(and_(table.c.sent_at.is_not(None), table.c.sent_at >= since))).label("sent"),
        func.sum(_flag(and_(table.c.given_up_at.is_not(None), table.c.given_up_at >= since))).label("failed"),
        func.sum(_flag(and_(table.c.sent_at.is_(None), table.c.given_up_at.is_(None)))).label("waiting"),
        func.max(table.c.sent_at).label("last_sent"), count.label("rows"))
        .group_by(table.c.district_id, table.c.channel).order_by(table.c.district_id, table.c.channel)).all()
    errors = {(r.district_id, r.channel): (r.last_error, r.at) for r in conn.execute(
        select(table.c.district_id, table.c.channel, table.c.last_error,
               func.coalesce(table.c.given_up_at, table.c.next_try).label("at"))
        .where(table.c.last_error.is_not(None)).order_by(table.c.id)).all()}  # the newest row's error wins
    return [{"district": r.district_id, "channel": r.channel, "sent": int(r.sent or 0), "failed": int(r.failed or 0),
             "waiting": int(r.waiting or 0), "last_sent": r.last_sent,
             "last_error": errors.get((r.district_id, r.channel), (None, None))[0]} for r in rows]


def _flag(condition):  # type: ignore[no-untyped-def]
    return case((condition, 1), else_=0)
