"""The cloud outbox in the gateway's SQLite: the push worker's view of it.

The engine writes rows (``Store.cloud_add``) in the transaction of the fact
they describe; this class reads, deletes and dead-letters them from the push
worker's own connection. Only this worker deletes and ids only grow
(AUTOINCREMENT), so the first N rows by id hold every row from the first id to
the last: a batch is deleted with one range, and ``(first, last, count)``
names exactly one set of rows for good, which makes the batch id stable.

The outbox is bounded (``cloud.max_rows``): past it the oldest *status* rows
are dropped and counted (``meta.cloud_dropped``). Events and alarm transitions
are evidence and are never dropped; the local store keeps them anyway. Deleting
a status row from the middle leaves a gap in the ids, which the batch id
``{first}-{last}-{count}`` still names unambiguously: rows are only ever
removed, never added below the newest id.

When the worker starts, alarm transitions that an older gateway queued with a
name or comment the cloud refuses are fitted (``items.fit_transition``), those
waiting and those the cloud already set aside for it (moved back to the queue:
the cloud orders an alarm's transitions by their history id, whenever they come).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from edge_gateway.sinks.cloud.items import fit_transition
from edge_gateway.store.worker_db import WorkerDb
from sebiao_common.alarms import MAX_COMMENT_CHARS, MAX_PERSON_CHARS

log = logging.getLogger(__name__)

Row = tuple[int, int, str]  # id, created, item (JSON text)


class CloudOutbox(WorkerDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "cloud outbox")
        self.epoch = self._epoch()
        fitted, revived = self.fit_transitions()
        if fitted or revived:
            log.warning("cloud: %d queued alarm transition(s) had a name or comment the cloud refuses: fitted to "
                        "%d/%d characters, %d brought back from cloud_outbox_dead (alarm_history keeps the words "
                        "as they were)", fitted + revived, MAX_PERSON_CHARS, MAX_COMMENT_CHARS, revived)

    def _epoch(self) -> str:
        """This store's random prefix of batch ids: a new data dir never reuses an old batch id."""
        self._write([("INSERT OR IGNORE INTO meta (key, value) VALUES ('cloud_epoch', ?)",
                      (secrets.token_hex(4),))])
        return self._run("SELECT value FROM meta WHERE key='cloud_epoch'").fetchone()[0]

    def fit_transitions(self) -> tuple[int, int]:
        """Fit the alarm transitions the cloud would refuse: (rows fitted in the queue, rows brought back from
        ``cloud_outbox_dead``)."""
        # CASE first: an item SQLite cannot read as JSON (a NaN an older gateway stored) fails json_extract,
        # and the cloud refuses it anyway (set aside by its 400)
        wide = ("CASE WHEN json_valid(item) THEN json_extract(item, '$.kind') = 'alarm' AND "
                "(length(json_extract(item, '$.transition.by')) > ? "
                "OR length(json_extract(item, '$.transition.comment')) > ? "
                "OR trim(json_extract(item, '$.transition.comment')) = '') ELSE 0 END")
        limits = (MAX_PERSON_CHARS, MAX_COMMENT_CHARS)
        waiting = [(fit_transition(item), row_id) for row_id, item in
                   self._run(f"SELECT id, item FROM cloud_outbox WHERE {wide}", limits)]
        dead = [(row_id, created, fit_transition(item)) for row_id, created, item in
                self._run(f"SELECT id, created, item FROM cloud_outbox_dead WHERE {wide}", limits)]
        with self._transaction() as conn:
            conn.executemany("UPDATE cloud_outbox SET item = ? WHERE id = ?", [w for w in waiting if w[0]])
            for row_id, created, item in dead:
                if item:
                    conn.execute("INSERT INTO cloud_outbox (created, item) VALUES (?, ?)", (created, item))
                    conn.execute("DELETE FROM cloud_outbox_dead WHERE id = ?", (row_id,))
        return sum(1 for w in waiting if w[0]), sum(1 for d in dead if d[2])

    def take(self, limit: int) -> list[Row]:
        return [(r[0], r[1], r[2]) for r in
                self._run("SELECT id, created, item FROM cloud_outbox WHERE id > ? ORDER BY id LIMIT ?",
                          (self.shipped, limit))]

    def depth(self) -> int:
        return self._run("SELECT count(*) FROM cloud_outbox").fetchone()[0]

    def head(self) -> tuple[int, int] | None:
        """The oldest waiting row's id and creation time (ms), by the primary key: cheap per poll."""
        row = self._run("SELECT id, created FROM cloud_outbox WHERE id > ? ORDER BY id LIMIT 1",
                        (self.shipped,)).fetchone()
        return (row[0], row[1]) if row else None

    def last_alarm_id(self) -> int:
        """The newest waiting alarm-transition row's id (0: none). One scan, when the worker starts:
        rows written by an earlier run; the writer reports its own (``Store.cloud_alarm_id``)."""
        row = self._run("SELECT MAX(id) FROM cloud_outbox WHERE json_extract(item, '$.kind') = 'alarm'").fetchone()
        return row[0] or 0

    def oldest_created(self) -> int | None:
        """When the oldest waiting row was written (ms, gateway clock)."""
        row = self._run("SELECT created FROM cloud_outbox WHERE id > ? ORDER BY id LIMIT 1",
                        (self.shipped,)).fetchone()
        return row[0] if row else None

    def dropped(self) -> int:
        row = self._run("SELECT value FROM meta WHERE key='cloud_dropped'").fetchone()
        return int(row[0]) if row else 0

    def dead_count(self) -> int:
        return self._run("SELECT count(*) FROM cloud_outbox_dead").fetchone()[0]

    def delete(self, first: int, last: int) -> None:
        self._delete_shipped("cloud_outbox", first, last)

    def dead_letter(self, ids: list[int], status: int, reason: str, *, at: int) -> None:
        """Move rows to ``cloud_outbox_dead`` with the cloud's status and reason."""
        now = at
        marks = ",".join("?" * len(ids))
        self._write([
            (f"INSERT INTO cloud_outbox_dead (outbox_id, at, created, item, status, reason) "
             f"SELECT id, ?, created, item, ?, ? FROM cloud_outbox WHERE id IN ({marks})",
             (now, status, reason[:2000], *ids)),
            (f"DELETE FROM cloud_outbox WHERE id IN ({marks})", tuple(ids)),
        ])

    def drop_oldest_status(self, count: int) -> int:
        """Delete the ``count`` oldest status rows (events and alarm transitions never); how many went."""
        with self._transaction() as conn:
            dropped = conn.execute(
                "DELETE FROM cloud_outbox WHERE id IN (SELECT id FROM cloud_outbox WHERE id > ? "
                "AND json_extract(item, '$.kind') = 'status' ORDER BY id LIMIT ?)", (self.shipped, count)).rowcount
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('cloud_dropped', ?) ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value", (dropped,))
        return dropped
