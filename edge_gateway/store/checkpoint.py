"""The WAL checkpointer: the gateway's store copied from its write-ahead log into the database, on its own thread."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from edge_gateway.store.writer import connect


class Checkpointer:
    """Copies the WAL into the database every few seconds, from its own connection and thread.

    A PASSIVE checkpoint never blocks the writer; if the WAL grows past
    ``truncate_pages`` (a long busy spell), a TRUNCATE checkpoint resets it.
    """

    def __init__(self, path: Path, every: float = 5.0, truncate_pages: int = 50_000) -> None:
        self.path, self.every, self.truncate_pages = path, every, truncate_pages
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sebiao-checkpoint", daemon=True)
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        conn = connect(self.path)
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(conn)
            self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            busy, wal_pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and wal_pages > self.truncate_pages:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.last_error = None
        except sqlite3.Error as exc:  # retried at the next interval; reported by /healthz
            self.last_error = str(exc)
