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
import time
from pathlib import Path

from .worker_db import WorkerDb

Row = tuple[int, int, str]  # id, created, item (JSON text)


class CloudOutbox(WorkerDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "cloud outbox")
        self.epoch = self._epoch()

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
