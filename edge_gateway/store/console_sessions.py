"""The owner console's logins, kept in the gateway's store: a session cookie counts only while its row is here.

The cookie is signed (Starlette's SessionMiddleware), but a signature only
proves the gateway once issued it: without a record on the gateway's side, a
copy taken before the owner logged out would stay good until it expired. So
each login keeps the SHA-256 of its random session id in ``console_sessions``
(never the id itself), a logout deletes that row, and the console asks for the
row on every request. The store is on disk (``synchronous=FULL`` like the
writer's), so a restart neither forgets a logout nor logs the owner out.

No clock decides here (the demo's day clock runs fast; the cookie's own
``max_age`` ends a session in real time): the table keeps the ``KEEP`` newest
logins and forgets older ones. This connection is its own, beside the
pipeline's writer; sqlite3 errors become StoreError naming the file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

from edge_gateway.errors import StoreError
from edge_gateway.store.writer import connect

KEEP = 100  # logins kept; an older one is logged out


def session_digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ConsoleSessions:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def start(self, sid: str, started: int) -> None:
        """Keeps a new login (``started``: the gateway's clock, ms, for the order of logins)."""
        self._write([("INSERT OR REPLACE INTO console_sessions (id, started) VALUES (?, ?)",
                      (session_digest(sid), started)),
                     ("DELETE FROM console_sessions WHERE id NOT IN "
                      "(SELECT id FROM console_sessions ORDER BY started DESC, rowid DESC LIMIT ?)", (KEEP,))])

    def alive(self, sid: str) -> bool:
        with self._lock:
            try:
                row = self._connection().execute("SELECT 1 FROM console_sessions WHERE id = ?",
                                                  (session_digest(sid),)).fetchone()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
        return row is not None

    def end(self, sid: str) -> None:
        self._write([("DELETE FROM console_sessions WHERE id = ?", (session_digest(sid),))])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:  # opened on first use: the pipeline created the file and the table
            self._conn = connect(self.path)
        return self._conn

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, args in statements:
                        conn.execute(sql, args)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{self.path}: console sessions: {exc}")
