"""The inspectors' review: workshops, the alarm queue, one alarm's evidence, ack and clear.

The inspector's acknowledgement and clear are the inspector's own review of
an alarm (``review``: open → acknowledged → cleared) with the inspector's
notes; they never change the workshop's alarm state or its corrective actions,
which come only from the gateway. Every review step is also an entry of the
evidence log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, func, select, update

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, Conflict, NotFound, Unprocessable
from cloud_ingest.reports import compliance
from cloud_ingest.review import rectification
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    inspector_notes,
    trainings,
    users,
    workshops,
)
from sebiao_common.alarms import ALARM_TYPES, SEVERITIES

REVIEW_STATES = ("open", "acknowledged", "cleared")
MAX_NOTE = 2000
EVIDENCE_BEFORE_MS = 2 * 3600_000  # the tool's events up to 2 h before the alarm …
EVIDENCE_AFTER_MS = 600_000  # … and 10 min after its last change


@dataclass(frozen=True)
class AlarmFilter:
    severity: str | None = None
    type: str | None = None
    state: str | None = None  # the workshop's: active | cleared
    review: str | None = None  # the inspector's: open | acknowledged | cleared
    district: str | None = None
    since: int | None = None  # ``from``, ms, on the alarm's time
    until: int | None = None  # ``to``, ms, exclusive
    limit: int = 100

    def __post_init__(self) -> None:
        for name, value, options in (("severity", self.severity, SEVERITIES), ("type", self.type, ALARM_TYPES),
                                     ("state", self.state, ("active", "cleared")),
                                     ("review", self.review, REVIEW_STATES)):
            if value is not None and value not in options:
                raise BadRequest(name, f"必须是以下之一：{', '.join(options)}", f"must be one of: {', '.join(options)}")
        if not 1 <= self.limit <= 1000:
            raise BadRequest("limit", "必须在 1 到 1000 之间", "must be between 1 and 1000")

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "AlarmFilter":
        known = ("severity", "type", "state", "review", "district", "from", "to", "limit")
        for key in query:
            if key not in known:
                raise BadRequest(key, "未知参数", f"unknown parameter (known: {', '.join(known)})")
        return cls(query.get("severity"), query.get("type"), query.get("state"), query.get("review"),
                   query.get("district"), _ms(query, "from"), _ms(query, "to"),
                   _ms(query, "limit") if "limit" in query else 100)


def _ms(query: Mapping[str, str], key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(key, "必须是非负整数（毫秒时间戳）", "must be a whole number ≥ 0 (ms since the epoch)")
    return int(value)


def list_workshops(conn: Connection, who: Principal, now: int | None = None) -> list[dict]:
    """Scoped; given ``now`` (the end of their 30-day window), with each workshop's ``compliance`` figures."""
    open_alarms = (select(alarms.c.workshop_id, func.count().label("n")).where(alarms.c.state == "active")
                   .group_by(alarms.c.workshop_id).subquery())
    # the day of the newest staff training its gateway reported (六(五)); the names stay on the workshop's page
    trained = (select(trainings.c.workshop_id, func.max(trainings.c.day).label("day"))
               .group_by(trainings.c.workshop_id).subquery())
    rows = conn.execute(select(workshops, func.coalesce(open_alarms.c.n, 0).label("active_alarms"),
                               trained.c.day.label("last_training_day"))
                        .outerjoin(open_alarms, open_alarms.c.workshop_id == workshops.c.id)
                        .outerjoin(trained, trained.c.workshop_id == workshops.c.id)
                        .where(workshop_clause(who)).order_by(workshops.c.district_id, workshops.c.id)).all()
    base = [{"id": r.id, "name": r.name, "district": r.district_id, "active_alarms": r.active_alarms,
             "last_training_day": r.last_training_day} for r in rows]
    if now is None:
        return base
    figures = compliance.workshop_figures(conn, who, now)
    return [{**b, **figures.get(b["id"], compliance.Figures()).json(now - compliance.WINDOW_MS, now)} for b in base]


def _alarm_query(who: Principal):  # type: ignore[no-untyped-def]
    return (select(alarms, workshops.c.district_id).join(workshops, workshops.c.id == alarms.c.workshop_id)
            .where(workshop_clause(who)))


def list_alarms(conn: Connection, who: Principal, f: AlarmFilter) -> list[dict]:
    q = _alarm_query(who)
    for column, value in ((alarms.c.severity, f.severity), (alarms.c.type, f.type), (alarms.c.state, f.state),
                          (alarms.c.review, f.review), (workshops.c.district_id, f.district)):
        if value is not None:
            q = q.where(column == value)
    if f.since is not None:
        q = q.where(alarms.c.ts >= f.since)
    if f.until is not None:
        q = q.where(alarms.c.ts < f.until)
    return [alarm_json(r) for r in conn.execute(q.order_by(alarms.c.ts.desc(), alarms.c.id.desc()).limit(f.limit))]


def alarm_json(r) -> dict:  # type: ignore[no-untyped-def]
    return {"id": r.id, "workshop": r.workshop_id, "district": r.district_id, "gateway_id": r.gateway_id,
            "type": r.type, "severity": r.severity, "state": r.state, "acked": r.acked, "latched": r.latched,
            "count": r.count, "tool": r.tool, "tag": r.tag, "station": r.station, "ts": r.ts, "last_ts": r.last_ts,
            "raised_at": r.raised_at, "updated_at": r.updated_at, "late": r.late,
            "text": {"zh": r.text_zh, "en": r.text_en},
            "review": {"state": r.review, "at": r.reviewed_at},
            "number": f"{r.workshop_id} #{r.gateway_id}"}  # the number the owner sees on the console, made unique


def _visible_alarm(conn: Connection, who: Principal, alarm_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(_alarm_query(who).where(alarms.c.id == alarm_id)).first()
    if row is None:
        raise NotFound("告警不存在", f"alarm {alarm_id} does not exist")
    return row


def get_alarm(conn: Connection, who: Principal, alarm_id: int) -> dict:
    row = _visible_alarm(conn, who, alarm_id)
    out = alarm_json(row)
    out["workshop_actions"] = [
        {"seq": t.seq, "at": t.at, "action": t.action, "state": t.state, "acked": t.acked, "by": t.by,
         "comment": t.comment}
        for t in conn.execute(select(alarm_transitions).where(
            alarm_transitions.c.workshop_id == row.workshop_id,
            alarm_transitions.c.gateway_alarm_id == row.gateway_id).order_by(alarm_transitions.c.seq))]
    out["inspector_notes"] = [
        {"at": n.at, "action": n.action, "note": n.note, "by": n.username}
        for n in conn.execute(select(inspector_notes, users.c.username)
                              .join(users, users.c.id == inspector_notes.c.user_id)
                              .where(inspector_notes.c.alarm_id == row.id).order_by(inspector_notes.c.id))]
    out["rectifications"] = rectification.for_alarm(conn, who, row.id)
    subject = events.c.tool == row.tool if row.tool else events.c.station == row.station
    out["evidence"] = [
        {"ts": e.ts, "station": e.station, "action": e.action, "tool": e.tool, "tag": e.tag, "note": e.note}
        for e in conn.execute(select(events).where(
            events.c.workshop_id == row.workshop_id, subject,
            events.c.ts >= row.ts - EVIDENCE_BEFORE_MS,
            events.c.ts <= max(row.last_ts, row.ts) + EVIDENCE_AFTER_MS).order_by(events.c.ts, events.c.id).limit(500))]
    return out


def acknowledge(conn: Connection, who: Principal, alarm_id: int, note: str | None, now: int) -> dict:
    return _review(conn, who, alarm_id, "acknowledged", note, now)


def clear(conn: Connection, who: Principal, alarm_id: int, note: str | None, now: int) -> dict:
    if not note:
        raise Unprocessable("清除须填写检查意见", "note: clearing needs the inspector's note")
    return _review(conn, who, alarm_id, "cleared", note, now)


def _review(conn: Connection, who: Principal, alarm_id: int, to: str, note: str | None, now: int) -> dict:
    who.require("inspector", "admin")
    if note is not None and len(note) > MAX_NOTE:
        raise BadRequest("note", f"至多 {MAX_NOTE} 字符", f"at most {MAX_NOTE} characters")
    row = _visible_alarm(conn, who, alarm_id)
    if row.review == to or row.review == "cleared":
        raise Conflict("告警已处于该审核状态", f"alarm {alarm_id} is already {row.review} by an inspector")
    done = conn.execute(update(alarms).where(alarms.c.id == alarm_id, alarms.c.review == row.review)
                        .values(review=to, reviewed_by=who.user_id, reviewed_at=now))
    if done.rowcount != 1:  # another inspector got there first
        raise Conflict("告警刚被他人处理", f"alarm {alarm_id} was just reviewed by someone else")
    action = "ack" if to == "acknowledged" else "clear"
    stored = conn.execute(inspector_notes.insert().values(alarm_id=alarm_id, user_id=who.user_id, action=action,
                                                          note=note, at=now).returning(*inspector_notes.c)).one()
    evidence.append(conn, now, f"inspector_{action}", row.workshop_id, alarm_id,
                    {"by": who.username, "role": who.role, "note": note, "review": to,
                     "row": coverage.fact(inspector_notes, stored._mapping)})
    return get_alarm(conn, who, alarm_id)
