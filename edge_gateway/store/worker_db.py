"""A sink worker's own connection to the gateway's SQLite (the InfluxDB drain, the cloud push).

Its writes are deletes and dead letters of rows already shipped, so they run
with ``synchronous=NORMAL``: one lost in a power cut only means those rows are
sent again, which both sinks recognise. sqlite3 errors become StoreError,
naming the file and the table.

In the gateway ``writer`` is set: the plain writes (``_write``) then run in the
pipeline's next batch (``Pipeline.write``), so the intake never waits on a lock
a worker holds. A worker preempted while holding SQLite's write lock stalled
the pipeline, whose busy wait then sleeps 1, 2, 5, 10, 15… ms however soon the
lock is free: alarms took up to a quarter of a second while the cloud push ran.

The deletes of a few shipped rows need not wait even for that batch: with
``writer_soon`` set they join whatever batch the pipeline commits next (its
next messages', or its tick's within a second), and ``shipped`` remembers the
last row shipped, so the worker's reads skip what waits to be deleted. Each of
them cost a commit of its own before, with its fsync, between two events' commits:
at 200 alarms a second the cloud push asked for about a hundred a second. Lost in
a crash, such a delete only means the rows are sent again (see above). A large
batch (a backlog after an outage, ``SOON_MAX_ROWS`` rows or more) is deleted as
before, the worker waiting for the commit: a worker that need not wait drained
a backlog as fast as it could read it and took the intake down from 70 % to
41 % of its rate (``benchmarks/outbox_drain.py``).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from edge_gateway.errors import StoreError
from edge_gateway.store.writer import connect

Statements = list[tuple[str, tuple]]
SOON_MAX_ROWS = 500  # shipped rows deleted without waiting (write_soon); a larger batch waits for its commit


class WorkerDb:
    def __init__(self, path: Path, what: str, readonly: bool = False) -> None:
        self.path, self.what = path, what
        self.writer: Callable[[Statements], None] | None = None  # runs _write's statements in the writer's batch
        self.writer_soon: Callable[[Statements], None] | None = None  # the same, in its next batch, not waiting
        self.shipped = 0  # the newest row id shipped (rows up to it are deleted, or will be soon)
        self.conn = connect(path, readonly=readonly)
        if not readonly:
            self._run("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self.conn.close()

    def _error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{self.path}: {self.what}: {exc}")

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, args)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise self._error(exc) from exc

    def _delete_shipped(self, table: str, first: int, last: int) -> None:
        """Rows ``first..last`` of ``table`` were shipped: deleted now, or in the writer's next batch."""
        self.shipped = max(self.shipped, last)
        statements = [(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", (first, last))]
        if self.writer_soon is not None and last - first < SOON_MAX_ROWS:
            self.writer_soon(statements)
        else:
            self._write(statements)

    def _write(self, statements: Statements) -> None:
        if self.writer is not None:
            self.writer(statements)
            return
        with self._transaction() as conn:
            for sql, args in statements:
                conn.execute(sql, args)
