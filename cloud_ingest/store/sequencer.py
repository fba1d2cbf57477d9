"""The evidence sequencer: a batch's entries are staged with its facts, and chained for many batches at once.

Appending to the chain takes one lock that all workshops share (``evidence``):
appended inside the batch's transaction, the lock is held through that
transaction's commit, so commits of concurrent batches cannot overlap and
PostgreSQL cannot flush them together (group commit); at a province's 670
requests a second the ingest waits on that lock, not on work.

On PostgreSQL a batch therefore writes its entries, in its own transaction
and without the lock, to ``evidence_pending`` (``stage``), and after that
transaction has committed, before the batch is answered, makes sure they are
chained (``chain``): it looks whether they are still waiting and, if so,
takes the chain's lock and appends *every* entry waiting then, in the order
staged, deleting them from ``evidence_pending`` in the same transaction. The
batches that were waiting on the lock meanwhile then find theirs chained and
leave at once: one chain transaction (one flush) for many batches, while each
batch is still answered only once its entries are in the chain.

What stays true:

- each entry is chained exactly once: it leaves ``evidence_pending`` in the
  transaction that appends it, under the chain's lock, and only that lock's
  holder reads the waiting entries;
- a batch's entries keep their order (staged in one statement, chained by id);
- a worker that dies between the batch's commit and its chain step leaves its
  entries waiting: the next chain step of any batch chains them, and so does
  ``chain(engine)`` with no ids, which a worker runs when it starts and
  ``sebiao cloud verify`` before it checks (``stranded``);
- the facts are visible (an alarm to the inspectors) as soon as the batch
  commits; the chain follows within the same request.

On SQLite (one writer at a time, its commits serialised anyway) the ingest
appends in its transaction as before (``evidence.append_many``).
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import BigInteger, Column, Connection, Engine, Integer, String, Table, Text, delete, func, select, text

from cloud_ingest.store import db, evidence
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import evidence_log, metadata

evidence_pending = Table(  # entries staged by committed batches, waiting to be chained (PostgreSQL's ingest)
    "evidence_pending", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("workshop_id", String(32), nullable=False),
    Column("alarm_id", Integer, nullable=True),
    Column("body", Text, nullable=False),  # canonical JSON, as it will be chained
)


def staged(conn: Connection) -> bool:
    """Whether this connection's ingest stages its entries (PostgreSQL) or appends them at once (SQLite)."""
    return conn.dialect.name == "postgresql"


def stage(conn: Connection, at: int, entries: Sequence[evidence.Entry]) -> list[int]:
    """Stages the entries in the caller's transaction, in order, without the chain's lock; their ids."""
    if not entries:
        return []
    rows = [{"at": at, "kind": e.kind, "workshop_id": e.workshop, "alarm_id": e.alarm_id,
             "body": canonical_json(e.body)} for e in entries]
    ids = conn.execute(evidence_pending.insert().returning(evidence_pending.c.id, sort_by_parameter_order=True),
                       rows).scalars().all()
    return list(ids)


def chain(engine: Engine, ids: Sequence[int] = ()) -> int:
    """Makes sure the staged entries ``ids`` are chained (with none given: every entry waiting); returns how
    many entries this call appended (0 when another batch's chain step took them). Nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return 0
    if ids:
        with db.read(engine) as conn:  # most often another batch's step has chained them already: no lock
            if not _waiting(conn, ids):
                return 0
    with db.write(engine) as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": evidence.LOCK_KEY})
        if ids and not _waiting(conn, ids):
            return 0
        rows = conn.execute(select(evidence_pending).order_by(evidence_pending.c.id)).all()
        if not rows:
            return 0
        seq, prev = evidence.head(conn) or (0, evidence.GENESIS)
        out = []
        for r in rows:
            seq += 1
            digest = evidence.entry_hash(seq, r.at, r.kind, r.workshop_id, r.alarm_id, r.body, prev)
            out.append({"seq": seq, "at": r.at, "kind": r.kind, "workshop_id": r.workshop_id,
                        "alarm_id": r.alarm_id, "body": r.body, "prev_hash": prev, "hash": digest})
            prev = digest
        conn.execute(evidence_log.insert(), out)
        conn.execute(delete(evidence_pending).where(evidence_pending.c.id.in_([r.id for r in rows])))
        return len(out)


def stranded(conn: Connection) -> int:
    """Entries staged and not chained (a worker stopped between a batch's commit and its chain step)."""
    return conn.execute(select(func.count()).select_from(evidence_pending)).scalar_one()


def _waiting(conn: Connection, ids: Sequence[int]) -> bool:
    return conn.execute(select(evidence_pending.c.id).where(evidence_pending.c.id.in_(list(ids))).limit(1)
                        ).first() is not None
