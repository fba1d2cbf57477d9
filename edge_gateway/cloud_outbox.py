"""The cloud outbox in the gateway's SQLite: the push worker's view of it.

The engine writes rows (``Store.cloud_add``) in the transaction of the fact
they describe; this class reads, deletes and dead-letters them from the push
worker's own connection. Only this worker deletes and ids only grow
(AUTOINCREMENT), so the first N rows by id hold every row from the first id to
the last: a batch is deleted with one range, and ``(first, last, count)``
names exactly one set of rows for good, which makes the batch id stable.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

from .errors import StoreError
from .store import connect

Row = tuple[int, int, str]  # id, created, item (JSON text)


class CloudOutbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)
        # a lost delete only means a batch is sent again, which the cloud recognises
        self._run("PRAGMA synchronous=NORMAL")
        self.epoch = self._epoch()

    def close(self) -> None:
        self.conn.close()

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, args)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cloud outbox: {exc}") from exc

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self.conn.execute(sql, args)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: cloud outbox: {exc}") from exc

    def _epoch(self) -> str:
        """This store's random prefix of batch ids: a new data dir never reuses an old batch id."""
        self._write([("INSERT OR IGNORE INTO meta (key, value) VALUES ('cloud_epoch', ?)",
                      (secrets.token_hex(4),))])
        return self._run("SELECT value FROM meta WHERE key='cloud_epoch'").fetchone()[0]

    def take(self, limit: int) -> list[Row]:
        return [(r[0], r[1], r[2]) for r in
                self._run("SELECT id, created, item FROM cloud_outbox ORDER BY id LIMIT ?", (limit,))]

    def depth(self) -> int:
        return self._run("SELECT count(*) FROM cloud_outbox").fetchone()[0]

    def dead_count(self) -> int:
        return self._run("SELECT count(*) FROM cloud_outbox_dead").fetchone()[0]

    def delete(self, first: int, last: int) -> None:
        self._write([("DELETE FROM cloud_outbox WHERE id BETWEEN ? AND ?", (first, last))])

    def dead_letter(self, ids: list[int], status: int, reason: str) -> None:
        """Move rows to ``cloud_outbox_dead`` with the cloud's status and reason."""
        now = time.time_ns() // 1_000_000
        marks = ",".join("?" * len(ids))
        self._write([
            (f"INSERT INTO cloud_outbox_dead (outbox_id, at, created, item, status, reason) "
             f"SELECT id, ?, created, item, ?, ? FROM cloud_outbox WHERE id IN ({marks})",
             (now, status, reason[:2000], *ids)),
            (f"DELETE FROM cloud_outbox WHERE id IN ({marks})", tuple(ids)),
        ])
