"""Remote rectification (远程整改): the inspector asks, the workshop answers, the inspector decides.

An inspector (or admin) asks a workshop for a rectification of one of its
alarms; the workshop's owner answers with its corrective action (整改措施);
the inspector accepts it (通过) or sends it back (退回) with a note, and the
owner answers again::

    requested ──answer──▶ answered ──accept──▶ accepted (closed)
                              │  ▲
                        return│  │answer
                              ▼  │
                            returned

``next_state`` is that machine as a pure function. Only the owner of the
workshop answers (an admin may not answer on its behalf); request, accept and
return are for admins and the inspectors of the workshop's district. An alarm
has at most one open rectification (the database's unique ``open_alarm_id``
holds it even against two inspectors at once). Every step is a row of
``rectification_steps`` and an entry of the evidence log, in the same
transaction.

A rectification is also its alarm's item of the issue ledger (``ledger``):
the request makes the ``ledger_items`` row (source ``alarm``) with its own
evidence entry (``ledger_item``); the item's text, deadline, state and steps
are the rectification's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from sqlalchemy import Connection, select, update

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, Conflict, NotFound, Unprocessable
from cloud_ingest.review import steps
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import (
    RECTIFICATION_STATES,
    alarms,
    ledger_items,
    rectification_steps,
    rectifications,
    users,
    workshops,
)

MAX_TEXT = 2000
OPEN_STATES = ("requested", "answered", "returned")

# (state before, action) -> state after; ``None`` is "no rectification yet"
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, "request"): "requested",
    ("requested", "answer"): "answered",
    ("returned", "answer"): "answered",
    ("answered", "accept"): "accepted",
    ("answered", "return"): "returned",
}
ROLES: dict[str, tuple[str, ...]] = {
    "request": ("admin", "inspector"),
    "answer": ("owner",),  # the workshop's own word: nobody answers for it
    "accept": ("admin", "inspector"),
    "return": ("admin", "inspector"),
}
_ACTION_ZH = {"request": "发起整改", "answer": "答复整改", "accept": "通过整改", "return": "退回整改"}
_STATE_ZH = {"requested": "待答复", "answered": "待审核", "returned": "已退回", "accepted": "已通过"}


STEPS = steps.StepMachine(kind="rectification", transitions=TRANSITIONS, roles=ROLES, action_zh=_ACTION_ZH,
                          state_zh=_STATE_ZH, record_zh="整改", none_zh="整改尚未发起", record_en="rectification",
                          a_record_en="a rectification", object_en="a rectification")
next_state = STEPS.next_state
check_role = STEPS.check_role


@dataclass(frozen=True)
class StepText:
    """A text of a step, as the API names it (``note``, ``action``): a string, trimmed, bounded."""

    field: str
    value: str | None
    required: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", steps.text(self.value, self.field, MAX_TEXT, self.required))


@dataclass(frozen=True)
class RectificationFilter:
    state: str | None = None
    workshop: str | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in RECTIFICATION_STATES:
            raise BadRequest("state", f"必须是以下之一：{', '.join(RECTIFICATION_STATES)}",
                             f"must be one of: {', '.join(RECTIFICATION_STATES)}")
        if not 1 <= self.limit <= 1000:
            raise BadRequest("limit", "必须在 1 到 1000 之间", "must be between 1 and 1000")

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "RectificationFilter":
        known = ("state", "workshop", "limit")
        for key in query:
            if key not in known:
                raise BadRequest(key, "未知参数", f"unknown parameter (known: {', '.join(known)})")
        limit = query.get("limit", "100")
        if not limit.isdigit():
            raise BadRequest("limit", "必须是正整数", "must be a whole number")
        return cls(query.get("state") or None, query.get("workshop") or None, int(limit))


# -- reads ----------------------------------------------------------------------------

_requester = users.alias("requester")
_closer = users.alias("closer")


def _query(who: Principal):  # type: ignore[no-untyped-def]
    return (select(rectifications, workshops.c.district_id, _requester.c.username.label("requested_by_name"),
                   _closer.c.username.label("closed_by_name"), ledger_items.c.id.label("item_id"))
            .join(workshops, workshops.c.id == rectifications.c.workshop_id)
            .outerjoin(ledger_items, ledger_items.c.rectification_id == rectifications.c.id)
            .join(_requester, _requester.c.id == rectifications.c.requested_by)
            .outerjoin(_closer, _closer.c.id == rectifications.c.closed_by)
            .where(workshop_clause(who)))


def _json(r) -> dict:  # type: ignore[no-untyped-def]
    return {"id": r.id, "alarm": r.alarm_id, "workshop": r.workshop_id, "district": r.district_id,
            "state": r.state, "note": r.note, "requested_by": r.requested_by_name, "requested_at": r.requested_at,
            "due": r.due_at, "updated_at": r.updated_at, "closed_by": r.closed_by_name, "closed_at": r.closed_at,
            "item": r.item_id}


def _steps(conn: Connection, rect_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in rect_ids}
    if not rect_ids:
        return out
    for s in conn.execute(select(rectification_steps, users.c.username, users.c.role)
                          .join(users, users.c.id == rectification_steps.c.user_id)
                          .where(rectification_steps.c.rectification_id.in_(rect_ids))
                          .order_by(rectification_steps.c.id)):
        out[s.rectification_id].append({"at": s.at, "action": s.action, "state": s.state, "text": s.text,
                                        "by": s.username, "role": s.role})
    return out


def _with_steps(conn: Connection, rows: Sequence) -> list[dict]:
    steps = _steps(conn, [r.id for r in rows])
    return [{**_json(r), "steps": steps[r.id]} for r in rows]


def _visible(conn: Connection, who: Principal, rect_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(_query(who).where(rectifications.c.id == rect_id)).first()
    if row is None:
        raise NotFound("整改不存在", f"rectification {rect_id} does not exist")
    return row


def get(conn: Connection, who: Principal, rect_id: int) -> dict:
    return _with_steps(conn, [_visible(conn, who, rect_id)])[0]


def list_rectifications(conn: Connection, who: Principal, state: str | None = None,
                        workshop: str | None = None, limit: int = 100) -> list[dict]:
    f = RectificationFilter(state, workshop, limit)
    q = _query(who)
    if f.state is not None:
        q = q.where(rectifications.c.state == f.state)
    if f.workshop is not None:  # a filter, never a widening: the scope clause above still holds
        q = q.where(rectifications.c.workshop_id == f.workshop)
    rows = conn.execute(q.order_by(rectifications.c.requested_at.desc(), rectifications.c.id.desc())
                        .limit(f.limit)).all()
    return [_json(r) for r in rows]


def _visible_alarm(conn: Connection, who: Principal, alarm_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(alarms.c.id, alarms.c.workshop_id)
                       .join(workshops, workshops.c.id == alarms.c.workshop_id)
                       .where(workshop_clause(who), alarms.c.id == alarm_id)).first()
    if row is None:
        raise NotFound("告警不存在", f"alarm {alarm_id} does not exist")
    return row


def for_alarm(conn: Connection, who: Principal, alarm_id: int) -> list[dict]:
    """The alarm's rectifications, oldest first, each with its steps."""
    _visible_alarm(conn, who, alarm_id)
    rows = conn.execute(_query(who).where(rectifications.c.alarm_id == alarm_id)
                        .order_by(rectifications.c.id)).all()
    return _with_steps(conn, rows)


# -- steps ----------------------------------------------------------------------------

def request(conn: Connection, who: Principal, alarm_id: int, note: str | None, due_at: int | None,
            now: int, item: Mapping[str, object] | None = None) -> dict:
    """``item``: the ledger item's own fields (``category``, ``responsible``, ``severity``, checked by the
    caller); by default none, and the alarm's severity."""
    state = next_state(None, "request", who.role)
    text = StepText("note", note).value
    if due_at is not None and (isinstance(due_at, bool) or not isinstance(due_at, int)):
        raise BadRequest("due", "必须是整数（毫秒时间戳）", "must be a whole number (ms since the epoch)")
    if due_at is not None and due_at <= now:
        raise Unprocessable("due: 整改期限必须晚于现在", "due: the deadline must lie in the future")
    alarm = _visible_alarm(conn, who, alarm_id)
    if conn.execute(select(rectifications.c.id).where(rectifications.c.open_alarm_id == alarm_id)).first():
        raise Conflict("该告警已有未完成的整改", f"alarm {alarm_id} already has an open rectification")
    rect_id = conn.execute(rectifications.insert().values(
        alarm_id=alarm_id, workshop_id=alarm.workshop_id, state=state, note=text, requested_by=who.user_id,
        requested_at=now, due_at=due_at, updated_at=now, open_alarm_id=alarm_id)
        .returning(rectifications.c.id)).scalar_one()
    _record(conn, who, rect_id, alarm_id, alarm.workshop_id, "request", state, text, now, due=due_at)
    _ledger_item(conn, rect_id, alarm_id, alarm.workshop_id, who, now, item or {})
    return get(conn, who, rect_id)


def _ledger_item(conn: Connection, rect_id: int, alarm_id: int, workshop: str, who: Principal, now: int,
                 item: Mapping[str, object]) -> None:
    severity = item.get("severity") or conn.execute(select(alarms.c.severity).where(alarms.c.id == alarm_id)
                                                    ).scalar_one()
    row = conn.execute(ledger_items.insert().values(
        workshop_id=workshop, source="alarm", source_ref=str(alarm_id), rectification_id=rect_id,
        category=item.get("category"), severity=severity, responsible=item.get("responsible"),
        created_by=who.user_id, created_at=now, updated_at=now).returning(*ledger_items.c)).one()
    evidence.append(conn, now, "ledger_item", workshop, alarm_id, {
        "item": row.id, "rectification": rect_id, "by": who.username, "role": who.role,
        "row": coverage.fact(ledger_items, row._mapping)})


def answer(conn: Connection, who: Principal, rect_id: int, action: str | None, now: int,
           photos: Sequence[Mapping[str, object]] = ()) -> dict:
    """The owner's corrective action (``action`` is its text: 整改措施); ``photos``: what the ledger stored with
    it (id, type, size, SHA-256), named in the step's evidence entry."""
    extra = {"photos": list(photos)} if photos else {}
    return _step(conn, who, rect_id, "answer", StepText("action", action).value, now, **extra)


def accept(conn: Connection, who: Principal, rect_id: int, note: str | None, now: int) -> dict:
    return _step(conn, who, rect_id, "accept", StepText("note", note, required=False).value, now)


def send_back(conn: Connection, who: Principal, rect_id: int, note: str | None, now: int) -> dict:
    return _step(conn, who, rect_id, "return", StepText("note", note).value, now)


def _step(conn: Connection, who: Principal, rect_id: int, action: str, text: str | None, now: int,
          **extra: object) -> dict:
    check_role(action, who.role)  # the role first: a refusal that says nothing about the object
    row = _visible(conn, who, rect_id)
    state = next_state(row.state, action, who.role)
    closing = {"closed_by": who.user_id, "closed_at": now, "open_alarm_id": None} if state == "accepted" else {}
    done = conn.execute(update(rectifications)
                        .where(rectifications.c.id == rect_id, rectifications.c.state == row.state)
                        .values(state=state, updated_at=now, **closing))
    if done.rowcount != 1:  # someone else took a step in between
        raise Conflict("整改刚被他人处理", f"rectification {rect_id} was just changed by someone else")
    _record(conn, who, rect_id, row.alarm_id, row.workshop_id, action, state, text, now, **extra)
    conn.execute(update(ledger_items).where(ledger_items.c.rectification_id == rect_id).values(updated_at=now))
    return get(conn, who, rect_id)


def _record(conn: Connection, who: Principal, rect_id: int, alarm_id: int, workshop: str, action: str,
            state: str, text: str | None, now: int, **extra: object) -> None:
    step = conn.execute(rectification_steps.insert().values(
        rectification_id=rect_id, at=now, user_id=who.user_id, action=action, state=state, text=text)
        .returning(*rectification_steps.c)).one()
    evidence.append(conn, now, f"rectification_{action}", workshop, alarm_id,
                    {"rectification": rect_id, "by": who.username, "role": who.role, "text": text,
                     "state": state, **extra, "row": coverage.fact(rectification_steps, step._mapping)})

