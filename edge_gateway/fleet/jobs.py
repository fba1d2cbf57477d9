"""The update jobs in the store (table ``fleet_jobs``, ``store/schema.py``): one row a job, the whole job as
JSON. Written on the pipeline thread inside its transaction (the single writer); read back at start so a
restarted gateway goes on with a running job, and read-only by the HTTP API for a job's progress."""

from __future__ import annotations

import sqlite3

from edge_gateway.errors import StoreError
from edge_gateway.fleet.waves import ENDED, Job
from sebiao_common import strict_json


def save(conn: sqlite3.Connection, job: Job) -> None:
    conn.execute("INSERT OR REPLACE INTO fleet_jobs (id, release, version, state, created_at, ended_at, job) "
                 "VALUES (?,?,?,?,?,?,?)", (job.id, job.release, job.version, job.state, job.created_at,
                                            job.ended_at, strict_json.dumps(job.to_json(), separators=(",", ":"))))


def next_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM fleet_jobs").fetchone()[0])


def newest(conn: sqlite3.Connection) -> Job | None:
    row = conn.execute("SELECT job FROM fleet_jobs ORDER BY id DESC LIMIT 1").fetchone()
    return _job(row[0]) if row else None


def by_id(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute("SELECT job FROM fleet_jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row[0]) if row else None


def running(conn: sqlite3.Connection) -> Job | None:
    """The job that has not ended (at most one runs), for a gateway starting again."""
    job = newest(conn)
    return job if job is not None and job.state not in ENDED else None


def _job(text: str) -> Job:
    try:
        return Job.from_json(strict_json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"fleet_jobs: a job's row cannot be read back: {exc}") from exc
