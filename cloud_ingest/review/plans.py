"""一坊一策: each workshop's improvement plan, made of its ledger items and goals, with its progress.

A plan is the workshop's summary (what the district wants of it), its goals
(text, target date, the ledger items each rests on, met or not) and all the
workshop's ledger items (``ledger``). Progress is items closed of all items
and goals met of all goals. The inspectors of the workshop's district (and
admins) edit it; the workshop's owner reads it. Every change is an evidence
entry (kind ``plan``) holding the changed row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import Connection, select, update

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, NotFound
from cloud_ingest.review import ledger, steps
from cloud_ingest.review.rectification import StepText
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import districts, improvement_plans, ledger_items, plan_goals, users, workshops
from sebiao_common import strict_json
from sebiao_common.clock import CST

MAX_GOALS = 50
MAX_LINKS = 100
EDITORS = ("admin", "inspector")


def _workshop(conn: Connection, who: Principal, workshop: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(workshops.c.id, workshops.c.name, workshops.c.district_id,
                              districts.c.name.label("district_name"))
                       .join(districts, districts.c.id == workshops.c.district_id)
                       .where(workshop_clause(who), workshops.c.id == workshop)).first()
    if row is None:
        raise NotFound("作坊不存在", f"workshop {workshop} does not exist")
    return row


def get_plan(conn: Connection, who: Principal, workshop: str, now: int) -> dict:
    ws = _workshop(conn, who, workshop)
    plan = conn.execute(select(improvement_plans, users.c.username)
                        .join(users, users.c.id == improvement_plans.c.updated_by)
                        .where(improvement_plans.c.workshop_id == workshop)).first()
    items = list(reversed(ledger.list_items(conn, who, ledger.ItemFilter(workshop=workshop, limit=1000), now)))
    goals = []
    if plan is not None:
        met_by = users.alias("met_by")
        for g in conn.execute(select(plan_goals, met_by.c.username.label("met_by_name"))
                              .outerjoin(met_by, met_by.c.id == plan_goals.c.met_by)
                              .where(plan_goals.c.plan_id == plan.id).order_by(plan_goals.c.target, plan_goals.c.id)):
            goals.append({"id": g.id, "text": g.text, "target": g.target, "items": strict_json.loads(g.items),
                          "met": g.met_at is not None, "met_at": g.met_at, "met_by": g.met_by_name,
                          "overdue": g.met_at is None and g.target < _today(now)})
    closed = sum(1 for i in items if i["state"] == "closed")
    return {"workshop": ws.id, "name": ws.name, "district": ws.district_id, "district_name": ws.district_name,
            "summary": plan.summary if plan else None, "updated_by": plan.username if plan else None,
            "updated_at": plan.updated_at if plan else None, "goals": goals, "items": items,
            "progress": {"items_closed": closed, "items_total": len(items),
                         "goals_met": sum(1 for g in goals if g["met"]), "goals_total": len(goals)}}


def _today(now: int) -> str:
    """The date at ``now`` in China Standard Time (the targets' dates)."""
    return datetime.fromtimestamp(now / 1000, CST).date().isoformat()


def _plan_id(conn: Connection, who: Principal, workshop: str, now: int, summary: str | None = None) -> int:
    """The workshop's plan (made, empty, on its first change)."""
    found = conn.execute(select(improvement_plans.c.id).where(improvement_plans.c.workshop_id == workshop)).first()
    if found is not None and summary is None:
        return found.id
    if found is None:
        row = conn.execute(improvement_plans.insert().values(workshop_id=workshop, summary=summary or "",
                                                             updated_by=who.user_id, updated_at=now)
                           .returning(*improvement_plans.c)).one()
    else:
        row = conn.execute(update(improvement_plans).where(improvement_plans.c.id == found.id)
                           .values(summary=summary, updated_by=who.user_id, updated_at=now)
                           .returning(*improvement_plans.c)).one()
    _chain(conn, who, workshop, now, "summary", improvement_plans, row)
    return row.id


def _chain(conn: Connection, who: Principal, workshop: str, now: int, what: str, table: Any, row: Any) -> None:
    evidence.append(conn, now, "plan", workshop, None, {"what": what, "by": who.username, "role": who.role,
                                                        "row": coverage.fact(table, row._mapping)})


def set_summary(conn: Connection, who: Principal, workshop: str, summary: Any, now: int) -> dict:
    who.require(*EDITORS)
    _workshop(conn, who, workshop)
    _plan_id(conn, who, workshop, now, StepText("summary", summary).value)
    return get_plan(conn, who, workshop, now)


def _goal_fields(conn: Connection, workshop: str, body: Mapping[str, Any], partial: bool) -> dict:
    steps.only_known(body, {"text", "target", "items", "met"})
    out: dict[str, Any] = {}
    if "text" in body or not partial:
        out["text"] = StepText("text", body.get("text")).value  # required, at most MAX_TEXT
    if "target" in body or not partial:
        target = body.get("target")
        try:
            if not isinstance(target, str):
                raise ValueError
            date.fromisoformat(target)
        except ValueError as exc:
            raise BadRequest("target", "日期格式应为 YYYY-MM-DD", "a date must be YYYY-MM-DD") from exc
        if len(target) != 10:
            raise BadRequest("target", "日期格式应为 YYYY-MM-DD", "a date must be YYYY-MM-DD")
        out["target"] = target
    if "items" in body or not partial:
        ids = body.get("items", [])
        if not isinstance(ids, list) or len(ids) > MAX_LINKS or any(
                isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise BadRequest("items", f"必须是至多 {MAX_LINKS} 个问题编号的列表",
                             f"must be a list of at most {MAX_LINKS} ledger item ids")
        ids = sorted(set(ids))
        mine = set(conn.execute(select(ledger_items.c.id).where(ledger_items.c.workshop_id == workshop,
                                                                ledger_items.c.id.in_(ids))).scalars())
        if set(ids) - mine:  # another workshop's item is as unknown as one that does not exist
            raise BadRequest("items", "问题不属于该作坊：" + ", ".join(map(str, sorted(set(ids) - mine))),
                             "not items of this workshop: " + ", ".join(map(str, sorted(set(ids) - mine))))
        out["items"] = canonical_json(ids)
    if "met" in body:
        if not isinstance(body["met"], bool):
            raise BadRequest("met", "必须是 true 或 false", "must be true or false")
    return out


def add_goal(conn: Connection, who: Principal, workshop: str, body: Any, now: int) -> dict:
    who.require(*EDITORS)
    _workshop(conn, who, workshop)
    if not isinstance(body, dict):
        raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
    fields = _goal_fields(conn, workshop, body, partial=False)
    plan_id = _plan_id(conn, who, workshop, now)
    count = len(conn.execute(select(plan_goals.c.id).where(plan_goals.c.plan_id == plan_id)).all())
    if count >= MAX_GOALS:
        raise BadRequest("", f"一个计划至多 {MAX_GOALS} 个目标", f"a plan has at most {MAX_GOALS} goals")
    met = {"met_at": now, "met_by": who.user_id} if body.get("met") is True else {}
    row = conn.execute(plan_goals.insert().values(plan_id=plan_id, updated_by=who.user_id, updated_at=now,
                                                  **fields, **met).returning(*plan_goals.c)).one()
    _chain(conn, who, workshop, now, "goal", plan_goals, row)
    return get_plan(conn, who, workshop, now)


def update_goal(conn: Connection, who: Principal, goal_id: int, body: Any, now: int) -> dict:
    who.require(*EDITORS)
    found = conn.execute(select(plan_goals.c.id, plan_goals.c.met_at, improvement_plans.c.workshop_id)
                         .join(improvement_plans, improvement_plans.c.id == plan_goals.c.plan_id)
                         .join(workshops, workshops.c.id == improvement_plans.c.workshop_id)
                         .where(workshop_clause(who), plan_goals.c.id == goal_id)).first()
    if found is None:
        raise NotFound("目标不存在", f"goal {goal_id} does not exist")
    if not isinstance(body, dict):
        raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
    fields = _goal_fields(conn, found.workshop_id, body, partial=True)
    if "met" in body and not body["met"]:
        fields.update({"met_at": None, "met_by": None})
    elif body.get("met") and found.met_at is None:  # met again: its first time and person are kept
        fields.update({"met_at": now, "met_by": who.user_id})
    row = conn.execute(update(plan_goals).where(plan_goals.c.id == goal_id)
                       .values(updated_by=who.user_id, updated_at=now, **fields).returning(*plan_goals.c)).one()
    _chain(conn, who, found.workshop_id, now, "goal", plan_goals, row)
    return get_plan(conn, who, found.workshop_id, now)
