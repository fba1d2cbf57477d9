"""The workshop's setup versions (``model/setup.py``), kept in the store and queued for the cloud.

At every start the gateway records the config's setup: a new version when its
hash differs from the newest one's (a revert to an older setup is a change
too, so only the newest is compared), none when it is the same. A version is
queued for the cloud once, in the transaction that marks it queued: a version
recorded while no ``cloud:`` section was configured is queued at the first
start that has one, so the cloud still gets every version, in order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge_gateway.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS setup_versions (
    version INTEGER PRIMARY KEY,    -- 1, 2, ...: one per change of the config's setup
    at INTEGER NOT NULL,            -- when this gateway first ran with it (ms)
    hash TEXT NOT NULL,             -- SHA-256 of the canonical JSON below
    setup TEXT NOT NULL,            -- canonical JSON (model/setup.py)
    queued INTEGER NOT NULL DEFAULT 0  -- 1 once its item is in cloud_outbox
);
CREATE TRIGGER IF NOT EXISTS setup_versions_no_delete BEFORE DELETE ON setup_versions
BEGIN SELECT RAISE(ABORT, 'setup_versions is append-only'); END;
"""


@dataclass(frozen=True, kw_only=True)
class SetupVersion:
    version: int
    at: int
    hash: str
    setup: str


def ensure_schema(conn: sqlite3.Connection) -> None:
    try:
        conn.executescript(SCHEMA)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create the setup_versions table: {exc}") from exc


def record(conn: sqlite3.Connection, *, setup: str, digest: str, now: int) -> tuple[SetupVersion, bool]:
    """The version of this setup, and whether it is new (inside the caller's transaction)."""
    row = conn.execute("SELECT version, at, hash, setup FROM setup_versions ORDER BY version DESC LIMIT 1").fetchone()
    if row is not None and row[2] == digest:
        return SetupVersion(version=row[0], at=row[1], hash=row[2], setup=row[3]), False
    version = (row[0] if row is not None else 0) + 1
    conn.execute("INSERT INTO setup_versions (version, at, hash, setup) VALUES (?,?,?,?)",
                 (version, now, digest, setup))
    return SetupVersion(version=version, at=now, hash=digest, setup=setup), True


def unqueued(conn: sqlite3.Connection) -> list[SetupVersion]:
    """The versions not yet queued for the cloud, oldest first."""
    return [SetupVersion(version=r[0], at=r[1], hash=r[2], setup=r[3]) for r in conn.execute(
        "SELECT version, at, hash, setup FROM setup_versions WHERE queued = 0 ORDER BY version")]


def mark_queued(conn: sqlite3.Connection, version: int) -> None:
    conn.execute("UPDATE setup_versions SET queued = 1 WHERE version = ?", (version,))


def versions(conn: sqlite3.Connection) -> list[SetupVersion]:
    return [SetupVersion(version=r[0], at=r[1], hash=r[2], setup=r[3]) for r in conn.execute(
        "SELECT version, at, hash, setup FROM setup_versions ORDER BY version")]
