"""A workshop's record (登记信息): registration number, product category, address, responsible person and
phone, and the inspector assigned; kept by the district's inspectors and admins.

Every save that changes something is a new row of ``workshop_records`` (the
database refuses to change or delete one) and an evidence entry
(``workshop_record``: the row and the fields it changed) in the same
transaction, so ``sebiao cloud verify`` names a record altered afterwards
and the page shows who changed what and when. The newest row is the record;
a workshop without one (every workshop from before migration 0012) has every
field empty, shown as 未填写 / not filled in.

Who: reading, anyone who sees the workshop (``access.scope``); saving, an
inspector of the workshop's district or an admin of it. Outside the scope the
workshop does not exist (404, before the role is judged); an owner is 403; a
gateway token is 403 (``workshop_clause``).

The product categories are a closed list with stable codes, taken from the
seed: its food classes by raw material (三、色标标识分类: 生制动物性食品 —
livestock, poultry meat and eggs; 水产品 — aquatic animals and algae;
植物性食品), and the regional products it names for branding (二(三)1: 萨拉齐凉皮,
老东河凉糕, 固阳莜面), listed apart because the seed asks the districts to pick
pilot workshops by category (区分类别、试点先行) and these are the ones it names; the
seed's list ends with 等 (and others), hence ``other`` with what the workshop
makes. The seed gives no format for the registration number (登记证号: each
region issues its own), so it is held to letters, digits, CJK characters,
``-``, ``/`` and brackets, at most 40, and no two workshops may hold the
same one.

Where the workshop is (migration 0018): ``latitude`` and ``longitude``, WGS-84
decimal degrees, both or neither (``review.locations``: the datum, the checks,
the ``geo:`` link); empty on every record saved before.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sqlalchemy import Connection, and_, func, insert, or_, select, text

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_in_scope
from cloud_ingest.errors import BadRequest
from cloud_ingest.review import locations
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import (
    WORKSHOP_CATEGORIES,
    districts,
    user_districts,
    users,
    workshop_records,
    workshops,
)

# code -> (中文, English); the order is the form's
CATEGORIES: dict[str, tuple[str, str]] = {
    "raw_animal": ("生制动物性食品（畜禽肉、禽蛋）", "raw animal-origin food (livestock and poultry meat, eggs)"),
    "aquatic": ("水产品（水生动物、藻类）", "aquatic products (aquatic animals, algae)"),
    "plant": ("植物性食品", "plant-origin food"),
    "liangpi": ("凉皮", "liangpi (cold rice-flour sheets)"),
    "liangao": ("凉糕", "liangao (cold rice cake)"),
    "youmian": ("莜面", "youmian (naked-oat noodles)"),
    "other": ("其他（须注明）", "other (say what)"),
}
assert tuple(CATEGORIES) == WORKSHOP_CATEGORIES
FIELDS = ("registration", "category", "category_other", "address", "responsible", "phone", "inspector")
FIELDS += locations.FIELDS  # migration 0018: stored as millionths of a degree
EMPTY = ("未填写", "not filled in")
REGISTRATION = re.compile(r"[0-9A-Za-z\u3400-\u9fff\-/()（）〔〕\[\]]{1,40}")
# a mainland mobile (11 digits, 1[3-9]…) or a landline with its area code (0472-1234567, 047212345678)
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
LONGEST = {"category_other": 100, "address": 200, "responsible": 64}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOCK_KEY = 0x5EB1A3  # pg_advisory_xact_lock key of record saves (grades use 0x5EB1A2)


def _workshop(conn: Connection, who: Principal, workshop_id: str) -> Any:
    """The workshop with its district; 404 outside the caller's scope, before any role is judged."""
    return workshop_in_scope(conn, who, workshop_id, select(
        workshops.c.id, workshops.c.name, workshops.c.district_id, districts.c.name.label("district_name"))
        .join(districts, districts.c.id == workshops.c.district_id))


def newest(conn: Connection, workshop_id: str) -> Any:
    return conn.execute(select(workshop_records).where(workshop_records.c.workshop_id == workshop_id)
                        .order_by(workshop_records.c.id.desc()).limit(1)).first()


def current_values(row: Any) -> dict[str, Any]:
    """The record's fields as stored (all None without a row)."""
    if row is None:
        return dict.fromkeys(FIELDS)
    return {"registration": row.registration, "category": row.category, "category_other": row.category_other,
            "address": row.address, "responsible": row.responsible, "phone": row.phone,
            "inspector": row.inspector_id, "latitude": row.latitude_e6, "longitude": row.longitude_e6}


def _text(body: Mapping[str, Any], key: str, longest: int) -> str | None:
    value = body[key]
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(key, "必须是文字或 null", "must be text or null")
    value = value.strip()
    if not value:
        return None  # an emptied field: not filled in
    if len(value) > longest:
        raise BadRequest(key, f"不能超过 {longest} 个字符", f"at most {longest} characters")
    if CONTROL.search(value):
        raise BadRequest(key, "不能含有控制字符", "must not hold control characters")
    return value


def _inspector(conn: Connection, value: Any, district: str, current: int | None) -> int | None:
    """An inspector account (not disabled) that serves the workshop's district; the one assigned already is kept
    as it is (a save of the other fields does not fail, or drop it, because that account has since been
    disabled or moved to another district)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        value = int(value)  # from the form
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise BadRequest("inspector", "必须是检查员的用户编号或 null", "must be an inspector's user id or null")
    if value == current:
        return value
    found = conn.execute(select(users.c.id).join(user_districts, user_districts.c.user_id == users.c.id).where(
        users.c.id == value, users.c.role == "inspector", users.c.disabled_at.is_(None),
        user_districts.c.district_id == district)).first()
    if found is None:
        raise BadRequest("inspector", "不是本辖区的检查员", "is not an inspector of the workshop's district")
    return value


def _checked(conn: Connection, body: Mapping[str, Any], before: dict[str, Any], district: str) -> dict[str, Any]:
    """The record after this save: the fields given replace the stored ones (null or "" empties one), the
    others stay; each refused naming its field."""
    for key in body:
        if key not in FIELDS:
            raise BadRequest(key, f"未知字段（可用：{', '.join(FIELDS)}）", f"unknown field (known: {', '.join(FIELDS)})")
    out = dict(before)
    if "registration" in body:
        reg = _text(body, "registration", 40)
        if reg is not None and not REGISTRATION.fullmatch(reg):
            raise BadRequest("registration", "登记证号只能含字母、数字、汉字、“-”“/”和括号，至多 40 个字符",
                             "a registration number holds letters, digits, CJK characters, '-', '/' and brackets, "
                             "at most 40")
        out["registration"] = reg
    if "category" in body:
        category = body["category"] if body["category"] != "" else None
        if category is not None and category not in CATEGORIES:
            raise BadRequest("category", f"必须是以下之一：{', '.join(CATEGORIES)}",
                             f"must be one of: {', '.join(CATEGORIES)}")
        out["category"] = category
    for key in ("category_other", "address", "responsible"):
        if key in body:
            out[key] = _text(body, key, LONGEST[key])
    if "phone" in body:
        phone = _text(body, "phone", 20)
        if phone is not None and not PHONE.fullmatch(phone):
            raise BadRequest("phone", "应为 11 位手机号或带区号的固定电话（如 0472-1234567）",
                             "must be an 11-digit mobile number or a landline with its area code (0472-1234567)")
        out["phone"] = phone
    if "inspector" in body:
        out["inspector"] = _inspector(conn, body["inspector"], district, before["inspector"])
    out.update(locations.checked(body, before))
    if out["category"] != "other":
        if "category_other" in body and out["category_other"] is not None:
            raise BadRequest("category_other", "只有类别为“其他”时才填写", "only for the category 'other'")
        out["category_other"] = None
    elif out["category_other"] is None:
        raise BadRequest("category_other", "类别为“其他”时须注明生产什么", "say what the workshop makes (category 'other')")
    return out


def save_record(conn: Connection, who: Principal, workshop_id: str, body: Mapping[str, Any], now: int) -> dict:
    """Saves the record in the caller's write transaction, with its evidence entry, when anything changed;
    returns the record as ``record`` gives it, with ``changed`` (the fields this save changed)."""
    shop = _workshop(conn, who, workshop_id)
    who.require("admin", "inspector")
    if conn.dialect.name == "postgresql":  # two saves at once take turns, so neither is lost between read and write
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    before = current_values(newest(conn, workshop_id))
    after = _checked(conn, body, before, shop.district_id)
    changed = [k for k in FIELDS if after[k] != before[k]]
    if not changed:
        return {**record(conn, who, workshop_id), "changed": []}
    if after["registration"] is not None and "registration" in changed:
        _refuse_taken(conn, workshop_id, after["registration"])
    values = {"workshop_id": workshop_id, "registration": after["registration"], "category": after["category"],
              "category_other": after["category_other"], "address": after["address"],
              "responsible": after["responsible"], "phone": after["phone"], "inspector_id": after["inspector"],
              "latitude_e6": after["latitude"], "longitude_e6": after["longitude"], "set_by": who.user_id,
              "set_at": now}
    row = conn.execute(insert(workshop_records).values(**values).returning(*workshop_records.c)).one()
    evidence.append(conn, now, "workshop_record", workshop_id, None,
                    {"by": who.username, "changed": changed, "row": coverage.fact(workshop_records, row._mapping)})
    return {**record(conn, who, workshop_id), "changed": changed}


def _refuse_taken(conn: Connection, workshop_id: str, registration: str) -> None:
    """No two workshops hold one registration number (each one's newest record counts)."""
    newest_ids = select(func.max(workshop_records.c.id)).group_by(workshop_records.c.workshop_id)
    taken = conn.execute(select(workshop_records.c.workshop_id).where(
        workshop_records.c.id.in_(newest_ids), workshop_records.c.registration == registration,
        workshop_records.c.workshop_id != workshop_id)).first()
    if taken is not None:  # not named: it may lie outside the caller's scope
        raise BadRequest("registration", "该登记证号已登记在另一个作坊",
                         "this registration number is another workshop's")


def _person(conn: Connection, user_id: int | None) -> dict | None:
    if user_id is None:
        return None
    row = conn.execute(select(users.c.id, users.c.username).where(users.c.id == user_id)).first()
    return {"id": row.id, "username": row.username} if row else None


def record(conn: Connection, who: Principal, workshop_id: str, history: int = 50) -> dict:
    """The workshop's record (``filled``: whether any row exists), and its newest ``history`` saves, newest
    first, each with who saved it and what it changed."""
    shop = _workshop(conn, who, workshop_id)
    rows = conn.execute(select(workshop_records, users.c.username).join(users, users.c.id ==
                        workshop_records.c.set_by).where(workshop_records.c.workshop_id == workshop_id)
                        .order_by(workshop_records.c.id.desc()).limit(history + 1)).all()
    now = current_values(rows[0] if rows else None)
    saves = []
    for i, r in enumerate(rows[:history]):
        older = current_values(rows[i + 1]) if i + 1 < len(rows) else dict.fromkeys(FIELDS)
        mine = current_values(r)
        saves.append({"id": r.id, "at": r.set_at, "by": r.username,
                      "changed": [k for k in FIELDS if mine[k] != older[k]]})
    category = now["category"]
    return {"workshop": shop.id, "name": shop.name, "district": shop.district_id,
            "district_name": shop.district_name, "filled": bool(rows),
            "registration": now["registration"], "category": category,
            "category_zh": CATEGORIES[category][0] if category else None,
            "category_en": CATEGORIES[category][1] if category else None,
            "category_other": now["category_other"], "address": now["address"],
            "responsible": now["responsible"], "phone": now["phone"],
            "inspector": _person(conn, now["inspector"]), "history": saves, **location(now)}


def location(values: dict[str, Any]) -> dict[str, Any]:
    """The record's location as the API and the pages give it: decimal degrees, the datum, the ``geo:`` link."""
    lat, lon = values["latitude"], values["longitude"]
    placed = lat is not None and lon is not None
    return {"latitude": locations.degrees(lat), "longitude": locations.degrees(lon), "datum": locations.DATUM,
            "geo_uri": locations.geo_uri(lat, lon) if placed else None}


def district_inspectors(conn: Connection, district: str, current: int | None = None) -> list[dict]:
    """The inspectors (not disabled) who serve the district, and the one assigned now whatever became of it:
    the form's choices."""
    serving = and_(users.c.role == "inspector", users.c.disabled_at.is_(None), users.c.id.in_(
        select(user_districts.c.user_id).where(user_districts.c.district_id == district)))
    return [{"id": r.id, "username": r.username} for r in conn.execute(
        select(users.c.id, users.c.username).where(or_(serving, users.c.id == current) if current else serving)
        .order_by(users.c.username))]


__all__ = ["CATEGORIES", "EMPTY", "FIELDS", "district_inspectors", "location", "record", "save_record"]
