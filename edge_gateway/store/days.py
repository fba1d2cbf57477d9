"""The owner's day in the store: each day's opening check and roll call (with the day's summary), and the
workshop's training records (``docs/owner-day.md``).

``day_checks`` holds one row per (day, kind): kind ``opening`` or ``roll_call``;
its ``result`` is the JSON the console and ``GET /api/days/{day}`` show. A row
also says the check was done, so a restarted gateway does not run it twice.
``training`` is append-only, like the alarm history: a record is evidence.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge_gateway.errors import StoreError
from edge_gateway.model.day import DaySettings, count_washes, day_bounds
from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.domain import StationKind

SCHEMA = """
CREATE TABLE IF NOT EXISTS day_checks (
    day TEXT NOT NULL,              -- YYYY-MM-DD, the workshop's local day
    kind TEXT NOT NULL,             -- opening | roll_call
    at INTEGER NOT NULL,            -- gateway clock, ms
    result TEXT NOT NULL,           -- JSON (edge_gateway/core/owner_day.py)
    PRIMARY KEY (day, kind)
);
CREATE TABLE IF NOT EXISTS training (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,              -- YYYY-MM-DD, when the training was given
    who TEXT NOT NULL, topic TEXT NOT NULL, trainer TEXT NOT NULL,
    recorded_at INTEGER NOT NULL    -- gateway clock, ms
);
CREATE TRIGGER IF NOT EXISTS training_no_delete BEFORE DELETE ON training
BEGIN SELECT RAISE(ABORT, 'training is append-only'); END;
CREATE TRIGGER IF NOT EXISTS training_no_update BEFORE UPDATE ON training
BEGIN SELECT RAISE(ABORT, 'training is append-only'); END;
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    try:
        conn.executescript(SCHEMA)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create the day_checks and training tables: {exc}") from exc


def last_day(conn: sqlite3.Connection, kind: str) -> str | None:
    row = conn.execute("SELECT max(day) FROM day_checks WHERE kind = ?", (kind,)).fetchone()
    return row[0] if row else None


def save_check(conn: sqlite3.Connection, *, day: str, kind: str, at: int, result: str) -> None:
    conn.execute("INSERT OR REPLACE INTO day_checks (day, kind, at, result) VALUES (?,?,?,?)",
                 (day, kind, at, result))


@dataclass(frozen=True, kw_only=True)
class Counts:
    uses: int  # a tool taken from a rack
    washes: int  # a dwell at a sink of the tool's colour
    cycles: int  # disinfection cycles received
    cycles_passed: int
    alarms_raised: int
    alarms_handled: int  # acknowledged or cleared by a person


def day_counts(conn: sqlite3.Connection, config: WorkshopConfig, settings: DaySettings, day: str) -> Counts:
    """What the stations reported for one local day (event time), from the stored events, cycles and alarms."""
    start, end = day_bounds(settings, day)
    racks = [s.id for s in config.stations if s.kind is StationKind.RACK]
    sinks = [s.id for s in config.stations if s.kind is StationKind.SINK]
    uses = _count(conn, "events", "action = 'removed' AND tool IS NOT NULL AND station IN ", racks, start, end)
    sink_rows = conn.execute(
        f"SELECT tool, station, action, ts FROM events WHERE tool IS NOT NULL AND ts >= ? AND ts < ? "
        f"AND station IN ({','.join('?' * len(sinks))}) ORDER BY tool, ts, id", (start, end, *sinks)).fetchall()
    cycles, passed = conn.execute("SELECT count(*), COALESCE(SUM(passed), 0) FROM cycles WHERE ts >= ? AND ts < ?",
                                  (start, end)).fetchone()
    raised = conn.execute("SELECT count(*) FROM alarms WHERE raised_at >= ? AND raised_at < ?",
                          (start, end)).fetchone()[0]
    handled = conn.execute("SELECT count(*) FROM alarm_history WHERE action IN ('acknowledged', 'cleared') "
                           "AND by != 'system' AND at >= ? AND at < ?", (start, end)).fetchone()[0]
    return Counts(uses=uses, washes=count_washes(config, (tuple(r) for r in sink_rows)), cycles=cycles,
                  cycles_passed=passed, alarms_raised=raised, alarms_handled=handled)


def _count(conn: sqlite3.Connection, table: str, where: str, ids: list[str], start: int, end: int) -> int:
    if not ids:
        return 0
    sql = f"SELECT count(*) FROM {table} WHERE {where}({','.join('?' * len(ids))}) AND ts >= ? AND ts < ?"
    return conn.execute(sql, (*ids, start, end)).fetchone()[0]


def add_training(conn: sqlite3.Connection, *, day: str, who: str, topic: str, trainer: str, now: int) -> int:
    cursor = conn.execute("INSERT INTO training (day, who, topic, trainer, recorded_at) VALUES (?,?,?,?,?)",
                          (day, who, topic, trainer, now))
    return int(cursor.lastrowid or 0)


def unset_clocks(conn: sqlite3.Connection) -> set[str]:
    """Stations whose newest event came with ``ts: 0``: their clock is not set (``docs/protocol.md``)."""
    return {r[0] for r in conn.execute(
        "SELECT e.station FROM events e JOIN (SELECT station, max(id) AS id FROM events GROUP BY station) n "
        "ON e.id = n.id WHERE e.station_ts = 0")}
