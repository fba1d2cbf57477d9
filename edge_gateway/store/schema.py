"""The gateway store's tables (``SCHEMA``, made if missing at every open) and the columns added to them since
they were first made (``upgrade``: a store from an older gateway gets them, with their defaults)."""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    station TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,            -- effective event time, ms
    station_ts INTEGER NOT NULL,    -- as sent; 0 = the station's clock was not set
    received_at INTEGER NOT NULL,
    tag TEXT NOT NULL, action TEXT NOT NULL, tool TEXT,
    late INTEGER NOT NULL DEFAULT 0,
    note TEXT,                      -- state repair or rule exception, in words
    payload BLOB NOT NULL,
    UNIQUE (station, boot, seq)
);
CREATE INDEX IF NOT EXISTS events_tool_ts ON events (tool, ts);
CREATE TABLE IF NOT EXISTS tools (
    id TEXT PRIMARY KEY, location TEXT NOT NULL, station TEXT, since INTEGER NOT NULL,
    taken_at INTEGER, washed INTEGER NOT NULL, last_seen INTEGER NOT NULL, pending TEXT NOT NULL,
    disinfected INTEGER NOT NULL DEFAULT 0, late_sink TEXT, late_sink_at INTEGER NOT NULL DEFAULT 0
);
-- A probed station's disinfection cycles, each kept once, with the gateway's verdict and its tools.
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY,
    station TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL,
    ts INTEGER NOT NULL, start INTEGER NOT NULL, interval_s INTEGER NOT NULL, received_at INTEGER NOT NULL,
    method TEXT NOT NULL, temp_c REAL NOT NULL, hold_required INTEGER NOT NULL,  -- the threshold judged by
    max_temp_dc INTEGER NOT NULL, hold_seconds INTEGER NOT NULL, hold_start INTEGER, hold_end INTEGER,
    passed INTEGER NOT NULL, tools TEXT NOT NULL,  -- JSON list of tool ids
    payload BLOB NOT NULL,
    UNIQUE (station, boot, seq)
);
CREATE INDEX IF NOT EXISTS cycles_ts ON cycles (ts);
-- Per local day, how long every station was online (edge_gateway/core/coverage.py).
CREATE TABLE IF NOT EXISTS coverage_days (
    day_start INTEGER PRIMARY KEY, covered_ms INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stations (
    id TEXT PRIMARY KEY, online INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    buffer_depth INTEGER NOT NULL, health TEXT NOT NULL, alarmed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY, type TEXT NOT NULL, severity TEXT NOT NULL, subject TEXT NOT NULL,
    tool TEXT, tag TEXT, station TEXT, ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    raised_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, text_zh TEXT NOT NULL,
    text_en TEXT NOT NULL, state TEXT NOT NULL, acked INTEGER NOT NULL, count INTEGER NOT NULL,
    late INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_active ON alarms (type, subject) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS alarm_history (
    id INTEGER PRIMARY KEY, alarm_id INTEGER NOT NULL REFERENCES alarms (id), at INTEGER NOT NULL,
    action TEXT NOT NULL, state TEXT NOT NULL, acked INTEGER NOT NULL, by TEXT NOT NULL, comment TEXT
);
CREATE INDEX IF NOT EXISTS alarm_history_alarm ON alarm_history (alarm_id);
CREATE TRIGGER IF NOT EXISTS alarm_history_no_update BEFORE UPDATE ON alarm_history
BEGIN SELECT RAISE(ABORT, 'alarm_history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS alarm_history_no_delete BEFORE DELETE ON alarm_history
BEGIN SELECT RAISE(ABORT, 'alarm_history is append-only'); END;
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, topic TEXT NOT NULL,
    payload BLOB NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL
);
-- The InfluxDB outbox (edge_gateway/sinks/influx/outbox.py): one line-protocol row per event,
-- alarm transition or status, written in the transaction of what it describes,
-- deleted by the drain worker once the server accepted it. keep=1: never dropped
-- (alarm transitions); keep=0: telemetry, dropped oldest-first past the bound.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, keep INTEGER NOT NULL, created INTEGER NOT NULL, line TEXT NOT NULL
);
-- The cloud outbox (edge_gateway/sinks/cloud/outbox.py): one JSON item of the cloud's
-- batch format per event, alarm transition or status, written in the transaction
-- of what it describes (only when a cloud: section is configured), deleted by the
-- push worker once the cloud accepted it. AUTOINCREMENT: ids are never reused,
-- so a batch id built from them names one body for good.
CREATE TABLE IF NOT EXISTS cloud_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL, item TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cloud_outbox_dead (
    id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, at INTEGER NOT NULL, created INTEGER NOT NULL,
    item TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL
);
-- The grade statements the cloud signed (edge_gateway/sinks/cloud/grade.py): only verified ones, each with a
-- higher seq than the last; the display shows the newest about its workshop while the cloud confirmed it lately
-- (issued_at: the newest copy the cloud signed). The grade is the regulator's, never the config's.
CREATE TABLE IF NOT EXISTS grade_statements (
    seq INTEGER PRIMARY KEY, workshop TEXT NOT NULL, grade TEXT NOT NULL, effective TEXT NOT NULL,
    issued_at INTEGER NOT NULL, received_at INTEGER NOT NULL, statement TEXT NOT NULL
);
-- The owner console's logins (edge_gateway/store/console_sessions.py): a session cookie counts
-- only while its row is here, so a logout ends it for good, across restarts.
CREATE TABLE IF NOT EXISTS console_sessions (id TEXT PRIMARY KEY, started INTEGER NOT NULL);
-- Each station's boots as the gateway saw them (model/station_health.py): a new boot id in a status, its reset
-- cause and firmware; rows older than 30 days are pruned at the station's next boot.
CREATE TABLE IF NOT EXISTS station_boots (
    station TEXT NOT NULL, boot TEXT NOT NULL, seen_at INTEGER NOT NULL, reset_cause TEXT NOT NULL, fw TEXT,
    PRIMARY KEY (station, boot)
);
CREATE INDEX IF NOT EXISTS station_boots_seen ON station_boots (seen_at);
CREATE TABLE IF NOT EXISTS outbox_dead (
    id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, at INTEGER NOT NULL, keep INTEGER NOT NULL,
    created INTEGER NOT NULL, line TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL
);
-- Firmware update jobs (edge_gateway/fleet/jobs.py, docs/fleet.md): one row a job, its stations and waves as
-- JSON (download tokens included), written in the pipeline's transaction at each change, so a restarted
-- gateway goes on with the job it was running.
CREATE TABLE IF NOT EXISTS fleet_jobs (
    id INTEGER PRIMARY KEY, release TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL,
    created_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, job TEXT NOT NULL
);
"""


# Columns added after a table was first made: a store from an older gateway gets them, with their defaults.
ADDED_COLUMNS = (
    ("tools", "disinfected", "INTEGER NOT NULL DEFAULT 0"),
    ("tools", "late_sink", "TEXT"),
    ("tools", "late_sink_at", "INTEGER NOT NULL DEFAULT 0"),
)


def upgrade(conn: sqlite3.Connection) -> None:
    for table, column, decl in ADDED_COLUMNS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
