"""Storing one validated batch: whole or not at all, never twice, and only while its token is valid.

Every fact is inserted with "insert or ignore" on its idempotency key
(``ON CONFLICT DO NOTHING``, which SQLite and PostgreSQL both speak), so a
replayed batch or a retried item changes nothing. The batch id itself is
recorded: the same id with another body is refused (409), the same id with
the same body is answered as before without touching anything.

Each kind of fact goes in as one multi-row statement, not row by row: on
PostgreSQL the rows travel as one JSON parameter (``INSERT … SELECT … FROM
json_to_recordset(…)``: psycopg has one value to send instead of ten per
row, and no statement of thousands of placeholders to rewrite); on SQLite (in
process, no round trips) as an ``executemany``. A batch of 500 events is thus
a handful of round trips.

The ``stations`` table (one row per station: its kind and zone as the
gateway's status items give them, its newest status) is kept by one
multi-row upsert per batch, one row per station of the batch: ``ON CONFLICT
DO UPDATE … WHERE`` the stored status is older, so a late or retried batch
never moves a station back; kind and zone are only overwritten when given.

The batch's gateway signature is checked with the token's key before anything
is written, and the batch kept as signed (``signature``).

The batch's evidence entries are chained after its commit, many batches' at
once, on PostgreSQL (``store.sequencer``): the chain's lock, shared by all
workshops, is then not held through every batch's commit.

The gateway token is checked again inside the write transaction and its row
held (``FOR SHARE`` on PostgreSQL; SQLite has one writer at a time): a
revocation either commits first, and the batch is refused, or waits until the
batch is committed. A revoked token can never write after its revocation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    TextClause,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from cloud_ingest.access.auth import authenticate
from cloud_ingest.errors import BatchError, Conflict, Forbidden
from cloud_ingest.influx import outbox as influx_outbox
from cloud_ingest.ingest import signature
from cloud_ingest.ingest.signature import Signed
from cloud_ingest.notify import outbox as notify_outbox
from cloud_ingest.store import coverage, cycle_chain, db, evidence, sequencer
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    cycles,
    events,
    ingest_batches,
    setups,
    silenced_alarms,
    station_status,
    stations,
    trainings,
)
from cloud_ingest.wire.batch import (
    AlarmItem,
    Batch,
    CycleItem,
    EventItem,
    SetupItem,
    SilencedItem,
    StatusItem,
    TrainingItem,
)
from sebiao_common import strict_json

EVENT_KEY = ("workshop_id", "station", "boot", "seq")
STATUS_KEY = ("workshop_id", "station", "ts")
TRANSITION_KEY = ("workshop_id", "gateway_alarm_id", "seq")
ALARM_KEY = ("workshop_id", "gateway_id")
STATION_KEY = ("workshop_id", "station")
CYCLE_KEY = ("workshop_id", "station", "boot", "seq")
EVENT_COLUMNS = coverage.EVENT_COLUMNS
TRANSITION_COLUMNS = tuple(c.name for c in alarm_transitions.columns)
# the same text on SQLite and PostgreSQL: the newest status wins, kind and zone stay when a status lacks them
STATION_UPSERT = ("DO UPDATE SET last_ts = excluded.last_ts, online = excluded.online, "
                  "kind = COALESCE(excluded.kind, stations.kind), zone = COALESCE(excluded.zone, stations.zone) "
                  "WHERE excluded.last_ts IS NOT NULL "
                  "AND (stations.last_ts IS NULL OR stations.last_ts < excluded.last_ts)")


@dataclass(frozen=True)
class IngestResult:
    items: int
    accepted: int  # new facts stored
    duplicates: int  # facts already stored (replays, retries)
    replayed_batch: bool = False

    def json(self) -> dict:
        return {"items": self.items, "accepted": self.accepted, "duplicates": self.duplicates,
                "replayed_batch": self.replayed_batch}


def store_batch(engine: Engine, batch: Batch, secret: str, now: int, signed: Signed,
                chained: Callable[[Sequence[int]], None] | None = None) -> IngestResult:
    """Stores the batch for the gateway token ``secret``, checked in the same transaction, and its signature
    with the token's key (``signature.check``) before anything is written. ``chained``: waits until the staged
    entries are in the chain (a worker's ``sequencer.Sequencer``); else this call chains them itself."""
    with db.write(engine) as conn:
        who = authenticate(conn, secret, now=now, lock=True).require("gateway")
        if batch.workshop != who.workshop:
            raise Forbidden("此令牌不能写入该作坊", f"workshop: this token writes only workshop {who.workshop!r}, "
                                              f"not {batch.workshop!r}")
        checked = signature.check(who, batch, signed)
        claimed = _insert_ignore(conn, ingest_batches, [{
            "workshop_id": batch.workshop, "batch": batch.batch, "digest": batch.digest, "received_at": now,
            "items": len(batch.items), "accepted": 0}], ("workshop_id", "batch"), returning=("id",))
        if not claimed:
            before = conn.execute(select(ingest_batches).where(
                ingest_batches.c.workshop_id == batch.workshop, ingest_batches.c.batch == batch.batch)).one()
            if before.digest != batch.digest:
                raise Conflict("批次编号已用于其他内容", f"batch: {batch.batch!r} was already used for a different body")
            return IngestResult(len(batch.items), 0, len(batch.items), replayed_batch=True)
        signature.keep(conn, batch, signed, checked, now)
        accepted, entries = _store_items(conn, batch, now, checked.evidence(batch))
        influx_outbox.add(conn, batch.workshop, batch, now)  # the central InfluxDB's points, same transaction
        # the district office's critical alarms, same transaction: queued exactly when stored, never twice
        notify_outbox.add_alarms(conn, batch.workshop, [(e.alarm_id, e.body) for e in entries
                                                        if e.kind == "alarm_transition"], now)
        conn.execute(update(ingest_batches).where(ingest_batches.c.id == claimed[0][0]).values(accepted=accepted))
        staged: list[int] = []
        if sequencer.staged(conn):  # chained after the commit, with other batches' (store/sequencer.py)
            staged = sequencer.stage(conn, now, entries)
        else:  # last, so that the chain's lock (one for all workshops) is held only until the commit that follows
            evidence.append_many(conn, now, entries)
    if chained is not None:  # answered only once its entries are in the chain
        chained(staged)
    else:
        sequencer.chain(engine, staged)
    return IngestResult(len(batch.items), accepted, len(batch.items) - accepted)


def _store_items(conn: Connection, batch: Batch, now: int,
                 signed: dict[str, Any]) -> tuple[int, list[evidence.Entry]]:
    """Inserts the facts; returns how many were new and the evidence entries of the new events and
    transitions, each carrying the batch's signature (``signed``)."""
    ws = batch.workshop
    # sorted by key: two transactions inserting overlapping keys lock them in the same order (no deadlock)
    event_rows = sorted(({"workshop_id": ws, "station": i.station, "boot": i.boot, "seq": i.seq, "ts": i.ts,
                          "tag": i.tag, "action": i.action, "tool": i.tool, "note": i.note, "received_at": now}
                         for i in batch.items if isinstance(i, EventItem)),
                        key=lambda r: (r["station"], r["boot"], r["seq"]))
    status_rows = sorted(({"workshop_id": ws, "station": i.station, "ts": i.ts, "online": i.online,
                           "buffer_depth": i.buffer_depth, "health": i.health, "received_at": now}
                          for i in batch.items if isinstance(i, StatusItem)),
                         key=lambda r: (r["station"], r["ts"]))
    # the new events come back whole, so that the chain holds what was stored (coverage.events_body)
    stored = _insert_ignore(conn, events, event_rows, EVENT_KEY, returning=EVENT_COLUMNS)
    cycle_rows = sorted(({"workshop_id": ws, "station": i.station, "boot": i.boot, "seq": i.seq, "start": i.start,
                          "ts": i.ts, "method": i.method, "temp_c": i.temp_c, "hold_required_s": i.hold_required_s,
                          "max_temp_dc": i.max_temp_dc, "hold_s": i.hold_s, "passed": i.passed,
                          "tools": strict_json.dumps(list(i.tools), separators=(",", ":")), "received_at": now}
                         for i in batch.items if isinstance(i, CycleItem)),
                        key=lambda r: (r["station"], r["boot"], r["seq"]))
    # the new cycles come back whole too, for their own entry (cycle_chain.body)
    new_cycles = _insert_ignore(conn, cycles, cycle_rows, CYCLE_KEY, returning=cycle_chain.COLUMNS)
    accepted = len(stored) + _insert_ignore(conn, station_status, status_rows, STATUS_KEY) + len(new_cycles)
    _upsert_stations(conn, _station_rows(ws, batch.items, now))
    transitions = _store_alarms(conn, ws, [i for i in batch.items if isinstance(i, AlarmItem)], now, signed)
    batch_events = [evidence.Entry("events", ws, None, {**coverage.events_body(stored), "signed": signed})
                    ] if stored else []
    setup_entries = _store_setups(conn, ws, batch.items, now) + _store_trainings(conn, ws, batch.items, now, signed)
    batch_cycles = [evidence.Entry(cycle_chain.KIND, ws, None, {**cycle_chain.body(new_cycles), "signed": signed})
                    ] if new_cycles else []
    return (accepted + len(transitions) + len(setup_entries),
            batch_events + batch_cycles + transitions + setup_entries)


def _store_setups(conn: Connection, ws: str, items: Sequence[object], now: int) -> list[evidence.Entry]:
    """The new setup versions and silenced alarms, each with its evidence entry holding the stored row."""
    _refuse_other_setups(conn, ws, items)
    entries = []
    for table, kind, rows, key in (
            (setups, "setup", [{"workshop_id": ws, "version": i.version, "at": i.at, "hash": i.hash,
                                "setup": i.setup, "received_at": now}
                               for i in items if isinstance(i, SetupItem)], ("workshop_id", "version")),
            (silenced_alarms, "silenced", [{
                "workshop_id": ws, "type": i.type, "severity": i.severity, "subject": i.subject, "tool": i.tool,
                "tag": i.tag, "station": i.station, "ts": i.ts, "late": i.late, "text_zh": i.text_zh,
                "text_en": i.text_en, "exception": i.exception, "setup_version": i.setup_version,
                "received_at": now} for i in items if isinstance(i, SilencedItem)],
             ("workshop_id", "type", "subject", "ts"))):
        if not rows:
            continue
        columns = tuple(c.name for c in table.columns)
        # one item repeated within the batch is one row; sorted by key against deadlocks
        unique = sorted({tuple(r[k] for k in key): r for r in rows}.values(), key=lambda r: tuple(r[k] for k in key))
        for stored in _insert_ignore(conn, table, unique, key, returning=columns):
            row = coverage.fact(table, dict(zip(columns, stored)))
            entries.append(evidence.Entry(kind, ws, None, {"row": row}))
    entries.sort(key=lambda e: (e.kind != "setup", e.body["row"]["id"]))
    return entries


def _store_trainings(conn: Connection, ws: str, items: Sequence[object], now: int,
                     signed: dict[str, Any]) -> list[evidence.Entry]:
    """The new training records, each with its evidence entry carrying the batch's signature; one already stored
    under the same gateway id with other content is refused naming the item, as a setup version is (the gateway's
    store was replaced)."""
    given = {i.id: (n, i) for n, i in enumerate(items) if isinstance(i, TrainingItem)}
    if not given:
        return []
    for row in conn.execute(select(trainings).where(trainings.c.workshop_id == ws,
                                                    trainings.c.gateway_id.in_(sorted(given)))):
        index, item = given[row.gateway_id]
        if (row.day, row.who, row.topic, row.trainer, row.recorded_at) != (
                item.day, item.who, item.topic, item.by, item.recorded_at):
            raise BatchError(f"items[{index}].id", f"培训记录 {item.id} 已存有另一份内容：网关的数据目录被替换了吗？"
                             "请恢复原数据目录", f"training record {item.id} is already stored with other content: "
                             "was the gateway's data dir replaced? Restore it (docs/cloud-ingest.md)")
    rows = [{"workshop_id": ws, "gateway_id": i.id, "day": i.day, "who": i.who, "topic": i.topic, "trainer": i.by,
             "recorded_at": i.recorded_at, "received_at": now} for _, (_, i) in sorted(given.items())]
    columns = tuple(c.name for c in trainings.columns)
    stored = _insert_ignore(conn, trainings, rows, ("workshop_id", "gateway_id"), returning=columns)
    return [evidence.Entry("training", ws, None, {"row": coverage.fact(trainings, dict(zip(columns, r))),
                                                  "signed": signed})
            for r in sorted(stored, key=lambda r: r[0])]


def _refuse_other_setups(conn: Connection, ws: str, items: Sequence[object]) -> None:
    """A setup version already stored with another hash is refused, naming the item: the gateway's store was
    replaced (its versions start again at 1), and storing nothing for it would hide the setup it runs."""
    given = {i.version: (n, i.hash) for n, i in enumerate(items) if isinstance(i, SetupItem)}
    if not given:
        return
    for version, digest in conn.execute(select(setups.c.version, setups.c.hash).where(
            setups.c.workshop_id == ws, setups.c.version.in_(sorted(given)))):
        index, sent = given[version]
        if sent != digest:
            raise BatchError(f"items[{index}].version", f"版本 {version} 已存有另一份配置：网关的数据目录被替换了吗？"
                             "请恢复原数据目录", f"version {version} is already stored with another setup: was the "
                             "gateway's data dir replaced? Restore it (docs/cloud-ingest.md)")


def _station_rows(ws: str, items: Sequence[object], now: int) -> list[dict[str, Any]]:
    """One row per station of the batch, sorted: its newest status in the batch, or, for a station with only
    events, a row whose kind, zone and status are unknown (it then only creates the station's row)."""
    rows: dict[str, dict[str, Any]] = {}
    for i in items:
        if isinstance(i, StatusItem):
            held = rows.get(i.station)
            if held is None or held["last_ts"] is None or i.ts > held["last_ts"]:
                rows[i.station] = {"workshop_id": ws, "station": i.station, "kind": i.station_kind, "zone": i.zone,
                                   "first_seen": now, "last_ts": i.ts, "online": i.online}
        elif isinstance(i, (EventItem, CycleItem)) and i.station not in rows:
            rows[i.station] = {"workshop_id": ws, "station": i.station,
                               "kind": i.station_kind if isinstance(i, CycleItem) else None, "zone": None,
                               "first_seen": now, "last_ts": None, "online": None}
    return [rows[station] for station in sorted(rows)]


def _upsert_stations(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One statement for the batch's stations (PostgreSQL refuses to touch a row twice in one upsert: hence one
    row per station); sorted by key like the facts, against deadlocks."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_recordset_insert(stations, tuple(rows[0]), STATION_KEY, (), STATION_UPSERT),
                     {"rows": strict_json.dumps(rows, separators=(",", ":"))})
        return
    stmt = sqlite.insert(stations)
    newer = and_(stmt.excluded.last_ts.is_not(None),
                 or_(stations.c.last_ts.is_(None), stations.c.last_ts < stmt.excluded.last_ts))
    conn.execute(stmt.on_conflict_do_update(index_elements=list(STATION_KEY), where=newer, set_={
        "last_ts": stmt.excluded.last_ts, "online": stmt.excluded.online,
        "kind": func.coalesce(stmt.excluded.kind, stations.c.kind),
        "zone": func.coalesce(stmt.excluded.zone, stations.c.zone)}), rows)


def _store_alarms(conn: Connection, ws: str, items: list[AlarmItem], now: int,
                  signed: dict[str, Any]) -> list[evidence.Entry]:
    """The new transitions go into the history, move their alarm's picture forward and into the evidence chain."""
    if not items:
        return []
    stored = {(row["gateway_alarm_id"], row["seq"]): row for row in (
        coverage.fact(alarm_transitions, dict(zip(TRANSITION_COLUMNS, r))) for r in _insert_ignore(
            conn, alarm_transitions, sorted((
                {"workshop_id": ws, "gateway_alarm_id": i.alarm_id, "seq": i.seq, "at": i.at, "action": i.action,
                 "state": i.state, "acked": i.acked, "by": i.by, "comment": i.comment, "received_at": now}
                for i in items), key=lambda r: (r["gateway_alarm_id"], r["seq"])), TRANSITION_KEY,
            returning=TRANSITION_COLUMNS))}
    fresh: dict[tuple[int, int], AlarmItem] = {}  # in batch order; an item repeated in the batch counts once
    for item in items:
        if (item.alarm_id, item.seq) in stored:
            fresh.setdefault((item.alarm_id, item.seq), item)
    if not fresh:
        return []
    newest: dict[int, AlarmItem] = {}
    for item in fresh.values():
        if item.alarm_id not in newest or item.seq > newest[item.alarm_id].seq:
            newest[item.alarm_id] = item
    created = {row[0] for row in _insert_ignore(conn, alarms, [
        {"workshop_id": ws, "gateway_id": i.alarm_id, "review": "open", **_picture(i)}
        for i in sorted(newest.values(), key=lambda i: i.alarm_id)], ALARM_KEY, returning=("gateway_id",))}
    for item in newest.values():
        if item.alarm_id not in created:
            # transitions may arrive out of order (a retried older batch): the picture only moves forward
            conn.execute(update(alarms).where(alarms.c.workshop_id == ws, alarms.c.gateway_id == item.alarm_id,
                                              alarms.c.history_seq < item.seq).values(**_picture(item)))
    cloud_ids = dict(conn.execute(select(alarms.c.gateway_id, alarms.c.id).where(
        alarms.c.workshop_id == ws, alarms.c.gateway_id.in_(sorted(newest)))).all())
    return [evidence.Entry("alarm_transition", ws, cloud_ids[i.alarm_id], {
        "gateway_alarm_id": i.alarm_id, "seq": i.seq, "at": i.at, "action": i.action, "state": i.state,
        "acked": i.acked, "by": i.by, "comment": i.comment, "type": i.type, "severity": i.severity,
        "tool": i.tool, "station": i.station, "ts": i.ts, "row": stored[(i.alarm_id, i.seq)],
        "alarm": coverage.picture(_picture(i)), "signed": signed}) for i in fresh.values()]


def _picture(i: AlarmItem) -> dict[str, Any]:
    return {"type": i.type, "severity": i.severity, "state": i.state, "acked": i.acked, "latched": i.latched,
            "count": i.count, "tool": i.tool, "tag": i.tag, "station": i.station, "ts": i.ts,
            "last_ts": i.last_ts, "raised_at": i.raised_at, "updated_at": i.updated_at, "late": i.late,
            "text_zh": i.text_zh, "text_en": i.text_en, "history_seq": i.seq}


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: tuple[str, ...],
                   returning: tuple[str, ...] = ()) -> Any:
    """Inserts the rows whose key is not there yet, in one statement. Returns how many were new, or,
    with ``returning``, those columns of the new rows (a list of tuples)."""
    if not rows:
        return [] if returning else 0
    if conn.dialect.name == "postgresql":
        result = conn.execute(_recordset_insert(table, tuple(rows[0]), key, returning),
                              {"rows": strict_json.dumps(rows, separators=(",", ":"))})
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(key))
        if returning:
            stmt = stmt.returning(*(table.c[c] for c in returning))
        result = conn.execute(stmt, list(rows))
    return [tuple(row) for row in result] if returning else result.rowcount


@lru_cache(maxsize=64)
def _recordset_insert(table: Table, columns: tuple[str, ...], key: tuple[str, ...],
                      returning: tuple[str, ...], action: str = "DO NOTHING") -> TextClause:
    """``INSERT … SELECT … FROM json_to_recordset(:rows) … ON CONFLICT (key) DO NOTHING`` (or ``action``): the
    rows travel as one JSON text (the driver then has one parameter to send, not one per value), PostgreSQL
    unpacks them."""
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    shape = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=dialect)}" for c in columns)
    sql = (f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM json_to_recordset(CAST(:rows AS json)) "
           f"AS r({shape}) ON CONFLICT ({', '.join(quote(c) for c in key)}) {action}")
    if returning:
        sql += " RETURNING " + ", ".join(quote(c) for c in returning)
    return text(sql)
