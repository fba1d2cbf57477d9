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
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from edge_gateway.errors import StoreError
from edge_gateway.store.writer import connect

Statements = list[tuple[str, tuple]]


class WorkerDb:
    def __init__(self, path: Path, what: str, readonly: bool = False) -> None:
        self.path, self.what = path, what
        self.writer: Callable[[Statements], None] | None = None  # runs _write's statements in the writer's batch
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

    def _write(self, statements: Statements) -> None:
        if self.writer is not None:
            self.writer(statements)
            return
        with self._transaction() as conn:
            for sql, args in statements:
                conn.execute(sql, args)
