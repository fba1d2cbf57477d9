"""The evidence log: append-only, each entry chained to the previous by SHA-256.

An entry's hash covers its sequence number, time, kind, workshop, alarm, its
body (canonical JSON, as stored) and the previous entry's hash::

    hash = sha256(canonical_json([seq, at, kind, workshop, alarm_id, body, prev_hash]))

The first entry's ``prev_hash`` is 64 zeros. Changing, removing or inserting
any row breaks the chain at that row (or at the next one), and ``verify`` names
the first broken entry. Appends are serialised: on PostgreSQL by a
transaction-level advisory lock, on SQLite by its single writer
(``db.write`` begins with ``BEGIN IMMEDIATE``); the primary key on ``seq``
refuses a fork either way. The database also refuses UPDATE, DELETE and (on
PostgreSQL) TRUNCATE on the table (triggers, from the migrations).

The chain alone proves only that it is whole from its first entry to its last:
whoever may write the table can cut its end off, or change an entry and
recompute every hash after it. ``anchor`` signs its head outside the database
against that; ``coverage`` says which facts the entries hold and checks the
tables against them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection, func, select, text

from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import evidence_log

GENESIS = "0" * 64
LOCK_KEY = 0x5EB1A0  # pg_advisory_xact_lock key of the evidence log (also the sequencer's)
KINDS = ("alarm_transition", "inspector_ack", "inspector_clear", "inspector_comment",
         "rectification_request", "rectification_answer", "rectification_accept", "rectification_return",
         "events", "coverage", "grade_set", "gateway_key", "signing", "setup", "silenced", "setup_accept",
         "cycles", "cycles_start", "workshop_record", "training", "ledger_item", "ledger_open", "ledger_answer",
         "ledger_close", "ledger_return", "plan")
KINDS += ("inspection_visit", "spot_draw")  # on-site inspections and the spot checks' draws (migration 0015)
KINDS += ("outage_start", "outage_end")  # 数据中断 (review/silence.py, migration 0017)


def entry_hash(seq: int, at: int, kind: str, workshop: str, alarm_id: int | None, body: str, prev: str) -> str:
    return hashlib.sha256(canonical_json([seq, at, kind, workshop, alarm_id, body, prev]).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One entry to append: what happened (``kind``), in which workshop, to which cloud alarm, and its body."""

    kind: str
    workshop: str
    alarm_id: int | None
    body: dict[str, Any]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"evidence kind {self.kind!r} is not one of: {', '.join(KINDS)}")


def append(conn: Connection, at: int, kind: str, workshop: str, alarm_id: int | None, body: dict[str, Any]) -> int:
    """Appends one entry in the caller's transaction; returns its sequence number."""
    return append_many(conn, at, [Entry(kind, workshop, alarm_id, body)])[0]


def append_many(conn: Connection, at: int, entries: Sequence[Entry]) -> list[int]:
    """Appends the entries in order, in the caller's transaction, with one lock, one read of the chain's
    end and one insert; returns their sequence numbers. The lock is held until that transaction ends."""
    if not entries:
        return []
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    seq, prev = head(conn) or (0, GENESIS)
    rows = []
    for e in entries:
        seq, body_text = seq + 1, canonical_json(e.body)
        digest = entry_hash(seq, at, e.kind, e.workshop, e.alarm_id, body_text, prev)
        rows.append({"seq": seq, "at": at, "kind": e.kind, "workshop_id": e.workshop, "alarm_id": e.alarm_id,
                     "body": body_text, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(evidence_log.insert(), rows)
    return [row["seq"] for row in rows]


def head(conn: Connection) -> tuple[int, str] | None:
    """The chain's newest entry as ``(seq, hash)``, or None while it is empty."""
    last = conn.execute(select(evidence_log.c.seq, evidence_log.c.hash)
                        .order_by(evidence_log.c.seq.desc()).limit(1)).first()
    return (last.seq, last.hash) if last else None


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None  # the first entry that does not verify
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    def text(self) -> str:
        if self.ok:
            return f"证据链完好：{self.checked} 条 / evidence chain intact: {self.checked} entries"
        return (f"证据链在第 {self.broken_seq} 条断开 / evidence chain broken at entry {self.broken_seq}: "
                f"{self.reason}")


def verify(conn: Connection, chunk: int = 5000) -> ChainReport:
    """Walks the whole log in order of ``seq`` and stops at the first entry that does not verify."""
    expected_seq, prev, checked = 1, GENESIS, 0
    total = conn.execute(select(func.count()).select_from(evidence_log)).scalar_one()
    while True:
        rows = conn.execute(select(evidence_log).where(evidence_log.c.seq >= expected_seq)
                            .order_by(evidence_log.c.seq).limit(chunk)).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(checked, expected_seq, f"entry {expected_seq} is missing "
                                                          f"(the next one is {row.seq})")
            if row.prev_hash != prev:
                return ChainReport(checked, row.seq, "prev_hash does not match the previous entry's hash")
            if row.hash != entry_hash(row.seq, row.at, row.kind, row.workshop_id, row.alarm_id, row.body, prev):
                return ChainReport(checked, row.seq, "its content does not match its hash (changed after writing)")
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    if checked != total:
        return ChainReport(checked, expected_seq, f"{total - checked} entries lie outside the sequence")
    return ChainReport(checked)
