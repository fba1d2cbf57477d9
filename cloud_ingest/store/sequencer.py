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
  ``sebiao cloud verify`` before it checks;
- the facts are visible (an alarm to the inspectors) as soon as the batch
  commits; the chain follows within the same request.

On SQLite (one writer at a time, its commits serialised anyway) the ingest
appends in its transaction as before (``evidence.append_many``).
"""

from __future__ import annotations

import threading
from typing import Sequence

from sqlalchemy import BigInteger, Column, Connection, Engine, Integer, String, Table, Text, delete, select, text

from cloud_ingest.errors import StorageError
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


def _waiting(conn: Connection, ids: Sequence[int]) -> bool:
    return conn.execute(select(evidence_pending.c.id).where(evidence_pending.c.id.in_(list(ids))).limit(1)
                        ).first() is not None


class Sequencer:
    """A worker process's chain steps in one thread: a batch committed waits for the next round, and each
    round chains every entry waiting then (``chain``), whoever staged it; one chain transaction per round.

    A request's own chain step (``chain(engine, ids)``) makes it take the lock in turn behind every other
    request's; here the requests of a process wait on a condition, and only the rounds (one thread per
    worker) meet at the lock. A round that fails is reported to the requests waiting on it (their batches
    are stored; their entries wait for the next round, which any later batch starts)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cond = threading.Condition()
        self._wanted = False
        self._started = 0  # rounds begun
        self._finished = 0  # rounds ended
        self._error: BaseException | None = None  # the newest ended round's failure
        self._thread: threading.Thread | None = None
        self._stopping = False

    def chained(self, ids: Sequence[int]) -> None:
        """Returns once a round that began after this call has ended: the entries ``ids``, committed before
        the call, are then in the chain. Nothing to wait for on SQLite (appended in the batch's transaction)."""
        if not ids or self.engine.dialect.name != "postgresql":
            return
        with self._cond:
            target = self._started + 1
            self._wanted = True
            self._cond.notify_all()
            while self._finished < target:
                if self._thread is None or not self._thread.is_alive():  # first use, or it died: (re)started
                    self._stopping = False
                    self._thread = threading.Thread(target=self._run, name="evidence-sequencer", daemon=True)
                    self._thread.start()
                self._cond.wait(1.0)
            if self._error is not None:
                raise StorageError("证据链暂时无法写入，请稍后重试",
                                   f"the evidence chain could not be appended to: {self._error}")

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._wanted:
                    return
                self._wanted = False
                self._started += 1
                round_ = self._started
            error: BaseException | None = None
            try:
                chain(self.engine)
            except Exception as exc:  # reported to the waiting requests (503); the next round tries again
                error = exc
            with self._cond:
                self._finished, self._error = round_, error
                self._cond.notify_all()
