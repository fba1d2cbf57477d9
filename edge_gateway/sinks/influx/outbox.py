"""The InfluxDB outbox in the gateway's SQLite: the drain worker's view of it.

The engine writes rows (``Store.outbox_add``) in the transaction of the event,
alarm transition or status they describe. This class reads and deletes them
from the drain worker's own connection. Ids only grow (the writer gives them,
never one it gave before while it runs, ``Store._flush``), and only this worker
deletes, so a batch read as "the first N rows by id" holds every row from its
first to its last id: a batch is deleted with one range, in the pipeline's next
batch (``WorkerDb.shipped``: until then the reads skip it).

Deletes run with ``synchronous=NORMAL`` (``worker_db.py``): a delete lost in a power cut only
means those lines are sent again, and a line sent twice overwrites itself in
InfluxDB (same series, same timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_gateway.errors import StoreError
from edge_gateway.store.worker_db import WorkerDb

_TAKE = ("SELECT count(*), min(id), max(id), group_concat(line, char(10)) FROM "
         "(SELECT id, line FROM outbox WHERE id > ? ORDER BY id LIMIT ?)")


@dataclass(frozen=True, kw_only=True)
class Batch:
    count: int
    first: int
    last: int
    body: str  # the lines joined by newlines, built inside SQLite


@dataclass(frozen=True, kw_only=True)
class OutboxState:
    depth: int
    oldest_created: int | None  # ms, gateway clock
    dead: int
    dropped: int

    def oldest_age_seconds(self, now_ms: int) -> float | None:
        return None if self.oldest_created is None else max(0.0, (now_ms - self.oldest_created) / 1000)


class InfluxOutbox(WorkerDb):
    def __init__(self, path: Path, readonly: bool = False) -> None:
        super().__init__(path, "outbox", readonly)

    # -- reading ---------------------------------------------------------------------

    def take(self, limit: int) -> Batch | None:
        count, first, last, body = self._run(_TAKE, (self.shipped, limit)).fetchone()
        return Batch(count=count, first=first, last=last, body=body) if count else None

    def rows(self, first: int, last: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self._run("SELECT id, line FROM outbox WHERE id BETWEEN ? AND ? ORDER BY id",
                                                (first, last))]

    def depth(self) -> int:
        return self._run("SELECT count(*) FROM outbox").fetchone()[0]

    def state(self) -> OutboxState:
        depth = self.depth()
        oldest = self._run("SELECT created FROM outbox ORDER BY id LIMIT 1").fetchone()
        dead = self._run("SELECT count(*) FROM outbox_dead").fetchone()[0]
        dropped = self._run("SELECT value FROM meta WHERE key='outbox_dropped'").fetchone()
        return OutboxState(depth=depth, oldest_created=oldest[0] if oldest else None, dead=dead,
                           dropped=int(dropped[0]) if dropped else 0)

    # -- writing -----------------------------------------------------------------------

    def delete(self, first: int, last: int) -> None:
        self._delete_shipped("outbox", first, last)

    def dead_letter(self, ids: list[int], status: int, reason: str, *, at: int) -> None:
        """Move rows to ``outbox_dead`` with the server's status and reason."""
        now = at
        marks = ",".join("?" * len(ids))
        self._write([
            (f"INSERT INTO outbox_dead (outbox_id, at, keep, created, line, status, reason) "
             f"SELECT id, ?, keep, created, line, ?, ? FROM outbox WHERE id IN ({marks})",
             (now, status, reason[:2000], *ids)),
            (f"DELETE FROM outbox WHERE id IN ({marks})", tuple(ids)),
        ])

    def drop_oldest_telemetry(self, count: int) -> int:
        """Delete the ``count`` oldest telemetry rows (alarm rows are never dropped); how many went."""
        with self._transaction() as conn:
            dropped = conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE keep=0 AND id > ? ORDER BY id "
                "LIMIT ?)", (self.shipped, count)).rowcount
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('outbox_dropped', ?) ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value", (dropped,))
        return dropped


def read_state(path: Path) -> OutboxState:
    """The outbox of a gateway's data dir, read-only (for ``sebiao influx check``)."""
    if not path.exists():
        raise StoreError(f"{path}: no gateway store here (is --data-dir the gateway's data dir?)")
    outbox = InfluxOutbox(path, readonly=True)
    try:
        return outbox.state()
    finally:
        outbox.close()
