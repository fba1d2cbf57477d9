"""The issue ledger (挂账销号): every finding of a workshop is an item, open until the inspector closes it.

An item comes from an alarm (its rectification, ``rectification``), an
on-site inspection (``inspection`` with its reference), a report, or is
entered by an inspector by hand (``manual``). The owner answers with text
and photos (``photos``); the inspector closes it (销号) or sends it back::

    open ──answer──▶ answered ──close──▶ closed
                       │  ▲
                 return│  │answer
                       ▼  │
                     returned

An alarm's item is its rectification: its steps go through ``rectification``
(the same roles, states and evidence kinds, named here by the ledger's
words: requested → open, accepted → closed). The other items' steps are rows
of ``ledger_steps`` and evidence entries ``ledger_<action>`` in the same
transaction. Opening is for admins and the inspectors of the workshop's
district, answering for the workshop's owner only; closing needs an answer
(the state machine has no step from ``open`` to ``closed``). An item is
overdue when its deadline has passed and it is not closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import Connection, case, func, select, update

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, Conflict, NotFound, Unprocessable
from cloud_ingest.reports.ledger_view import FROM_RECT_STATE, item_due, item_state, overdue_clause
from cloud_ingest.review import photos as photo_check
from cloud_ingest.review import rectification, steps
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import (
    LEDGER_CATEGORIES,
    LEDGER_SOURCES,
    alarms,
    districts,
    ledger_items,
    ledger_photos,
    ledger_steps,
    rectification_steps,
    rectifications,
    users,
    workshops,
)
from sebiao_common.alarms import SEVERITIES

MAX_REF = 64
MAX_PERSON = 64
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, "open"): "open",
    ("open", "answer"): "answered",
    ("returned", "answer"): "answered",
    ("answered", "close"): "closed",
    ("answered", "return"): "returned",
}
ROLES: dict[str, tuple[str, ...]] = {"open": ("admin", "inspector"), "answer": ("owner",),
                                     "close": ("admin", "inspector"), "return": ("admin", "inspector")}
_ACTION_ZH = {"open": "登记问题", "answer": "答复", "close": "销号", "return": "退回"}
_STATE_ZH = {"open": "待答复", "answered": "待审核", "returned": "已退回", "closed": "已销号"}
# the rectification's words → the ledger's: FROM_RECT_STATE (reports.ledger_view, which the reports read by)
FROM_RECT_ACTION = {"request": "open", "answer": "answer", "accept": "close", "return": "return"}
CATEGORY_ZH = {"colour_coding": ("色标化管理", "colour coding"), "facilities": ("设施设备", "facilities"),
               "process": ("加工行为", "processing practice"), "hygiene": ("环境卫生", "hygiene"),
               "workwear": ("工服管理", "workwear"), "records": ("记录制度", "records")}
SOURCE_ZH = {"alarm": ("告警", "alarm"), "inspection": ("现场检查", "on-site inspection"),
             "report": ("报告", "report"), "manual": ("检查员录入", "entered by an inspector")}


STEPS = steps.StepMachine(kind="ledger", transitions=TRANSITIONS, roles=ROLES, action_zh=_ACTION_ZH,
                          state_zh=_STATE_ZH, record_zh="问题", none_zh="问题尚未登记", record_en="item",
                          a_record_en="an item", object_en="a ledger item")
next_state = STEPS.next_state
check_role = STEPS.check_role


@dataclass(frozen=True, kw_only=True)
class NewItem:
    """An item to open, from the API's body or the page's form (checked here, whole)."""

    workshop: str | None
    source: str
    source_ref: str | None
    text: str
    category: str | None
    severity: str | None
    responsible: str | None
    due_at: int | None

    @classmethod
    def from_body(cls, body: Mapping[str, Any], now: int) -> "NewItem":
        steps.only_known(body, {"workshop", "source", "ref", "text", "category", "severity", "responsible", "due"})
        source = body.get("source", "manual")
        if source not in LEDGER_SOURCES:
            raise BadRequest("source", f"必须是以下之一：{', '.join(LEDGER_SOURCES)}",
                             f"must be one of: {', '.join(LEDGER_SOURCES)}")
        ref = steps.text(body.get("ref"), "ref", MAX_REF, required=source in ("alarm", "inspection", "report"))
        if source == "alarm" and not (ref or "").isdigit():
            raise BadRequest("ref", "告警来源须给出告警编号", "an alarm's item needs the alarm's id")
        category, severity = body.get("category"), body.get("severity")
        if category is not None and category not in LEDGER_CATEGORIES:
            raise BadRequest("category", f"必须是以下之一：{', '.join(LEDGER_CATEGORIES)}",
                             f"must be one of: {', '.join(LEDGER_CATEGORIES)}")
        if severity is not None and severity not in SEVERITIES:
            raise BadRequest("severity", f"必须是以下之一：{', '.join(SEVERITIES)}",
                             f"must be one of: {', '.join(SEVERITIES)}")
        due = body.get("due")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int)):
            raise BadRequest("due", "必须是整数（毫秒时间戳）", "must be a whole number (ms since the epoch)")
        if due is not None and due <= now:
            raise Unprocessable("due: 整改期限必须晚于现在", "due: the deadline must lie in the future")
        workshop = body.get("workshop")
        if source != "alarm" and not isinstance(workshop, str):
            raise BadRequest("workshop", "必须填写作坊编号", "the workshop's id is required")
        return cls(workshop=workshop, source=source, source_ref=ref,
                   text=steps.text(body.get("text"), "text", rectification.MAX_TEXT) or "",
                   category=category, severity=severity, due_at=due,
                   responsible=steps.text(body.get("responsible"), "responsible", MAX_PERSON, required=False))


# -- reads ----------------------------------------------------------------------------

_creator = users.alias("creator")
_closer = users.alias("ledger_closer")
_state, _due = item_state, item_due  # an item's own, else its rectification's (reports.ledger_view)


def _query(who: Principal):  # type: ignore[no-untyped-def]
    return (select(ledger_items.c.id, ledger_items.c.workshop_id, workshops.c.name.label("workshop_name"),
                   workshops.c.district_id, ledger_items.c.source, ledger_items.c.source_ref,
                   ledger_items.c.rectification_id, rectifications.c.alarm_id, ledger_items.c.category,
                   ledger_items.c.severity, ledger_items.c.responsible,
                   func.coalesce(ledger_items.c.text, rectifications.c.note).label("text"), _due.label("due"),
                   _state.label("state"), _creator.c.username.label("created_by"), ledger_items.c.created_at,
                   ledger_items.c.updated_at,
                   _closer.c.username.label("closed_by"),
                   func.coalesce(ledger_items.c.closed_at, rectifications.c.closed_at).label("closed_at"))
            .select_from(ledger_items)
            .join(workshops, workshops.c.id == ledger_items.c.workshop_id)
            .outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id)
            .join(_creator, _creator.c.id == ledger_items.c.created_by)
            .outerjoin(_closer, _closer.c.id == func.coalesce(ledger_items.c.closed_by, rectifications.c.closed_by))
            .where(workshop_clause(who)))


def _json(r: Any, now: int) -> dict:
    return {"id": r.id, "workshop": r.workshop_id, "workshop_name": r.workshop_name, "district": r.district_id,
            "source": r.source, "ref": r.source_ref, "alarm": r.alarm_id, "rectification": r.rectification_id,
            "category": r.category, "severity": r.severity, "responsible": r.responsible, "text": r.text,
            "due": r.due, "state": r.state, "overdue": r.due is not None and r.due < now and r.state != "closed",
            "created_by": r.created_by, "created_at": r.created_at, "updated_at": r.updated_at,
            "closed_by": r.closed_by, "closed_at": r.closed_at}


def _visible(conn: Connection, who: Principal, item_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(_query(who).where(ledger_items.c.id == item_id)).first()
    if row is None:
        raise NotFound("问题不存在", f"ledger item {item_id} does not exist")
    return row


def get(conn: Connection, who: Principal, item_id: int, now: int) -> dict:
    """One item with its steps (oldest first) and its photos' descriptions."""
    row = _visible(conn, who, item_id)
    out = _json(row, now)
    if row.rectification_id is not None:
        q = (select(rectification_steps.c.at, rectification_steps.c.action, rectification_steps.c.state,
                    rectification_steps.c.text, users.c.username, users.c.role)
             .join(users, users.c.id == rectification_steps.c.user_id)
             .where(rectification_steps.c.rectification_id == row.rectification_id)
             .order_by(rectification_steps.c.id))
        steps = [{"at": s.at, "action": FROM_RECT_ACTION[s.action], "state": FROM_RECT_STATE[s.state],
                  "text": s.text, "by": s.username, "role": s.role} for s in conn.execute(q)]
    else:
        q = (select(ledger_steps, users.c.username, users.c.role).join(users, users.c.id == ledger_steps.c.user_id)
             .where(ledger_steps.c.item_id == item_id).order_by(ledger_steps.c.id))
        steps = [{"at": s.at, "action": s.action, "state": s.state, "text": s.text, "by": s.username,
                  "role": s.role} for s in conn.execute(q)]
    out["steps"] = steps
    out["photos"] = item_photos(conn, item_id)
    return out


def item_photos(conn: Connection, item_id: int) -> list[dict]:
    """The descriptions of an item's photos, oldest first (the caller has seen the item: ``get``,
    ``rectification.get``)."""
    pics = conn.execute(select(ledger_photos.c.id, ledger_photos.c.at, ledger_photos.c.content_type,
                               ledger_photos.c.size, ledger_photos.c.sha256, users.c.username)
                        .join(users, users.c.id == ledger_photos.c.user_id)
                        .where(ledger_photos.c.item_id == item_id).order_by(ledger_photos.c.id)).all()
    return [{"id": p.id, "at": p.at, "type": p.content_type, "size": p.size, "sha256": p.sha256,
             "by": p.username, "url": f"/api/v1/ledger/photos/{p.id}"} for p in pics]


@dataclass(frozen=True, kw_only=True)
class ItemFilter:
    workshop: str | None = None
    district: str | None = None
    state: str | None = None
    overdue: bool = False
    limit: int = 200

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "ItemFilter":
        known = ("workshop", "district", "state", "overdue", "limit")
        for key in query:
            if key not in known:
                raise BadRequest(key, "未知参数", f"unknown parameter (known: {', '.join(known)})")
        state = query.get("state") or None
        if state is not None and state not in _STATE_ZH:
            raise BadRequest("state", f"必须是以下之一：{', '.join(_STATE_ZH)}", f"must be one of: {', '.join(_STATE_ZH)}")
        overdue = query.get("overdue", "")
        if overdue not in ("", "0", "1", "true", "false"):
            raise BadRequest("overdue", "必须是 1 或 0", "must be 1 or 0")
        limit = query.get("limit", "200")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            raise BadRequest("limit", "必须在 1 到 1000 之间", "must be between 1 and 1000")
        return cls(workshop=query.get("workshop") or None, district=query.get("district") or None, state=state,
                   overdue=overdue in ("1", "true"), limit=int(limit))


def list_items(conn: Connection, who: Principal, f: ItemFilter, now: int) -> list[dict]:
    """The items in scope, newest first; the filters only narrow the scope, never widen it."""
    q = _query(who)
    if f.workshop is not None:
        q = q.where(ledger_items.c.workshop_id == f.workshop)
    if f.district is not None:
        q = q.where(workshops.c.district_id == f.district)
    if f.state is not None:
        q = q.where(_state == f.state)
    if f.overdue:
        q = q.where(overdue_clause(now))
    rows = conn.execute(q.order_by(ledger_items.c.created_at.desc(), ledger_items.c.id.desc()).limit(f.limit))
    return [_json(r, now) for r in rows]


def overdue(conn: Connection, who: Principal, now: int) -> dict:
    """The overdue items in scope counted per district and per workshop (the nav shows ``total``)."""
    base = (select(workshops.c.district_id, districts.c.name.label("district_name"), ledger_items.c.workshop_id,
                   workshops.c.name, func.count().label("n"))
            .select_from(ledger_items).join(workshops, workshops.c.id == ledger_items.c.workshop_id)
            .join(districts, districts.c.id == workshops.c.district_id)
            .outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id)
            .where(workshop_clause(who), overdue_clause(now))
            .group_by(workshops.c.district_id, districts.c.name, ledger_items.c.workshop_id, workshops.c.name)
            .order_by(workshops.c.district_id, ledger_items.c.workshop_id))
    rows = conn.execute(base).all()
    per_workshop = [{"workshop": r.workshop_id, "name": r.name, "district": r.district_id, "count": r.n}
                    for r in rows]
    per_district: dict[str, dict] = {}
    for r in rows:
        d = per_district.setdefault(r.district_id, {"district": r.district_id, "name": r.district_name, "count": 0})
        d["count"] += r.n
    return {"total": sum(w["count"] for w in per_workshop), "districts": list(per_district.values()),
            "workshops": per_workshop}


def overdue_count(conn: Connection, who: Principal, now: int) -> int:
    return conn.execute(select(func.count()).select_from(ledger_items)
                        .join(workshops, workshops.c.id == ledger_items.c.workshop_id)
                        .outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id)
                        .where(workshop_clause(who), overdue_clause(now))).scalar_one()


def counts(conn: Connection, who: Principal, now: int) -> dict[str, dict[str, int]]:
    """Per workshop in scope with items: ``open`` (not closed, whatever step it waits for) and ``overdue``."""
    rows = conn.execute(select(ledger_items.c.workshop_id,
                               func.sum(case((_state != "closed", 1), else_=0)).label("open"),
                               func.sum(case((overdue_clause(now), 1), else_=0)).label("overdue"))
                        .select_from(ledger_items).join(workshops, workshops.c.id == ledger_items.c.workshop_id)
                        .outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id)
                        .where(workshop_clause(who)).group_by(ledger_items.c.workshop_id))
    return {r.workshop_id: {"open": int(r.open or 0), "overdue": int(r.overdue or 0)} for r in rows}


def photo(conn: Connection, who: Principal, photo_id: int) -> tuple[str, bytes]:
    """A photo's type and bytes, only within the caller's scope (404 outside it)."""
    return photo_check.stored(conn, who, ledger_photos.c.item_id, ledger_items, photo_id)


# -- steps ----------------------------------------------------------------------------

def open_item(conn: Connection, who: Principal, new: NewItem, now: int) -> dict:
    state = next_state(None, "open", who.role)
    if new.source == "alarm":  # the alarm's rectification is the item
        alarm_ws = conn.execute(select(alarms.c.workshop_id).join(workshops, workshops.c.id == alarms.c.workshop_id)
                                .where(workshop_clause(who), alarms.c.id == int(new.source_ref or 0))
                                ).scalar_one_or_none()  # outside the scope: the request's 404 below
        if new.workshop is not None and alarm_ws is not None and new.workshop != alarm_ws:
            raise BadRequest("workshop", f"告警不属于作坊 {new.workshop}",
                             f"the alarm is not of workshop {new.workshop}")
        rect = rectification.request(conn, who, int(new.source_ref or 0), new.text, new.due_at, now, item={
            "category": new.category, "severity": new.severity, "responsible": new.responsible})
        item_id = conn.execute(select(ledger_items.c.id).where(ledger_items.c.rectification_id == rect["id"])
                               ).scalar_one()
        return get(conn, who, item_id, now)
    ws = conn.execute(select(workshops.c.id).where(workshop_clause(who), workshops.c.id == new.workshop)).first()
    if ws is None:
        raise NotFound("作坊不存在", f"workshop {new.workshop} does not exist")
    row = conn.execute(ledger_items.insert().values(
        workshop_id=new.workshop, source=new.source, source_ref=new.source_ref, category=new.category,
        severity=new.severity or "major", responsible=new.responsible, text=new.text, due_at=new.due_at,
        state=state, created_by=who.user_id, created_at=now, updated_at=now).returning(*ledger_items.c)).one()
    evidence.append(conn, now, "ledger_item", row.workshop_id, None, {
        "item": row.id, "by": who.username, "role": who.role, "row": coverage.fact(ledger_items, row._mapping)})
    _record(conn, who, row.id, row.workshop_id, "open", state, new.text, now, due=new.due_at)
    return get(conn, who, row.id, now)


def answer(conn: Connection, who: Principal, item_id: int, text: str | None, photos: list[photo_check.Photo],
           now: int) -> dict:
    """The owner's answer: its text (required) and photos, stored and named in the step's evidence entry."""
    check_role("answer", who.role)  # the role first: a refusal that says nothing about the object
    row = _visible(conn, who, item_id)
    words = rectification.StepText("text", text).value
    next_state(row.state, "answer", who.role)  # before any photo is stored
    stored = [conn.execute(ledger_photos.insert().values(
        item_id=item_id, user_id=who.user_id, at=now, content_type=p.content_type, size=len(p.data),
        sha256=p.sha256, data=p.data).returning(ledger_photos.c.id, ledger_photos.c.content_type,
                                                ledger_photos.c.size, ledger_photos.c.sha256)).one()
        for p in photos]
    if row.rectification_id is not None:
        rectification.answer(conn, who, row.rectification_id, words, now, photo_check.meta(stored))
        return get(conn, who, item_id, now)
    return _step(conn, who, row, "answer", words, now, photos=photo_check.meta(stored))


def close(conn: Connection, who: Principal, item_id: int, note: str | None, now: int) -> dict:
    """销号: the inspector accepts the answer (an item never answered cannot be closed)."""
    return _inspector_step(conn, who, item_id, "close", rectification.StepText("note", note, required=False).value,
                           now)


def send_back(conn: Connection, who: Principal, item_id: int, note: str | None, now: int) -> dict:
    return _inspector_step(conn, who, item_id, "return", rectification.StepText("note", note).value, now)


def _inspector_step(conn: Connection, who: Principal, item_id: int, action: str, text: str | None,
                    now: int) -> dict:
    check_role(action, who.role)
    row = _visible(conn, who, item_id)
    if row.rectification_id is not None:
        fn = rectification.accept if action == "close" else rectification.send_back
        fn(conn, who, row.rectification_id, text, now)
        return get(conn, who, item_id, now)
    return _step(conn, who, row, action, text, now)


def _step(conn: Connection, who: Principal, row: Any, action: str, text: str | None, now: int,
          **extra: object) -> dict:
    state = next_state(row.state, action, who.role)
    closing = {"closed_by": who.user_id, "closed_at": now} if state == "closed" else {}
    done = conn.execute(update(ledger_items).where(ledger_items.c.id == row.id, ledger_items.c.state == row.state)
                        .values(state=state, updated_at=now, **closing))
    if done.rowcount != 1:  # someone else took a step in between
        raise Conflict("问题刚被他人处理", f"ledger item {row.id} was just changed by someone else")
    _record(conn, who, row.id, row.workshop_id, action, state, text, now, **extra)
    return get(conn, who, row.id, now)


def _record(conn: Connection, who: Principal, item_id: int, workshop: str, action: str, state: str,
            text: str | None, now: int, **extra: object) -> None:
    step = conn.execute(ledger_steps.insert().values(item_id=item_id, at=now, user_id=who.user_id, action=action,
                                                     state=state, text=text).returning(*ledger_steps.c)).one()
    evidence.append(conn, now, f"ledger_{action}", workshop, None,
                    {"item": item_id, "by": who.username, "role": who.role, "text": text, "state": state, **extra,
                     "row": coverage.fact(ledger_steps, step._mapping)})
