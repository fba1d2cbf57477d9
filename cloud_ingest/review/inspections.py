"""On-site inspections (现场检查): a visit of a workshop, recorded whole and signed in one step.

A visit has its day, the inspectors present, the result of every item of a checklist version
(``checklist``: 符合 pass / 不符合 fail / 不适用 na, each with a note), photos (checked by ``photos``), the
findings (检查结论), the workshop representative's name and the inspector's sign-off (the caller, at the
time it is stored). There is no unsigned visit on the server: the form is the draft, and what is stored is
signed, so it is immutable from its first moment (the tables are append-only in the database, and the API
has no step that changes a visit). Every 不符合 becomes an issue ledger item (source ``inspection``,
``source_ref`` the visit's id, the deadline chosen in the form or ``checklist.DUE_DAYS`` of its severity),
so the ledger follows it to closure. The visit, its items and its photos' hashes are one evidence entry
(``inspection_visit``), in the same transaction as the ledger's entries.

Recording is for admins and the inspectors of the workshop's district; reading for them and the workshop's
owner (the owner signs on paper through the representative's name and sees what was found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, NotFound, Unprocessable
from cloud_ingest.review import checklist, ledger, steps
from cloud_ingest.review import photos as photo_check
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import (
    districts,
    inspection_items,
    inspection_photos,
    inspection_visits,
    users,
    workshops,
)
from sebiao_common import strict_json
from sebiao_common.clock import CST, DAY_MS

MAX_NAME = 32
MAX_INSPECTORS = 6
MAX_NOTE = 500
MAX_FINDINGS = 2000
RESULTS = ("pass", "fail", "na")
RESULT_ZH = {"pass": ("符合", "complies"), "fail": ("不符合", "does not comply"), "na": ("不适用", "not applicable")}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def today(now: int) -> str:
    return datetime.fromtimestamp(now / 1000, CST).date().isoformat()


def _name(value: Any, where: str, required: bool = True, limit: int = MAX_NAME) -> str | None:
    return steps.text(value, where, limit, required)


@dataclass(frozen=True, kw_only=True)
class Finding:
    item: str
    result: str
    note: str | None
    severity: str
    due_at: int | None  # a fail's deadline


@dataclass(frozen=True, kw_only=True)
class NewVisit:
    """A visit to record, from the API's body or the page's form, checked here whole before anything is stored."""

    workshop: str
    checklist: str
    day: str
    inspectors: tuple[str, ...]
    findings: tuple[Finding, ...]
    summary: str | None
    representative: str
    photos: tuple[photo_check.Photo, ...]

    @classmethod
    def from_body(cls, body: Mapping[str, Any], now: int) -> "NewVisit":
        steps.only_known(body, {"workshop", "checklist", "day", "inspectors", "items", "findings", "representative",
                                "photos"})
        workshop = _name(body.get("workshop"), "workshop")
        version = body.get("checklist", checklist.CURRENT)
        if version not in checklist.CHECKLISTS:
            raise BadRequest("checklist", f"必须是以下之一：{', '.join(checklist.CHECKLISTS)}",
                             f"must be one of: {', '.join(checklist.CHECKLISTS)}")
        day = body.get("day")
        if not isinstance(day, str) or not _DAY.fullmatch(day):
            raise BadRequest("day", "必须是日期 YYYY-MM-DD", "must be a date YYYY-MM-DD")
        try:
            datetime.strptime(day, "%Y-%m-%d")
        except ValueError as exc:
            raise BadRequest("day", "不是有效日期", "not a valid date") from exc
        if day > today(now):
            raise Unprocessable("day: 检查日期不能晚于今天", "day: the visit's day cannot lie in the future")
        names = body.get("inspectors")
        if not isinstance(names, list) or not names or len(names) > MAX_INSPECTORS:
            raise BadRequest("inspectors", f"必须是 1 到 {MAX_INSPECTORS} 个姓名的列表",
                             f"must be a list of 1 to {MAX_INSPECTORS} names")
        inspectors = tuple(_name(n, f"inspectors[{i}]") or "" for i, n in enumerate(names))
        return cls(workshop=workshop or "", checklist=version, day=day, inspectors=inspectors,
                   findings=_findings(body.get("items"), version, now),
                   summary=_name(body.get("findings"), "findings", required=False, limit=MAX_FINDINGS),
                   representative=_name(body.get("representative"), "representative") or "",
                   photos=tuple(photo_check.from_json(body.get("photos"))))


def _findings(value: Any, version: str, now: int) -> tuple[Finding, ...]:
    """Every item of the checklist, once, with its result: a visit's checklist is never half filled."""
    if not isinstance(value, list):
        raise BadRequest("items", "必须是列表", "must be a list")
    by_key = {i.key: i for i in checklist.items(version)}
    seen: dict[str, Finding] = {}
    for n, entry in enumerate(value):
        where = f"items[{n}]"
        if not isinstance(entry, dict) or set(entry) - {"item", "result", "note", "due", "severity"}:
            raise BadRequest(where, "必须是 {item, result, note, due, severity}",
                             "must be {item, result, note, due, severity}")
        key = entry.get("item")
        if key not in by_key:
            raise BadRequest(where + ".item", "不是检查表中的项目", f"not an item of checklist {version}")
        if key in seen:
            raise BadRequest(where + ".item", "重复的项目", f"{key} is given twice")
        result = entry.get("result")
        if result not in RESULTS:
            raise BadRequest(where + ".result", "必须是 pass（符合）、fail（不符合）或 na（不适用）",
                             "must be pass, fail or na")
        severity = entry.get("severity") or by_key[key].severity
        if severity not in checklist.DUE_DAYS:
            raise BadRequest(where + ".severity", f"必须是以下之一：{', '.join(checklist.DUE_DAYS)}",
                             f"must be one of: {', '.join(checklist.DUE_DAYS)}")
        due = entry.get("due")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int)):
            raise BadRequest(where + ".due", "必须是整数（毫秒时间戳）", "must be a whole number (ms since the epoch)")
        if result != "fail" and due is not None:
            raise BadRequest(where + ".due", "只有不符合项有整改期限", "only a failed item has a deadline")
        if due is not None and due <= now:
            raise Unprocessable(f"{where}.due: 整改期限必须晚于现在", f"{where}.due: the deadline must lie in the future")
        if result == "fail" and due is None:
            due = now + checklist.DUE_DAYS[severity] * DAY_MS
        note = _name(entry.get("note"), where + ".note", required=result == "fail", limit=MAX_NOTE)
        seen[key] = Finding(item=key, result=result, note=note, severity=severity, due_at=due)
    missing = [k for k in by_key if k not in seen]
    if missing:
        raise Unprocessable(f"items: 缺少 {', '.join(missing)}", f"items: every item needs a result; missing "
                            f"{', '.join(missing)}")
    return tuple(seen[k] for k in by_key)


# -- recording ------------------------------------------------------------------------

def record(conn: Connection, who: Principal, new: NewVisit, now: int) -> dict:
    """Stores the signed visit, its items, photos and the ledger items of its 不符合, with their evidence."""
    who.require("admin", "inspector")
    ws = conn.execute(select(workshops.c.id).where(workshop_clause(who), workshops.c.id == new.workshop)).first()
    if ws is None:
        raise NotFound("作坊不存在", f"workshop {new.workshop} does not exist")
    visit = conn.execute(inspection_visits.insert().values(
        workshop_id=new.workshop, checklist=new.checklist, day=new.day,
        inspectors=canonical_json(list(new.inspectors)), findings=new.summary,
        representative=new.representative, signed_by=who.user_id, signed_at=now)
        .returning(*inspection_visits.c)).one()
    words = {i.key: i for i in checklist.items(new.checklist)}
    item_rows = []
    for f in new.findings:
        ledger_id = None
        if f.result == "fail":
            said = words[f.item]
            opened = ledger.open_item(conn, who, ledger.NewItem(
                workshop=new.workshop, source="inspection", source_ref=str(visit.id),
                text=f"{said.zh}（{said.section}）：{f.note}", category=said.category, severity=f.severity,
                responsible=None, due_at=f.due_at), now)
            ledger_id = opened["id"]
        item_rows.append(conn.execute(inspection_items.insert().values(
            visit_id=visit.id, item=f.item, result=f.result, note=f.note, ledger_item_id=ledger_id)
            .returning(*inspection_items.c)).one())
    stored = [conn.execute(inspection_photos.insert().values(
        visit_id=visit.id, content_type=p.content_type, size=len(p.data), sha256=p.sha256, data=p.data)
        .returning(inspection_photos.c.id, inspection_photos.c.content_type, inspection_photos.c.size,
                   inspection_photos.c.sha256)).one() for p in new.photos]
    evidence.append(conn, now, "inspection_visit", new.workshop, None, {
        "visit": visit.id, "by": who.username, "role": who.role,
        "row": coverage.fact(inspection_visits, visit._mapping),
        "items": [coverage.fact(inspection_items, r._mapping) for r in item_rows],
        "photos": photo_check.meta(stored)})
    return get(conn, who, visit.id, now)


# -- reads ----------------------------------------------------------------------------

def _visit_query(who: Principal):  # type: ignore[no-untyped-def]
    return (select(inspection_visits, workshops.c.name.label("workshop_name"), workshops.c.district_id,
                   districts.c.name.label("district_name"), users.c.username.label("signed_by_name"))
            .join(workshops, workshops.c.id == inspection_visits.c.workshop_id)
            .join(districts, districts.c.id == workshops.c.district_id)
            .join(users, users.c.id == inspection_visits.c.signed_by)
            .where(workshop_clause(who)))


def _summary(r: Any) -> dict:
    return {"id": r.id, "workshop": r.workshop_id, "workshop_name": r.workshop_name, "district": r.district_id,
            "district_name": r.district_name, "checklist": r.checklist, "day": r.day,
            "inspectors": strict_json.loads(r.inspectors), "findings": r.findings,
            "representative": r.representative, "signed_by": r.signed_by_name, "signed_at": r.signed_at}


def get(conn: Connection, who: Principal, visit_id: int, now: int) -> dict:
    """One visit in the caller's scope (404 outside it), its items in the checklist's order with their text
    and, for a 不符合, its ledger item's state; its photos' descriptions."""
    row = conn.execute(_visit_query(who).where(inspection_visits.c.id == visit_id)).first()
    if row is None:
        raise NotFound("检查记录不存在", f"inspection visit {visit_id} does not exist")
    out = _summary(row)
    found = {r.item: r for r in conn.execute(select(inspection_items).where(inspection_items.c.visit_id == visit_id))}
    states = {r.ledger_item_id: ledger.get(conn, who, r.ledger_item_id, now) for r in found.values()
              if r.ledger_item_id is not None}  # at most one per checklist item
    items = []
    for said in checklist.items(row.checklist):
        r = found.get(said.key)
        led = states.get(r.ledger_item_id) if r is not None and r.ledger_item_id else None
        items.append({"item": said.key, "section": said.section, "zh": said.zh, "en": said.en,
                      "result": r.result if r else None, "note": r.note if r else None,
                      "ledger_item": r.ledger_item_id if r else None,
                      "ledger_state": led["state"] if led else None, "due": led["due"] if led else None,
                      "severity": led["severity"] if led else None})
    out["items"] = items
    out["counts"] = {k: sum(1 for i in items if i["result"] == k) for k in RESULTS}
    pics = conn.execute(select(inspection_photos.c.id, inspection_photos.c.content_type, inspection_photos.c.size,
                               inspection_photos.c.sha256).where(inspection_photos.c.visit_id == visit_id)
                        .order_by(inspection_photos.c.id)).all()
    out["photos"] = [{"id": p.id, "type": p.content_type, "size": p.size, "sha256": p.sha256,
                      "url": f"/api/v1/inspections/photos/{p.id}"} for p in pics]
    return out


def list_visits(conn: Connection, who: Principal, workshop: str | None = None, limit: int = 200) -> list[dict]:
    """The visits in scope (of one workshop when given), newest day first, with their counts of results."""
    q = _visit_query(who)
    if workshop is not None:
        q = q.where(inspection_visits.c.workshop_id == workshop)
    rows = conn.execute(q.order_by(inspection_visits.c.day.desc(), inspection_visits.c.id.desc()).limit(limit)).all()
    counts: dict[int, dict[str, int]] = {}
    if rows:
        for c in conn.execute(select(inspection_items.c.visit_id, inspection_items.c.result, func.count())
                              .where(inspection_items.c.visit_id.in_([r.id for r in rows]))
                              .group_by(inspection_items.c.visit_id, inspection_items.c.result)):
            counts.setdefault(c[0], {k: 0 for k in RESULTS})[c[1]] = c[2]
    return [{**_summary(r), "counts": counts.get(r.id, {k: 0 for k in RESULTS})} for r in rows]


def workshop_name(conn: Connection, who: Principal, workshop: str) -> str:
    name = conn.execute(select(workshops.c.name).where(workshop_clause(who), workshops.c.id == workshop)).scalar()
    if name is None:
        raise NotFound("作坊不存在", f"workshop {workshop} does not exist")
    return str(name)


def photo(conn: Connection, who: Principal, photo_id: int) -> tuple[str, bytes]:
    """A photo's type and bytes, only within the caller's scope (404 outside it)."""
    return photo_check.stored(conn, who, inspection_photos.c.visit_id, inspection_visits, photo_id)


def visited(conn: Connection, workshop_ids: list[str], since_day: str, until_day: str) -> dict[str, dict]:
    """The first visit of each workshop between the two days (inclusive): for the spot checks' tracking."""
    if not workshop_ids:
        return {}
    rows = conn.execute(select(inspection_visits.c.workshop_id, inspection_visits.c.id, inspection_visits.c.day)
                        .where(inspection_visits.c.workshop_id.in_(workshop_ids),
                               inspection_visits.c.day >= since_day, inspection_visits.c.day <= until_day)
                        .order_by(inspection_visits.c.day, inspection_visits.c.id)).all()
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r.workshop_id, {"visit": r.id, "day": r.day})
    return out

