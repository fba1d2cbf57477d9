"""The gateway's local store: SQLite in WAL mode in the data dir.

One writer (the pipeline thread) owns a connection and groups many messages into
one transaction; readers (the HTTP API) open their own connections, which WAL
lets read while the writer writes. ``synchronous=FULL``: a committed event is
on disk before the broker gets its PUBACK, even if the power goes.

sqlite3 errors are converted to :class:`StoreError` here.

At start the store is checked (``PRAGMA quick_check``, through a read-only
connection: it neither checkpoints the WAL nor changes a byte): a damaged
database stops start-up with one line naming the file and how to recover,
instead of running on and writing into it. The file is left as it was: it is
the workshop's record, and the evidence of what happened.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from edge_gateway.errors import StoreError
from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.disinfection import Cycle, Verdict
from edge_gateway.model.station_health import Boot, ResetWatch, watch_from
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState, WashCheck
from edge_gateway.store import days, setup_versions
from edge_gateway.store.schema import SCHEMA, upgrade
from sebiao_common import strict_json
from sebiao_common.domain import Location

SCHEMA_VERSION = 1
# The writer's page cache: the index pages a workshop's day touches (about 12,000 events) stay in the process;
# older pages come from the kernel's file cache, which is shared and reclaimable. 16 MB filled up in a burst
# and was a quarter of the gateway's memory (docs/performance.md, "Memory").
WRITER_CACHE_KB = 2000


@dataclass(frozen=True, kw_only=True)
class DeadLetterBound:
    """How much rejected input the store keeps (``intake.dead_letters`` in the config): the newest rows,
    at most ``max_rows`` of them and ``max_bytes`` of topic, payload and detail."""

    max_rows: int = 10_000
    max_bytes: int = 16 * 1024 * 1024


# A dead letter's size as the bound counts it: what it holds, in bytes.
_DEAD_SIZE = "length(CAST(topic AS BLOB)) + length(payload) + length(CAST(detail AS BLOB))"


ALARM_COLUMNS = ("id", "type", "severity", "subject", "tool", "tag", "station", "ts", "last_ts",
                 "raised_at", "updated_at", "text_zh", "text_en", "state", "acked", "count", "late")


# An upsert, not INSERT OR REPLACE: REPLACE deletes the row and inserts it again, with the foreign-key check of
# its history, and costs about half as much again.
_SAVE_ALARM = (f"INSERT INTO alarms ({','.join(ALARM_COLUMNS)}) VALUES ({','.join('?' * len(ALARM_COLUMNS))}) "
               f"ON CONFLICT (id) DO UPDATE SET {','.join(f'{c} = excluded.{c}' for c in ALARM_COLUMNS[1:])}")


def connect(path: Path, readonly: bool = False, cache_kb: int = 512) -> sqlite3.Connection:
    """``cache_kb``: this connection's page cache. The writer's is larger (``WRITER_CACHE_KB``); every other
    connection (the sinks' workers, the checkpointer, the web's reads) reads few pages, or the same pages once,
    and SQLite's default of 2 MB each, 4 MB before, filled up in a burst: 16 MB of the gateway's peak."""
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            # Checkpoints copy the WAL into the database with fsyncs: the
            # Checkpointer does them beside the writer, not inside its commits.
            conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(f"PRAGMA cache_size=-{int(cache_kb)}")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the store: {exc}") from exc
    conn.row_factory = sqlite3.Row
    return conn


class Store:
    """The writer's view. Every method runs inside the caller's transaction."""

    def __init__(self, path: Path, dead_letters: DeadLetterBound = DeadLetterBound()) -> None:
        self.path = path
        self.dead_bound = dead_letters
        path.parent.mkdir(parents=True, exist_ok=True)
        check_intact(path)
        self.conn = connect(path, cache_kb=WRITER_CACHE_KB)
        # Outbox rows committed by this writer since it opened (the drain worker
        # derives the outbox depth from it without counting rows).
        self.outbox_added = 0
        self._outbox_in_tx = 0
        self.cloud_added = 0  # the same for the cloud outbox (the push worker)
        self._cloud_in_tx = 0
        # The id of the newest committed alarm-transition row of the cloud outbox
        # (0: none since opening): the push worker sends at once while one waits.
        self.cloud_alarm_id = 0
        self._cloud_alarm_in_tx = 0
        # Rows the open transaction writes in one go before its commit (``_flush``): a tool's newest state once
        # a batch instead of once an event, and the outboxes' lines as one executemany each. Nothing in the
        # transaction reads them back; a rollback forgets them.
        self._tools_tx: dict[str, tuple[object, ...]] = {}
        self._outbox_tx: list[tuple[bool, int, str]] = []
        self._cloud_tx: list[tuple[int, str]] = []
        self._cloud_alarm_at = -1  # index in _cloud_tx of the newest alarm transition
        self._outbox_next = self._outbox_next_tx = 1  # the next InfluxDB outbox id (committed, in the transaction)
        try:
            self.conn.executescript(SCHEMA)
            upgrade(self.conn)
            setup_versions.ensure_schema(self.conn)
            days.ensure_schema(self.conn)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._outbox_next = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox").fetchone()[0]
            # The dead letters kept and dropped, as committed; followed in memory (read by /healthz).
            rows, size = self.conn.execute(f"SELECT count(*), COALESCE(SUM({_DEAD_SIZE}), 0) "
                                           "FROM dead_letters").fetchone()
            dropped = self.conn.execute("SELECT value FROM meta WHERE key = 'dead_letters_dropped'").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot create the schema: {exc}") from exc
        self.dead_rows, self.dead_bytes, self.dead_dropped = rows, size, int(dropped[0]) if dropped else 0
        self._dead_tx = (0, 0, 0)  # (rows, bytes, dropped) changed by the open transaction

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            self._outbox_in_tx = self._cloud_in_tx = self._cloud_alarm_in_tx = 0
            self._dead_tx = (0, 0, 0)
            self._forget_pending()
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._flush()
            except BaseException:
                self._forget_pending()
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            rows, size, dropped = self._dead_tx
            self.dead_rows, self.dead_bytes, self.dead_dropped = (self.dead_rows + rows, self.dead_bytes + size,
                                                                  self.dead_dropped + dropped)
            self.outbox_added += self._outbox_in_tx
            self._outbox_next = max(self._outbox_next, self._outbox_next_tx)
            self.cloud_added += self._cloud_in_tx
            self.cloud_alarm_id = max(self.cloud_alarm_id, self._cloud_alarm_in_tx)
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: {exc}") from exc

    def _forget_pending(self) -> None:
        self._tools_tx.clear()
        self._outbox_tx.clear()
        self._cloud_tx.clear()
        self._cloud_alarm_at = -1

    def _flush(self) -> None:
        """Writes the rows the transaction kept back, just before its commit."""
        if self._tools_tx:
            self.conn.executemany(
                "INSERT OR REPLACE INTO tools (id, location, station, since, taken_at, washed, last_seen, pending, "
                "disinfected, late_sink, late_sink_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", self._tools_tx.values())
        if self._outbox_tx:
            # Ids given here, one past the newest ever given: SQLite's own (max(id) + 1) start again at 1 once the
            # drain has emptied the table, and the drain skips ids up to the last it shipped until their
            # delete has run (``WorkerDb.shipped``).
            first = max(self._outbox_next, self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox")
                        .fetchone()[0])
            self.conn.executemany("INSERT INTO outbox (id, keep, created, line) VALUES (?,?,?,?)",
                                  [(first + n, *row) for n, row in enumerate(self._outbox_tx)])
            self._outbox_next_tx = first + len(self._outbox_tx)
        if self._cloud_tx:
            self.conn.executemany("INSERT INTO cloud_outbox (created, item) VALUES (?,?)", self._cloud_tx)
            if self._cloud_alarm_at >= 0:
                # One executemany on one connection in a write transaction: its rows take consecutive ids.
                last = self.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
                self._cloud_alarm_in_tx = last - (len(self._cloud_tx) - 1 - self._cloud_alarm_at)
        self._forget_pending()

    # -- events -------------------------------------------------------------

    def insert_event(self, station: str, boot: str, seq: int, ts: int, station_ts: int, received_at: int,
                     tag: str, action: str, tool: str | None, payload: bytes) -> int | None:
        """The new row's id, or None when (station, boot, seq) is already stored."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO events (station, boot, seq, ts, station_ts, received_at, tag, action, "
            "tool, payload) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (station, boot, seq, ts, station_ts, received_at, tag, action, tool, payload))
        return cur.lastrowid if cur.rowcount else None

    def newest_received_at(self) -> int | None:
        """When the newest stored event was received (ms, gateway clock); None without any."""
        row = self.conn.execute("SELECT received_at FROM events ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def stored_payload(self, station: str, boot: str, seq: int) -> bytes | None:
        row = self.conn.execute("SELECT payload FROM events WHERE station=? AND boot=? AND seq=?",
                                (station, boot, seq)).fetchone()
        return bytes(row[0]) if row else None

    def clock_mark(self, station: str, tolerance_ms: int) -> int | None:
        """The newest event time of ``station`` that was its own clock's (``model/station_clock.py``): counted at
        the station's ts, or at the receive time when that ts was at most ``tolerance_ms`` ahead of it."""
        row = self.conn.execute("SELECT MAX(ts) FROM events WHERE station = ? AND station_ts BETWEEN ts AND ts + ?",
                                (station, tolerance_ms)).fetchone()
        return row[0]

    def tools_at(self, station: str, start: int, end: int) -> tuple[str, ...]:
        """The tools whose last event at ``station`` at or before ``start`` placed them there, and that were not
        removed from it before ``end``: the tools in a cycle."""
        rows = self.conn.execute(
            "SELECT DISTINCT e.tool FROM events e WHERE e.station = ?1 AND e.tool IS NOT NULL AND e.ts <= ?2 "
            "AND e.action = 'placed' AND e.id = (SELECT id FROM events WHERE station = ?1 AND tool = e.tool "
            "AND ts <= ?2 ORDER BY ts DESC, id DESC LIMIT 1) AND NOT EXISTS (SELECT 1 FROM events WHERE "
            "station = ?1 AND tool = e.tool AND action = 'removed' AND ts > ?2 AND ts < ?3) ORDER BY e.tool",
            (station, start, end))
        return tuple(row[0] for row in rows)

    def newest_unknown_reads(self, tags: tuple[str, ...]) -> dict[str, tuple[str, str, int]]:
        """Per tag, the newest event recorded while no tool had it: (station, action, ts)."""
        out = {}
        for chunk in range(0, len(tags), 500):
            part = tags[chunk:chunk + 500]
            for row in self.conn.execute(  # SQLite: the bare columns come from the row with max(ts)
                    f"SELECT tag, station, action, max(ts) FROM events WHERE tool IS NULL AND tag IN "
                    f"({','.join('?' * len(part))}) GROUP BY tag", part):
                out[row[0]] = (row[1], row[2], row[3])
        return out

    def insert_cycle(self, cycle: Cycle, verdict: Verdict, tools: tuple[str, ...], received_at: int,
                     payload: bytes) -> bool:
        """False when (station, boot, seq) is already stored."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO cycles (station, boot, seq, ts, start, interval_s, received_at, method, temp_c, "
            "hold_required, max_temp_dc, hold_seconds, hold_start, hold_end, passed, tools, payload) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (cycle.station, cycle.boot, cycle.seq, cycle.ts, cycle.start, cycle.interval_s, received_at,
             verdict.method, verdict.threshold.temp_c, verdict.threshold.hold_seconds, verdict.max_temp_dc,
             verdict.hold_seconds, verdict.hold_start, verdict.hold_end, int(verdict.passed),
             strict_json.dumps(list(tools)), payload))
        return bool(cur.rowcount)

    def stored_cycle(self, station: str, boot: str, seq: int) -> bytes | None:
        row = self.conn.execute("SELECT payload FROM cycles WHERE station=? AND boot=? AND seq=?",
                                (station, boot, seq)).fetchone()
        return bytes(row[0]) if row else None

    def coverage_ms(self, day_start: int) -> int:
        row = self.conn.execute("SELECT covered_ms FROM coverage_days WHERE day_start = ?", (day_start,)).fetchone()
        return row[0] if row else 0

    def save_coverage(self, day_start: int, covered_ms: int, now: int) -> None:
        self.conn.execute("INSERT INTO coverage_days VALUES (?,?,?) ON CONFLICT (day_start) DO UPDATE SET "
                          "covered_ms = excluded.covered_ms, updated_at = excluded.updated_at",
                          (day_start, covered_ms, now))

    def annotate_event(self, event_id: int, late: bool, note: str | None) -> None:
        self.conn.execute("UPDATE events SET late=?, note=? WHERE id=?", (int(late), note, event_id))

    def dead_letter(self, received_at: int, topic: str, payload: bytes, reason: str, detail: str) -> None:
        """Keep a rejected message; past the bound the oldest go (counted in ``meta.dead_letters_dropped``),
        a tenth of the bound at a time, so a flood of junk costs one delete per many inserts."""
        self.conn.execute("INSERT INTO dead_letters (received_at, topic, payload, reason, detail) "
                          "VALUES (?,?,?,?,?)", (received_at, topic, payload, reason, detail))
        rows, size, dropped = self._dead_tx
        rows, size = rows + 1, size + len(topic.encode()) + len(payload) + len(detail.encode())
        bound = self.dead_bound
        if self.dead_rows + rows > bound.max_rows or self.dead_bytes + size > bound.max_bytes:
            keep_rows, keep_bytes = bound.max_rows * 9 // 10, bound.max_bytes * 9 // 10
            total_rows, total_bytes, last = self.dead_rows + rows, self.dead_bytes + size, None
            oldest = self.conn.execute(f"SELECT id, {_DEAD_SIZE} FROM dead_letters ORDER BY id")
            for row_id, row_size in oldest:
                if total_rows <= keep_rows and total_bytes <= keep_bytes:
                    break
                total_rows, total_bytes, last = total_rows - 1, total_bytes - row_size, row_id
            oldest.close()
            gone = self.conn.execute("DELETE FROM dead_letters WHERE id <= ?", (last,)).rowcount
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('dead_letters_dropped', ?) ON CONFLICT (key) "
                              "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value", (gone,))
            rows, size, dropped = total_rows - self.dead_rows, total_bytes - self.dead_bytes, dropped + gone
        self._dead_tx = (rows, size, dropped)

    # -- the regulator's grade ------------------------------------------------

    def newest_grade_seq(self, workshop: str) -> tuple[int, str, str, int] | None:
        """``(seq, grade, effective, issued_at)`` of the newest verified grade statement about ``workshop``
        (a data directory reused for another workshop keeps the first one's statements: never this one's)."""
        row = self.conn.execute("SELECT seq, grade, effective, issued_at FROM grade_statements WHERE workshop = ? "
                                "ORDER BY seq DESC LIMIT 1", (workshop,)).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def save_grade_statement(self, *, seq: int, workshop: str, grade: str, effective: str, issued_at: int,
                             received_at: int, statement: str) -> None:
        """A statement the caller verified (signature, workshop, newer than the newest kept)."""
        self.conn.execute("INSERT INTO grade_statements (seq, workshop, grade, effective, issued_at, received_at, "
                          "statement) VALUES (?,?,?,?,?,?,?)",
                          (seq, workshop, grade, effective, issued_at, received_at, statement))

    def confirm_grade_statement(self, *, seq: int, issued_at: int, received_at: int, statement: str) -> None:
        """The kept statement ``seq``, signed again later by the cloud (same grade, same date): its newer copy
        replaces it, so ``issued_at`` says when the cloud last confirmed the grade (the display's freshness)."""
        self.conn.execute("UPDATE grade_statements SET issued_at = ?, received_at = ?, statement = ? "
                          "WHERE seq = ? AND issued_at < ?", (issued_at, received_at, statement, seq, issued_at))

    # -- tools and stations ---------------------------------------------------

    def save_tool(self, s: ToolState) -> None:
        """Written once per transaction, with the tool's newest state, at its commit."""
        pending = strict_json.dumps([asdict(c) for c in s.pending]) if s.pending else "[]"
        self._tools_tx[s.tool] = (s.tool, s.location.value, s.station, s.since, s.taken_at, int(s.washed),
                                  s.last_seen, pending, int(s.disinfected), s.late_sink, s.late_sink_at)

    def load_tools(self, colors: dict[str, str]) -> dict[str, ToolState]:
        out = {}
        for row in self.conn.execute("SELECT * FROM tools"):
            if row["id"] not in colors:
                continue  # a tool removed from the config
            out[row["id"]] = ToolState(
                tool=row["id"], color=colors[row["id"]], location=Location(row["location"]),
                station=row["station"], since=row["since"], taken_at=row["taken_at"],
                washed=bool(row["washed"]), last_seen=row["last_seen"],
                pending=tuple(WashCheck(**c) for c in strict_json.loads(row["pending"])),
                disinfected=bool(row["disinfected"]), late_sink=row["late_sink"], late_sink_at=row["late_sink_at"])
        return out

    def save_station(self, s: StationState) -> None:
        self.conn.execute("INSERT OR REPLACE INTO stations VALUES (?,?,?,?,?,?)",
                          (s.id, int(s.online), s.last_seen, s.buffer_depth, s.health_json, int(s.alarmed)))

    def load_stations(self) -> dict[str, StationState]:
        return {row["id"]: StationState(id=row["id"], online=bool(row["online"]), last_seen=row["last_seen"],
                                        buffer_depth=row["buffer_depth"], health_json=row["health"],
                                        alarmed=bool(row["alarmed"]))
                for row in self.conn.execute("SELECT * FROM stations")}

    def record_boot(self, station: str, boot: Boot, keep_ms: int) -> None:
        """A station's new boot; its boots older than ``keep_ms`` go (the newest always stays)."""
        self.conn.execute("DELETE FROM station_boots WHERE station = ? AND seen_at < ?", (station, boot.at - keep_ms))
        self.conn.execute("INSERT OR REPLACE INTO station_boots VALUES (?,?,?,?,?)",
                          (station, boot.boot, boot.at, boot.cause, boot.fw))

    def load_boots(self, since: int) -> dict[str, ResetWatch]:
        """Per station: its boots seen since ``since`` and its newest boot id (model/station_health.py)."""
        out: dict[str, list[Boot]] = {}
        last: dict[str, str] = {}
        for row in self.conn.execute("SELECT station, boot, seen_at, reset_cause, fw FROM station_boots "
                                     "ORDER BY seen_at, rowid"):
            last[row[0]] = row[1]
            if row[2] >= since:
                out.setdefault(row[0], []).append(Boot(boot=row[1], at=row[2], cause=row[3], fw=row[4]))
        return {sid: watch_from(out.get(sid, []), boot) for sid, boot in last.items()}

    # -- alarms -----------------------------------------------------------------

    def next_alarm_id(self) -> int:
        return (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM alarms").fetchone()[0]) + 1

    def save_alarm(self, alarm: Alarm, entry: HistoryEntry) -> int:
        """Saves the alarm and appends its history entry; returns the entry's id."""
        values = alarm_row(alarm)
        self.conn.execute(_SAVE_ALARM, values)
        cur = self.conn.execute("INSERT INTO alarm_history (alarm_id, at, action, state, acked, by, comment) "
                                "VALUES (?,?,?,?,?,?,?)", (entry.alarm_id, entry.at, entry.action, entry.state,
                                                           int(entry.acked), entry.by, entry.comment))
        return cur.lastrowid

    # -- outbox ---------------------------------------------------------------------

    def outbox_add(self, keep: bool, created: int, line: str) -> None:
        """Written, in order, at the transaction's commit."""
        self._outbox_tx.append((keep, created, line))
        self._outbox_in_tx += 1

    def cloud_add(self, created: int, item: str, alarm: bool = False) -> None:
        """``alarm``: the item is an alarm transition (the push worker sends it without lingering).
        Written, in order, at the transaction's commit."""
        if alarm:
            self._cloud_alarm_at = len(self._cloud_tx)
        self._cloud_tx.append((created, item))
        self._cloud_in_tx += 1

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                          "excluded.value", (key, value))

    def load_active_alarms(self) -> dict[tuple[str, str], Alarm]:
        rows = self.conn.execute(f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE state='active'")
        return {(a.type, a.subject): a for a in (alarm_from_row(r) for r in rows)}

    def load_alarm(self, alarm_id: int) -> Alarm | None:
        row = self.conn.execute(f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE id=?",
                                (alarm_id,)).fetchone()
        return alarm_from_row(row) if row else None


CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def check_intact(path: Path) -> None:
    """Raises :class:`StoreError` naming ``path`` and the way to recover when the database is damaged."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        conn = connect(path, readonly=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except StoreError as exc:
        cause = exc.__cause__
        if isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode in CORRUPT_CODES:
            raise damaged(path, str(cause)) from cause
        raise
    except sqlite3.Error as exc:
        if exc.sqlite_errorcode in CORRUPT_CODES:
            raise damaged(path, str(exc)) from exc
        raise StoreError(f"{path}: cannot check the store: {exc}") from exc
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))


def damaged(path: Path, detail: str) -> StoreError:
    detail = " ".join(detail.split())  # one line, whatever SQLite said
    recovered = path.with_name("recovered.sqlite3")
    return StoreError(
        f"{path}: 数据库已损坏，网关不会写入它；请保留原文件（连同 -wal、-shm）作为证据，复制整个数据目录后"
        f"用 sqlite3 恢复 / the database is damaged ({detail[:300]}); the gateway will not write to it. Keep the "
        f"file (with its -wal and -shm) as evidence: copy the data dir, then recover with "
        f"`sqlite3 {path} .recover | sqlite3 {recovered}`, move the damaged files aside and rename "
        f"{recovered.name} to {path.name}")


def alarm_row(alarm: Alarm) -> tuple[object, ...]:
    # getattr, not dataclasses.asdict: asdict deep-copies every field, a fifth of an alarm's cost
    return tuple(int(v) if isinstance(v := getattr(alarm, c), bool) else v for c in ALARM_COLUMNS)


def alarm_from_row(row: sqlite3.Row) -> Alarm:
    d = dict(zip(ALARM_COLUMNS, row))
    d["acked"], d["late"] = bool(d["acked"]), bool(d["late"])
    return Alarm(**d)
