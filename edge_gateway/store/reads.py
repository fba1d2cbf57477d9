"""Read-only access to the gateway's store for the web views.

One connection per reader, opened on first use (the pipeline created the file
before the web server starts). WAL lets it read committed state while the
pipeline writes. sqlite3 errors become :class:`StoreError` here.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from edge_gateway.errors import StoreError
from edge_gateway.store.writer import connect


class StoreReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one query at a time on the shared connection

    def rows(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = connect(self.path, readonly=True)
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                raise StoreError(f"{self.path}: {exc}") from exc

    def value(self, sql: str, args: tuple[object, ...] = ()) -> Any:  # one SQLite value, or None
        rows = self.rows(sql, args)
        return rows[0][0] if rows else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
