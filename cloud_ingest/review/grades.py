"""The regulator's grade of a workshop (分级定榜: 金/银/铜/橙榜), its history (升榜/降榜) and its publication.

An inspector of the workshop's district (or an admin of it) sets a grade
with the date it takes effect and a reason; every grading is a new row of
``workshop_grades`` (the database refuses to change or delete one) and an
evidence entry (``grade_set``) in the same transaction. The newest row is
the workshop's grade. Effective dates never go back: a grading may not take
effect before the one it follows, nor in the future (China Standard Time),
so the history's order is the order of the dates.

What is public, and why: the grade is a claim the regulator makes to
consumers (the seed's 分级定榜 is published), so a graded workshop's name,
district, grade, effective date, direction and the reason are readable
without logging in (``public_district``, ``public_history``). Who set it is
not (a person, not the regulator's claim), nor anything else of the
workshop; a workshop without a grading is not listed, and asking for one
answers as for an unknown workshop. The public lists come ``PAGE`` to a page
(``?page=N``), each from a bounded query, so a big district costs no more
than a small one. Setting a grade, and
every other endpoint, stays authenticated.

The gateway fetches its workshop's grade as a statement the cloud signs
(``statement``, ``sebiao_common.grade_statement``); its ``seq`` is the row's
id, which only grows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import Connection, case, func, insert, select, text

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_in_scope
from cloud_ingest.errors import BadRequest, NotFound, StorageError, Unprocessable
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.anchor import Signer
from cloud_ingest.store.schema import GRADES, districts, workshop_grades, workshops
from sebiao_common.clock import CST
from sebiao_common.grade_statement import DATE, GRADE_WORDS, GradeStatement

MAX_REASON = 2000
PAGE = 100  # gradings, or graded workshops, on one page of a public list
MAX_PAGE = 100_000
_LOCK_KEY = 0x5EB1A2  # pg_advisory_xact_lock key of grading (the evidence log's is 0x5EB1A0)
# how a grading moved the workshop: 定榜 (the first), 升榜 (up), 降榜 (down), 维持 (confirmed as it was)
DIRECTIONS = {"first": ("定榜", "first graded"), "up": ("升榜", "up"), "down": ("降榜", "down"),
              "kept": ("维持", "kept")}


def direction(previous: str | None, grade: str) -> str:
    if previous is None:
        return "first"
    if previous == grade:
        return "kept"
    return "up" if GRADES.index(grade) < GRADES.index(previous) else "down"


def _today(now: int) -> date:
    return datetime.fromtimestamp(now / 1000, CST).date()


def today(now: int) -> str:
    """The latest effective date a grading may have now (China Standard Time), ``YYYY-MM-DD``."""
    return _today(now).isoformat()


def _fields(body: Mapping[str, Any], now: int) -> tuple[str, date, str]:
    grade, effective, reason = body.get("grade"), body.get("effective"), body.get("reason")
    if grade not in GRADES:
        raise BadRequest("grade", f"必须是 {' / '.join(GRADES)} 之一（金榜/银榜/铜榜/橙榜）",
                         f"must be one of: {', '.join(GRADES)}")
    if not isinstance(effective, str):
        raise BadRequest("effective", "缺少生效日期（YYYY-MM-DD）", "the date it takes effect (YYYY-MM-DD) is missing")
    try:  # the shape first: fromisoformat also takes week dates (2025-W48-3), ten characters too
        day = date.fromisoformat(effective) if DATE.fullmatch(effective) else None
    except ValueError:
        day = None
    if day is None:
        raise BadRequest("effective", "日期格式应为 YYYY-MM-DD", "a date must be YYYY-MM-DD")
    if day > _today(now):
        raise Unprocessable("生效日期不能晚于今天：等级在生效之日发布",
                            "the effective date may not be after today: a grade is published when it takes effect")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("reason", "必须写明定榜理由（将公开）", "a reason is required (it is published)")
    if len(reason) > MAX_REASON:
        raise BadRequest("reason", f"不能超过 {MAX_REASON} 个字符", f"at most {MAX_REASON} characters")
    return grade, day, reason.strip()


def newest(conn: Connection, workshop_id: str) -> Any:
    """The workshop's newest grading (its grade), or None."""
    return conn.execute(select(workshop_grades).where(workshop_grades.c.workshop_id == workshop_id)
                        .order_by(workshop_grades.c.id.desc()).limit(1)).first()


def set_grade(conn: Connection, who: Principal, workshop_id: str, body: Mapping[str, Any], now: int) -> dict:
    """A new grading, in the caller's write transaction, with its evidence entry; returns it as published."""
    workshop_in_scope(conn, who, workshop_id)  # 404 outside the scope, before the role is judged
    who.require("admin", "inspector")
    grade, day, reason = _fields(body, now)
    if conn.dialect.name == "postgresql":  # two graders at once take turns (SQLite: its single writer does);
        # an advisory lock, as the workers' role may not lock a workshops row (FOR UPDATE needs UPDATE there)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    before = newest(conn, workshop_id)
    if before is not None and day.isoformat() < before.effective:
        raise Unprocessable(f"生效日期早于当前等级的生效日期 {before.effective}",
                            f"the effective date is before that of the current grade ({before.effective})")
    values = {"workshop_id": workshop_id, "grade": grade, "previous": before.grade if before else None,
              "effective": day.isoformat(), "reason": reason, "set_by": who.user_id, "set_at": now}
    row = conn.execute(insert(workshop_grades).values(**values).returning(*workshop_grades.c)).one()
    moved = direction(values["previous"], grade)
    evidence.append(conn, now, "grade_set", workshop_id, None,
                    {"grade": grade, "previous": values["previous"], "direction": moved,
                     "effective": values["effective"], "reason": reason, "by": who.username,
                     "row": coverage.fact(workshop_grades, row._mapping)})
    return _public(row)


def _public(row: Any) -> dict:
    """A grading as the public sees it: no user."""
    zh, en = GRADE_WORDS[row.grade]
    moved = direction(row.previous, row.grade)
    return {"id": row.id, "workshop": row.workshop_id, "grade": row.grade, "grade_zh": zh, "grade_en": en,
            "previous": row.previous, "direction": moved, "direction_zh": DIRECTIONS[moved][0],
            "direction_en": DIRECTIONS[moved][1], "effective": row.effective, "reason": row.reason,
            "published_at": row.set_at}


def page_number(query: Mapping[str, str], *, strict: bool = True) -> int:
    """``?page=N`` of a public list (1 when absent); a page that is not a number from 1 to ``MAX_PAGE`` is a
    400, and so is any other parameter when ``strict`` (the JSON API; the pages ignore them: a link shared in
    a chat app comes back with the app's own parameters, ``?from=singlemessage``)."""
    for key in query:
        if strict and key != "page":
            raise BadRequest(key, "未知参数（只有 page）", "unknown parameter (known: page)")
    value = query.get("page", "1")
    if not (value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= MAX_PAGE):
        raise BadRequest("page", f"必须是 1 到 {MAX_PAGE} 的整数", f"must be a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _paged(total: int, page: int) -> dict:
    """The page's place (``page``, ``pages``, ``total``); 404 past the last page (the first always exists)."""
    pages = max(1, -(-total // PAGE))
    if page > pages:
        raise NotFound(f"没有第 {page} 页（共 {pages} 页）", f"no page {page} (there are {pages})")
    return {"page": page, "pages": pages, "total": total}


def public_history(conn: Connection, workshop_id: str, page: int = 1) -> dict:
    """A graded workshop's grade and its history, newest first, ``PAGE`` gradings a page; 404 for a workshop
    never graded (or unknown): the same answer, so an ungraded workshop's existence is not told."""
    shop = conn.execute(select(workshops.c.id, workshops.c.name, districts.c.id.label("district"),
                               districts.c.name.label("district_name"))
                        .join(districts, districts.c.id == workshops.c.district_id)
                        .where(workshops.c.id == workshop_id)).first()
    now = newest(conn, workshop_id) if shop else None
    if now is None:
        raise NotFound("该作坊尚无监管部门发布的等级", f"no grade has been published for workshop {workshop_id!r}")
    total = conn.execute(select(func.count()).select_from(workshop_grades)
                         .where(workshop_grades.c.workshop_id == workshop_id)).scalar_one()
    place = _paged(total, page)
    rows = conn.execute(select(workshop_grades).where(workshop_grades.c.workshop_id == workshop_id)
                        .order_by(workshop_grades.c.id.desc()).limit(PAGE).offset((page - 1) * PAGE)).all()
    return {"workshop": shop.id, "name": shop.name, "district": shop.district, "district_name": shop.district_name,
            "grade": _public(now), "history": [_public(r) for r in rows], **place}


def public_district(conn: Connection, district_id: str, page: int = 1) -> dict:
    """A district's graded workshops with their grades (best first, then by name), ``PAGE`` a page, in one
    query whatever the district's size; 404 for an unknown district."""
    place = conn.execute(select(districts).where(districts.c.id == district_id)).first()
    if place is None:
        raise NotFound("没有这个辖区", f"no district {district_id!r}")
    last = (select(func.max(workshop_grades.c.id).label("id")).join(workshops, workshops.c.id ==
            workshop_grades.c.workshop_id).where(workshops.c.district_id == district_id)
            .group_by(workshop_grades.c.workshop_id).subquery())
    total = conn.execute(select(func.count()).select_from(last)).scalar_one()
    paged = _paged(total, page)
    rank = case({g: i for i, g in enumerate(GRADES)}, value=workshop_grades.c.grade)
    rows = conn.execute(select(workshop_grades, workshops.c.name.label("name"))
                        .join(last, last.c.id == workshop_grades.c.id)
                        .join(workshops, workshops.c.id == workshop_grades.c.workshop_id)
                        .order_by(rank, workshops.c.name, workshops.c.id).limit(PAGE).offset((page - 1) * PAGE)
                        ).all()
    out = [{"workshop": r.workshop_id, "name": r.name, **_public(r)} for r in rows]
    return {"district": place.id, "district_name": place.name, "workshops": out, **paged}


def statement(conn: Connection, who: Principal, signer: Signer | None, now: int) -> dict:
    """The signed statement of the gateway's own workshop's grade (``GET /api/v1/grade``)."""
    who.require("gateway")
    if signer is None:
        raise StorageError("云端未配置签名密钥，不能发布等级",
                           "the cloud has no signing key (evidence.signing_key): it publishes no grade statements")
    assert who.workshop is not None
    row = newest(conn, who.workshop)
    if row is None:
        raise NotFound("监管部门尚未发布本作坊的等级", "no grade has been published for this workshop yet")
    signed = GradeStatement(workshop=row.workshop_id, grade=row.grade, effective=row.effective, seq=row.id,
                            issued_at=now)
    return signed.wire(signer.key_id, signer.sign_other(signed.note()))


__all__ = ["DIRECTIONS", "PAGE", "direction", "newest", "page_number", "today", "public_district", "public_history",
           "set_grade", "statement"]
