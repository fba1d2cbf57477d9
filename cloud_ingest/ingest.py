"""Storing one validated batch: whole or not at all, and never twice.

Every fact is inserted with "insert or ignore" on its idempotency key
(``ON CONFLICT DO NOTHING``, which SQLite and PostgreSQL both speak), so a
replayed batch or a retried item changes nothing. The batch id itself is
recorded: the same id with another body is refused (409), the same id with
the same body is answered as before without touching anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import db, evidence, influx_outbox
from .batch import AlarmItem, Batch, EventItem, StatusItem
from .errors import Conflict, Forbidden
from .schema import alarm_transitions, alarms, events, ingest_batches, station_status


@dataclass(frozen=True)
class IngestResult:
    items: int
    accepted: int  # new facts stored
    duplicates: int  # facts already stored (replays, retries)
    replayed_batch: bool = False

    def json(self) -> dict:
        return {"items": self.items, "accepted": self.accepted, "duplicates": self.duplicates,
                "replayed_batch": self.replayed_batch}


def store_batch(engine: Engine, batch: Batch, token_workshop: str, now: int) -> IngestResult:
    if batch.workshop != token_workshop:
        raise Forbidden("此令牌不能写入该作坊", f"workshop: this token writes only workshop {token_workshop!r}, "
                                          f"not {batch.workshop!r}")
    with db.write(engine) as conn:
        claimed = _insert_ignore(conn, ingest_batches, [{
            "workshop_id": batch.workshop, "batch": batch.batch, "digest": batch.digest, "received_at": now,
            "items": len(batch.items), "accepted": 0}], ("workshop_id", "batch"))
        if not claimed:
            before = conn.execute(select(ingest_batches).where(
                ingest_batches.c.workshop_id == batch.workshop, ingest_batches.c.batch == batch.batch)).one()
            if before.digest != batch.digest:
                raise Conflict("批次编号已用于其他内容", f"batch: {batch.batch!r} was already used for a different body")
            return IngestResult(len(batch.items), 0, len(batch.items), replayed_batch=True)
        accepted = _store_items(conn, batch, now)
        influx_outbox.add(conn, batch.workshop, batch, now)  # the central InfluxDB's points, same transaction
        conn.execute(update(ingest_batches).where(ingest_batches.c.id == claimed[0]).values(accepted=accepted))
    return IngestResult(len(batch.items), accepted, len(batch.items) - accepted)


def _store_items(conn: Connection, batch: Batch, now: int) -> int:
    ws = batch.workshop
    event_rows = [{"workshop_id": ws, "station": i.station, "boot": i.boot, "seq": i.seq, "ts": i.ts, "tag": i.tag,
                   "action": i.action, "tool": i.tool, "note": i.note, "received_at": now}
                  for i in batch.items if isinstance(i, EventItem)]
    status_rows = [{"workshop_id": ws, "station": i.station, "ts": i.ts, "online": i.online,
                    "buffer_depth": i.buffer_depth, "health": i.health, "received_at": now}
                   for i in batch.items if isinstance(i, StatusItem)]
    accepted = len(_insert_ignore(conn, events, event_rows, ("workshop_id", "station", "boot", "seq")))
    accepted += len(_insert_ignore(conn, station_status, status_rows, ("workshop_id", "station", "ts")))
    for item in batch.items:
        if isinstance(item, AlarmItem):
            accepted += _store_alarm(conn, ws, item, now)
    return accepted


def _store_alarm(conn: Connection, ws: str, item: AlarmItem, now: int) -> int:
    new = _insert_ignore(conn, alarm_transitions, [{
        "workshop_id": ws, "gateway_alarm_id": item.alarm_id, "seq": item.seq, "at": item.at, "action": item.action,
        "state": item.state, "acked": item.acked, "by": item.by, "comment": item.comment, "received_at": now}],
        ("workshop_id", "gateway_alarm_id", "seq"))
    if not new:
        return 0
    picture = {"type": item.type, "severity": item.severity, "state": item.state, "acked": item.acked,
               "latched": item.latched, "count": item.count, "tool": item.tool, "tag": item.tag,
               "station": item.station, "ts": item.ts, "last_ts": item.last_ts, "raised_at": item.raised_at,
               "updated_at": item.updated_at, "late": item.late, "text_zh": item.text_zh,
               "text_en": item.text_en, "history_seq": item.seq}
    _insert_ignore(conn, alarms, [{"workshop_id": ws, "gateway_id": item.alarm_id, "review": "open", **picture}],
                   ("workshop_id", "gateway_id"))
    # transitions may arrive out of order (a retried older batch): the picture only moves forward
    conn.execute(update(alarms).where(alarms.c.workshop_id == ws, alarms.c.gateway_id == item.alarm_id,
                                      alarms.c.history_seq < item.seq).values(**picture))
    cloud_id = conn.execute(select(alarms.c.id).where(alarms.c.workshop_id == ws,
                                                      alarms.c.gateway_id == item.alarm_id)).scalar_one()
    evidence.append(conn, now, "alarm_transition", ws, cloud_id, {
        "gateway_alarm_id": item.alarm_id, "seq": item.seq, "at": item.at, "action": item.action,
        "state": item.state, "acked": item.acked, "by": item.by, "comment": item.comment, "type": item.type,
        "severity": item.severity, "tool": item.tool, "station": item.station, "ts": item.ts})
    return 1


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
                   key: tuple[str, ...]) -> list[int]:
    """Inserts the rows whose key is not there yet; returns the new rows' ids."""
    if not rows:
        return []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(key)).returning(table.c.id)
    return list(conn.execute(stmt, list(rows)).scalars())
