"""The ``notify_outbox`` table: one row per alarm transition and channel, kept after sending.

The projection inserts a row in the transaction of the transition it tells of (``UNIQUE (history_id,
channel)``: the same transition is never queued twice for a channel). The worker marks a row sent with one
UPDATE, right after the robot's answer, so a restart sends only what was not yet answered. Sent rows are kept
a while (``KEEP_SENT_MS``) as the record of what went out, then deleted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from edge_gateway.store.worker_db import WorkerDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    history_id INTEGER NOT NULL, channel TEXT NOT NULL, severity TEXT NOT NULL, created INTEGER NOT NULL,
    notice TEXT NOT NULL,
    sent_at INTEGER, gave_up_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    UNIQUE (history_id, channel));
CREATE INDEX IF NOT EXISTS notify_outbox_waiting ON notify_outbox (channel, id)
    WHERE sent_at IS NULL AND gave_up_at IS NULL;
"""
WAITING = "sent_at IS NULL AND gave_up_at IS NULL"
KEEP_SENT_MS = 30 * 24 * 3600 * 1000


def create(conn: sqlite3.Connection) -> None:
    """The table, made when the gateway starts with a ``notify:`` section (before the engine runs)."""
    conn.executescript(SCHEMA)


@dataclass(frozen=True, kw_only=True)
class Row:
    id: int
    channel: str
    severity: str
    created: int
    notice: str


class NotifyOutbox(WorkerDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "notify outbox")

    def waiting(self, channel: str, severities: tuple[str, ...] | None, limit: int) -> list[Row]:
        """A channel's oldest waiting rows, in order; ``severities``: only these (quiet hours), None: all."""
        only = f" AND severity IN ({','.join('?' * len(severities))})" if severities is not None else ""
        return [Row(id=r[0], channel=r[1], severity=r[2], created=r[3], notice=r[4]) for r in self._run(
            f"SELECT id, channel, severity, created, notice FROM notify_outbox WHERE channel = ? AND {WAITING}"
            f"{only} ORDER BY id LIMIT ?", (channel, *(severities or ()), limit))]

    def depth(self) -> int:
        return self._run(f"SELECT count(*) FROM notify_outbox WHERE {WAITING}").fetchone()[0]

    def sent(self, row_id: int, at: int) -> None:
        self._write([("UPDATE notify_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL "
                      "WHERE id = ?", (at, row_id))])

    def failed(self, row_id: int, reason: str, *, give_up_at: int | None = None) -> None:
        self._write([("UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, gave_up_at = ? "
                      "WHERE id = ?", (reason[:500], give_up_at, row_id))])

    def abandon(self, channels: tuple[str, ...], now: int) -> int:
        """Set aside the waiting rows of channels not in ``channels`` (removed from the config); how many."""
        marks = ",".join("?" * len(channels))
        with self._transaction() as conn:
            return conn.execute(
                f"UPDATE notify_outbox SET gave_up_at = ?, last_error = 'channel no longer configured' "
                f"WHERE {WAITING} AND channel NOT IN ({marks})", (now, *channels)).rowcount

    def prune(self, now: int) -> None:
        self._write([("DELETE FROM notify_outbox WHERE sent_at < ? OR gave_up_at < ?",
                      (now - KEEP_SENT_MS, now - KEEP_SENT_MS))])
