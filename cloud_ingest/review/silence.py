"""数据中断 as a finding of its own: a workshop's gateway silent for longer than the configured time.

A periodic job (``Watcher``, one thread per worker process) sweeps the
workshops. A workshop whose last batch was received more than
``freshness.silent_after_minutes`` ago has an outage, keyed by the workshop and
that batch's time (``data_outages.started_at``): every worker that finds the
same silence computes the same key, and the table's unique constraint lets one
insert win (``INSERT … ON CONFLICT DO NOTHING``); only the winner opens the
outage's ledger item, in the same transaction. So it is opened once per
outage, however many workers sweep. Each outage is its own short transaction:
a worker waiting on another's key holds no evidence lock meanwhile.

The item keeps the ledger's contract: source ``report`` (what the cloud's own
report of the data says), reference ``silence/{outage id}``, category
``facilities``, severity ``major``, no deadline; it is opened by the
account ``@system`` (a disabled admin the job creates on first use, whose name
no person can be given: usernames start with a letter or digit). When data
comes back (a batch received after the outage's start) the end is noted
(``data_outage_ends``, evidence ``outage_end``); the item stays open until the
inspector closes it, after the owner's answer.

Working hours: the cloud does not know a workshop's hours, so a silence counts
at any hour (a gateway sends its status around the clock, closed or not).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import Connection, Engine, String, cast, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.config import Freshness
from cloud_ingest.errors import CloudError
from cloud_ingest.review import ledger
from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.outage_tables import data_outage_ends, data_outages
from cloud_ingest.store.schema import ingest_batches, ledger_items, users, workshops
from sebiao_common.clock import CST

SYSTEM_USER = "@system"
REF = "silence/{}"
log = logging.getLogger("sebiao.cloud.silence")


@dataclass(frozen=True, kw_only=True)
class Swept:
    opened: tuple[int, ...] = ()  # the outages this sweep stored (their items opened)
    ended: tuple[int, ...] = ()  # the outages whose end it noted


def _insert_ignore(conn: Connection, table, values: dict, key: list[str]):  # type: ignore[no-untyped-def]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
                        .returning(*table.c)).first()


def system_principal(conn: Connection, now: int) -> Principal:
    """The account the job opens its items as (made on first use, disabled: it never logs in)."""
    _insert_ignore(conn, users, {"username": SYSTEM_USER, "password_hash": "!", "role": "admin", "created_at": now,
                                 "disabled_at": now}, ["username"])
    user_id = conn.execute(select(users.c.id).where(users.c.username == SYSTEM_USER)).scalar_one()
    return Principal("admin", user_id, SYSTEM_USER)


def _minutes(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).strftime("%Y-%m-%d %H:%M")


def item_text(started_at: int, silent_after_minutes: int) -> str:
    at = _minutes(started_at)
    return (f"数据中断：网关自 {at} 起未向云端上报数据，超过 {silent_after_minutes} 分钟。请检查网关的电源与网络，"
            f"并答复原因。/ Data interrupted: the gateway has sent no data to the cloud since {at} (China Standard "
            f"Time), for more than {silent_after_minutes} minutes. Check the gateway's power and network, and "
            f"answer with the cause.")


def _silent(conn: Connection, now: int, silent_ms: int) -> list[tuple[str, int]]:
    """(workshop, last batch received) of every workshop silent longer than ``silent_ms`` that has no outage
    stored for that silence yet."""
    last = (select(ingest_batches.c.workshop_id, func.max(ingest_batches.c.received_at).label("at"))
            .group_by(ingest_batches.c.workshop_id).subquery())
    rows = conn.execute(select(last.c.workshop_id, last.c.at).where(last.c.at < now - silent_ms)).all()
    if not rows:
        return []
    known = set(conn.execute(select(data_outages.c.workshop_id, data_outages.c.started_at).where(
        tuple_(data_outages.c.workshop_id, data_outages.c.started_at).in_([(r[0], r[1]) for r in rows]))).all())
    return [(r[0], r[1]) for r in rows if (r[0], r[1]) not in known]


def _returned(conn: Connection) -> list[tuple[int, str, int]]:
    """(outage, workshop, first batch received after its start) of every outage without an end whose data
    came back."""
    back = (select(func.min(ingest_batches.c.received_at))
            .where(ingest_batches.c.workshop_id == data_outages.c.workshop_id,
                   ingest_batches.c.received_at > data_outages.c.started_at).scalar_subquery())
    q = (select(data_outages.c.id, data_outages.c.workshop_id, back.label("back"))
         .outerjoin(data_outage_ends, data_outage_ends.c.outage_id == data_outages.c.id)
         .where(data_outage_ends.c.id.is_(None)))
    return [(r.id, r.workshop_id, r.back) for r in conn.execute(q) if r.back is not None]


def open_outage(conn: Connection, workshop: str, started_at: int, now: int, config: Freshness) -> int | None:
    """Stores the outage and opens its ledger item; None when another worker stored it first."""
    row = _insert_ignore(conn, data_outages, {"workshop_id": workshop, "started_at": started_at, "detected_at": now,
                                              "silent_after_minutes": config.silent_after_minutes},
                         ["workshop_id", "started_at"])
    if row is None:
        return None
    who = system_principal(conn, now)
    item = ledger.open_item(conn, who, ledger.NewItem(
        workshop=workshop, source="report", source_ref=REF.format(row.id),
        text=item_text(started_at, config.silent_after_minutes), category="facilities", severity="major",
        responsible=None, due_at=None), now)
    evidence.append(conn, now, "outage_start", workshop, None,
                    {"outage": row.id, "item": item["id"], "row": coverage.fact(data_outages, row._mapping)})
    return row.id


def end_outage(conn: Connection, outage: int, workshop: str, ended_at: int, now: int) -> bool:
    row = _insert_ignore(conn, data_outage_ends, {"outage_id": outage, "ended_at": ended_at, "noted_at": now},
                         ["outage_id"])
    if row is None:
        return False
    evidence.append(conn, now, "outage_end", workshop, None,
                    {"outage": outage, "row": coverage.fact(data_outage_ends, row._mapping)})
    return True


def sweep(engine: Engine, now: int, config: Freshness) -> Swept:
    """One pass: notes the ends of outages whose data came back, then stores the new outages."""
    with db.read(engine) as conn:
        returned = _returned(conn)
    ended = []
    for outage, workshop, back in returned:
        with db.write(engine) as conn:
            if end_outage(conn, outage, workshop, back, now):
                ended.append(outage)
    with db.read(engine) as conn:
        silent = _silent(conn, now, config.silent_ms)
    opened = []
    for workshop, started_at in silent:
        with db.write(engine) as conn:
            if (found := open_outage(conn, workshop, started_at, now, config)) is not None:
                opened.append(found)
    return Swept(opened=tuple(opened), ended=tuple(ended))


def outages(conn: Connection, who: Principal, workshop: str | None = None, limit: int = 50) -> list[dict]:
    """The outages in the caller's scope, newest first, with their end and their ledger item."""
    q = (select(data_outages, data_outage_ends.c.ended_at, ledger_items.c.id.label("item"))
         .join(workshops, workshops.c.id == data_outages.c.workshop_id)
         .outerjoin(data_outage_ends, data_outage_ends.c.outage_id == data_outages.c.id)
         .outerjoin(ledger_items, (ledger_items.c.source == "report")
                    & (ledger_items.c.workshop_id == data_outages.c.workshop_id)
                    & (ledger_items.c.source_ref == literal("silence/", String) + cast(data_outages.c.id, String)))
         .where(workshop_clause(who)))
    if workshop is not None:
        q = q.where(data_outages.c.workshop_id == workshop)
    rows = conn.execute(q.order_by(data_outages.c.started_at.desc(), data_outages.c.id.desc()).limit(limit))
    return [{"id": r.id, "workshop": r.workshop_id, "started_at": r.started_at, "detected_at": r.detected_at,
             "silent_after_minutes": r.silent_after_minutes, "ended_at": r.ended_at, "item": r.item}
            for r in rows]


class Watcher:
    """Sweeps every ``config.check_seconds`` in a daemon thread until stopped; a failed sweep is logged and
    the next one tries again (a database away for a while must not end the job)."""

    def __init__(self, engine: Engine, config: Freshness, clock: Callable[[], int],
                 after: Callable[[int], object] | None = None) -> None:
        """``after(now)``: run after each sweep (the app's gauges for the central InfluxDB)."""
        self.engine, self.config, self.clock, self.after = engine, config, clock, after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sebiao-silence", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.config.check_seconds):
            try:
                now = self.clock()
                sweep(self.engine, now, self.config)
                if self.after is not None:
                    self.after(now)
            except (CloudError, OSError) as exc:
                log.warning("silence sweep failed, next in %ss: %s", self.config.check_seconds, exc)
            except Exception:  # noqa: BLE001 - the job must outlive one bad pass; the trace says what happened
                log.exception("silence sweep failed")
