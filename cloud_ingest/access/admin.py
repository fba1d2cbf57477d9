"""Administration: districts, workshops, users, tokens; login; the bootstrap admin.

Only ``admin`` may call the functions that change tenancy (checked here, not
only in the HTTP layer). Request bodies are checked field by field and refused
with a ``BadRequest`` naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select, update

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.passwords import hash_password
from cloud_ingest.access.tokens import new_token
from cloud_ingest.config import MIN_PASSWORD, USERNAME, BootstrapAdmin
from cloud_ingest.errors import BadRequest, Conflict, NotFound
from cloud_ingest.store.schema import (
    api_tokens,
    districts,
    user_districts,
    users,
    workshops,
)

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+){0,15}"


def _field(body: Any, key: str, pattern: str | None = None, required: bool = True) -> Any:
    if not isinstance(body, dict):
        raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(key, "缺少必填字段", "missing required field")
        return None
    if pattern is not None and (not isinstance(value, str) or len(value) > 32 or not re.fullmatch(pattern, value)):
        raise BadRequest(key, "格式不对", f"malformed: must match {pattern} (at most 32 characters)")
    if pattern is None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(key, "必须是非空字符串", "must be a non-empty string")
    return value


def create_district(conn: Connection, who: Principal, body: Any) -> dict:
    who.require("admin")
    row = {"id": _field(body, "id", SLUG), "name": _field(body, "name")}
    _insert_new(conn, districts, row, f"district {row['id']!r}")
    return row


def create_workshop(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    who.require("admin")
    row = {"id": _field(body, "id", SLUG), "name": _field(body, "name"), "district_id": _field(body, "district", SLUG)}
    _refers(conn, districts, row["district_id"], "district")
    _insert_new(conn, workshops, {**row, "created_at": now}, f"workshop {row['id']!r}")
    return {"id": row["id"], "name": row["name"], "district": row["district_id"]}


def create_user(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    who.require("admin")
    username = _field(body, "username", USERNAME)
    password = _field(body, "password")
    if len(password) < MIN_PASSWORD:
        raise BadRequest("password", f"至少 {MIN_PASSWORD} 个字符", f"must have at least {MIN_PASSWORD} characters")
    role = _field(body, "role")
    if role not in ("admin", "inspector", "owner"):
        raise BadRequest("role", "必须是 admin、inspector 或 owner", "must be one of admin, inspector, owner")
    workshop = _field(body, "workshop", SLUG, required=role == "owner")
    if role != "owner" and workshop is not None:
        raise BadRequest("workshop", "只有作坊主绑定作坊", "only an owner belongs to a workshop")
    scope = body.get("districts", []) if role == "inspector" else []
    if role == "inspector" and (not isinstance(scope, list) or not scope or not all(isinstance(d, str) for d in scope)):
        raise BadRequest("districts", "检查员须至少有一个辖区", "an inspector needs a non-empty list of districts")
    if role != "inspector" and body.get("districts"):
        raise BadRequest("districts", "只有检查员有辖区", "only an inspector has districts")
    if workshop is not None:
        _refers(conn, workshops, workshop, "workshop")
    for d in scope:
        _refers(conn, districts, d, "districts")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Conflict("用户名已存在", f"username: {username!r} is taken")
    user_id = conn.execute(users.insert().values(username=username, password_hash=hash_password(password),
                                                 role=role, workshop_id=workshop, created_at=now)).inserted_primary_key[0]
    for d in sorted(set(scope)):
        conn.execute(user_districts.insert().values(user_id=user_id, district_id=d))
    return {"id": user_id, "username": username, "role": role, "workshop": workshop, "districts": sorted(set(scope))}


def issue_token(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    """A gateway token for one workshop (``{"kind":"gateway","workshop":…}``) or an API token for one user."""
    who.require("admin")
    kind = _field(body, "kind")
    label = body.get("label") or ""
    if kind == "gateway":
        workshop = _field(body, "workshop", SLUG)
        _refers(conn, workshops, workshop, "workshop")
        return _issue(conn, "gateway", now, label, workshop_id=workshop)
    if kind == "api":
        user = body.get("user")
        if isinstance(user, bool) or not isinstance(user, int):
            raise BadRequest("user", "必须是用户编号", "must be a user id")
        _refers(conn, users, user, "user")
        return _issue(conn, "api", now, label, user_id=user)
    raise BadRequest("kind", "必须是 gateway 或 api", "must be gateway or api")


def _issue(conn: Connection, kind: str, now: int, label: str, **owner: Any) -> dict:
    token = new_token(kind)
    token_id = conn.execute(api_tokens.insert().values(kind=kind, token_hash=token.digest, label=str(label)[:200],
                                                       created_at=now, **owner)).inserted_primary_key[0]
    return {"id": token_id, "kind": kind, "token": token.secret, **{k.removesuffix("_id"): v for k, v in owner.items()}}


def revoke_token(conn: Connection, who: Principal, token_id: int, now: int) -> dict:
    who.require("admin")
    done = conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=now))
    if done.rowcount != 1:
        _exists(conn, api_tokens, token_id, "token")
        raise Conflict("令牌已被吊销", f"token {token_id} is already revoked")
    return {"id": token_id, "revoked_at": now}


def login_fields(body: Any) -> tuple[str, str]:
    """The JSON login's username and password (checked by ``access.login.Logins``)."""
    return _field(body, "username"), _field(body, "password")


def login_token(conn: Connection, user_id: int, now: int) -> dict:
    """A new API token for a user who just gave the right password."""
    return _issue(conn, "api", now, "login", user_id=user_id)


def ensure_admin(conn: Connection, admin: BootstrapAdmin, now: int) -> bool:
    """Creates the bootstrap admin if no user of that name exists; True when created."""
    if conn.execute(select(users.c.id).where(users.c.username == admin.username)).first():
        return False
    conn.execute(users.insert().values(username=admin.username, password_hash=hash_password(admin.password),
                                       role="admin", workshop_id=None, created_at=now))
    return True


def _exists(conn: Connection, table, key: Any, what: str) -> None:  # type: ignore[no-untyped-def]
    if conn.execute(select(table.c.id).where(table.c.id == key)).first() is None:
        raise NotFound(f"{what} 不存在", f"{what}: {key!r} does not exist")


def _refers(conn: Connection, table, key: Any, field: str) -> None:  # type: ignore[no-untyped-def]
    if conn.execute(select(table.c.id).where(table.c.id == key)).first() is None:
        raise BadRequest(field, f"{key!r} 不存在", f"{key!r} does not exist")


def _insert_new(conn: Connection, table, row: dict, what: str) -> None:  # type: ignore[no-untyped-def]
    if conn.execute(select(table.c.id).where(table.c.id == row["id"])).first():
        raise Conflict("已存在", f"{what} already exists")
    conn.execute(table.insert().values(**row))
