"""Administration: districts, workshops, users, tokens; the bootstrap admin.

Only ``admin`` may call these functions (checked here, not only in the HTTP
layer), and only within its reach (``access.scope``): an admin of every
district reaches everything; a district admin only its districts' workshops,
their gateway tokens, and the inspectors and owners who work only there. What
lies beyond its reach is answered as if it did not exist (404, or 400 naming
the field), so its existence does not leak. Request bodies are checked field by
field and refused with a ``BadRequest`` naming the field.

A disabled user cannot log in, and its page sessions and tokens stop at once:
disabling deletes the sessions and revokes the tokens for good (enabling the
user again brings none of them back).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, delete, select, update

from cloud_ingest.access import public_slugs
from cloud_ingest.access.auth import Principal
from cloud_ingest.access.login import WRONG
from cloud_ingest.access.passwords import hash_password
from cloud_ingest.access.scope import managed_tokens, managed_users, visible_workshops
from cloud_ingest.access.tokens import LIFETIME_DAYS, MAX_LIFETIME_DAYS, new_token
from cloud_ingest.config import MIN_PASSWORD, USERNAME, BootstrapAdmin
from cloud_ingest.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from cloud_ingest.store import evidence
from cloud_ingest.store.schema import (
    api_tokens,
    districts,
    page_sessions,
    user_districts,
    users,
    workshops,
)
from sebiao_common import batch_signature
from sebiao_common.clock import DAY_MS

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
    _everywhere(who, "只有全局管理员可以新建辖区", "only an admin of every district may create districts")
    row = {"id": _field(body, "id", SLUG), "name": _field(body, "name")}
    _insert_new(conn, districts, row, f"district {row['id']!r}")
    return row


def create_workshop(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    who.require("admin")
    row = {"id": _field(body, "id", SLUG), "name": _field(body, "name"), "district_id": _field(body, "district", SLUG)}
    _refers(conn, districts, row["district_id"], "district", _reach(who, districts))
    _insert_new(conn, workshops, {**row, "created_at": now}, f"workshop {row['id']!r}")
    public_slugs.ensure(conn, row["id"], now)  # its public page's random address (docs/public-page.md)
    return {"id": row["id"], "name": row["name"], "district": row["district_id"]}


def create_user(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    """An admin (with ``districts``: a district admin), an inspector (``districts``) or an owner (``workshop``)."""
    who.require("admin")
    username = _field(body, "username", USERNAME)
    password = _field(body, "password")
    if len(password) < MIN_PASSWORD:
        raise BadRequest("password", f"至少 {MIN_PASSWORD} 个字符", f"must have at least {MIN_PASSWORD} characters")
    role = _field(body, "role")
    if role not in ("admin", "inspector", "owner"):
        raise BadRequest("role", "必须是 admin、inspector 或 owner", "must be one of admin, inspector, owner")
    if role == "admin":
        _everywhere(who, "只有全局管理员可以新建管理员", "only an admin of every district may create admins")
    workshop = _field(body, "workshop", SLUG, required=role == "owner")
    if role != "owner" and workshop is not None:
        raise BadRequest("workshop", "只有作坊主绑定作坊", "only an owner belongs to a workshop")
    scope = body.get("districts", []) if role != "owner" else []
    if role != "owner" and (scope is None or not isinstance(scope, list)
                            or not all(isinstance(d, str) for d in scope)):
        raise BadRequest("districts", "必须是辖区列表", "must be a list of districts")
    if role == "inspector" and not scope:
        raise BadRequest("districts", "检查员须至少有一个辖区", "an inspector needs a non-empty list of districts")
    if role == "owner" and body.get("districts"):
        raise BadRequest("districts", "作坊主没有辖区", "an owner has no districts")
    if workshop is not None:
        _refers(conn, workshops, workshop, "workshop", workshops.c.id.in_(visible_workshops(who)))
    for d in scope:
        _refers(conn, districts, d, "districts", _reach(who, districts))
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Conflict("用户名已存在", f"username: {username!r} is taken")
    user_id = conn.execute(users.insert().values(username=username, password_hash=hash_password(password),
                                                 role=role, workshop_id=workshop, created_at=now)).inserted_primary_key[0]
    for d in sorted(set(scope)):
        conn.execute(user_districts.insert().values(user_id=user_id, district_id=d))
    return {"id": user_id, "username": username, "role": role, "workshop": workshop, "districts": sorted(set(scope))}


def list_users(conn: Connection, who: Principal, query: Mapping[str, str]) -> list[dict]:
    """The users this admin manages, by id; ``?role=`` and ``?disabled=true|false`` narrow the list."""
    where = [managed_users(who)]
    if (role := query.get("role")) is not None:
        if role not in ("admin", "inspector", "owner"):
            raise BadRequest("role", "必须是 admin、inspector 或 owner", "must be one of admin, inspector, owner")
        where.append(users.c.role == role)
    if (disabled := _flag(query, "disabled")) is not None:
        where.append(users.c.disabled_at.is_not(None) if disabled else users.c.disabled_at.is_(None))
    rows = conn.execute(select(users).where(*where).order_by(users.c.id)).all()
    scopes: dict[int, list[str]] = {}
    for r in conn.execute(select(user_districts).where(user_districts.c.user_id.in_([u.id for u in rows]))
                          .order_by(user_districts.c.district_id)):
        scopes.setdefault(r.user_id, []).append(r.district_id)
    return [_user_json(u, scopes.get(u.id, [])) for u in rows]


def disable_user(conn: Connection, who: Principal, user_id: int, now: int) -> dict:
    """No login from now on; the user's page sessions end and its tokens are revoked, at once and for good."""
    user = _managed_user(conn, who, user_id)
    if user.id == who.user_id:
        raise Conflict("不能停用自己", "an admin cannot disable itself")
    if user.disabled_at is not None:
        raise Conflict("用户已停用", f"user {user_id} is already disabled")
    conn.execute(update(users).where(users.c.id == user_id).values(disabled_at=now))
    conn.execute(delete(page_sessions).where(page_sessions.c.user_id == user_id))
    revoked = conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                           .values(revoked_at=now)).rowcount
    return {**_user_json(user, _districts_of(conn, user_id), disabled_at=now), "revoked_tokens": revoked}


def enable_user(conn: Connection, who: Principal, user_id: int, now: int) -> dict:
    """The user may log in again (its old sessions and tokens stay ended)."""
    user = _managed_user(conn, who, user_id)
    if user.disabled_at is None:
        raise Conflict("用户未停用", f"user {user_id} is not disabled")
    conn.execute(update(users).where(users.c.id == user_id).values(disabled_at=None))
    return _user_json(user, _districts_of(conn, user_id), disabled_at=None)


def _managed_user(conn: Connection, who: Principal, user_id: int) -> Any:
    user = conn.execute(select(users).where(users.c.id == user_id, managed_users(who))).first()
    if user is None:
        raise NotFound("用户不存在", f"user: {user_id!r} does not exist")
    return user


def _districts_of(conn: Connection, user_id: int) -> list[str]:
    return list(conn.execute(select(user_districts.c.district_id).where(user_districts.c.user_id == user_id)
                             .order_by(user_districts.c.district_id)).scalars())


def _user_json(user: Any, scope: list[str], **changed: Any) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role, "workshop": user.workshop_id,
            "districts": scope, "created_at": user.created_at, "disabled_at": user.disabled_at, **changed}


def issue_token(conn: Connection, who: Principal, body: Any, now: int) -> dict:
    """A gateway token for one workshop (``{"kind":"gateway","workshop":…}``) or an API token for one user;
    ``expires_in_days`` (1…3650) sets its lifetime: by default a gateway token does not expire (a workshop's
    gateway must not fall silent on a date) and an API token lasts ``LIFETIME_DAYS["api"]`` days."""
    who.require("admin")
    kind = _field(body, "kind")
    label = body.get("label") or ""
    if kind not in ("gateway", "api"):
        raise BadRequest("kind", "必须是 gateway 或 api", "must be gateway or api")
    days = body.get("expires_in_days", LIFETIME_DAYS[kind])
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= MAX_LIFETIME_DAYS):
        raise BadRequest("expires_in_days", f"必须是 1 到 {MAX_LIFETIME_DAYS} 的整数",
                         f"must be a whole number of days from 1 to {MAX_LIFETIME_DAYS}")
    expires = None if days is None else now + days * DAY_MS
    if kind == "gateway":
        workshop = _field(body, "workshop", SLUG)
        _refers(conn, workshops, workshop, "workshop", workshops.c.id.in_(visible_workshops(who)))
        public = _public_key(body)
        issued = _issue(conn, "gateway", now, label, expires, workshop_id=workshop,
                        public_key=batch_signature.public_text(public), key_id=batch_signature.key_id(public))
        _chain_key(conn, now, issued["id"], workshop, public)
        return issued
    user = body.get("user")
    if isinstance(user, bool) or not isinstance(user, int):
        raise BadRequest("user", "必须是用户编号", "must be a user id")
    _refers(conn, users, user, "user", managed_users(who))
    if conn.execute(select(users.c.disabled_at).where(users.c.id == user)).scalar_one() is not None:
        raise Conflict("用户已停用", f"user {user} is disabled")
    return _issue(conn, "api", now, label, expires, user_id=user)


def _public_key(body: Mapping[str, Any]) -> Ed25519PublicKey:
    """The gateway's public key as ``sebiao gateway-key`` prints it: required for every new gateway token."""
    if body.get("public_key") is None:
        raise BadRequest("public_key", "缺少网关公钥（在网关上运行 sebiao gateway-key 获取）",
                         "missing: the gateway's public key, as `sebiao gateway-key` prints it on the gateway")
    try:
        return batch_signature.parse_public(body["public_key"])
    except ValueError as exc:
        raise BadRequest("public_key", "不是网关公钥", str(exc)) from None


def _chain_key(conn: Connection, now: int, token_id: int, workshop: str, public: Ed25519PublicKey) -> None:
    """The key goes into the evidence chain as well: ``verify`` checks batches against the chain's keys, so a key
    put into the table afterwards (by whoever holds the database) is found out."""
    evidence.append(conn, now, "gateway_key", workshop, None, {
        "token": token_id, "key": batch_signature.public_text(public), "key_id": batch_signature.key_id(public)})


def set_gateway_key(conn: Connection, who: Principal, token_id: int, body: Any, now: int) -> dict:
    """Registers the public key of a gateway token made before keys were required: once (409 after)."""
    who.require("admin")
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id, managed_tokens(who))).first()
    if row is None or row.kind != "gateway":
        raise NotFound("网关令牌不存在", f"token: {token_id!r} is not a gateway token")
    if row.public_key is not None:
        raise Conflict("该网关令牌已登记公钥，不可更改（如换网关请新发令牌）",
                       f"token {token_id} already has a public key ({row.key_id}); it is set once: for a new "
                       "gateway issue a new token")
    if row.revoked_at is not None:
        raise Conflict("令牌已被吊销", f"token {token_id} is revoked")
    public = _public_key(body)
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(
        public_key=batch_signature.public_text(public), key_id=batch_signature.key_id(public)))
    _chain_key(conn, now, token_id, row.workshop_id, public)
    return {"id": token_id, "workshop": row.workshop_id, "key_id": batch_signature.key_id(public)}


def _issue(conn: Connection, kind: str, now: int, label: str, expires: int | None, **owner: Any) -> dict:
    token = new_token(kind)
    token_id = conn.execute(api_tokens.insert().values(kind=kind, token_hash=token.digest, label=str(label)[:200],
                                                       created_at=now, expires_at=expires,
                                                       **owner)).inserted_primary_key[0]
    return {"id": token_id, "kind": kind, "token": token.secret, "expires_at": expires,
            **{k if k == "key_id" else k.removesuffix("_id"): v for k, v in owner.items() if k != "public_key"}}


def list_tokens(conn: Connection, who: Principal, query: Mapping[str, str], now: int) -> list[dict]:
    """The tokens this admin manages, newest first, never their secrets. ``?state=active|expired|revoked``,
    ``?kind=gateway|api``, ``?user=ID``, ``?workshop=ID`` narrow the list; ``?limit=`` (1…1000, 200)."""
    where = [managed_tokens(who)]
    state = query.get("state")
    if state == "active":
        where += [api_tokens.c.revoked_at.is_(None),
                  (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > now)]
    elif state == "expired":
        where += [api_tokens.c.revoked_at.is_(None), api_tokens.c.expires_at <= now]
    elif state == "revoked":
        where.append(api_tokens.c.revoked_at.is_not(None))
    elif state is not None:
        raise BadRequest("state", "必须是 active、expired 或 revoked", "must be one of active, expired, revoked")
    if (kind := query.get("kind")) is not None:
        if kind not in ("gateway", "api"):
            raise BadRequest("kind", "必须是 gateway 或 api", "must be gateway or api")
        where.append(api_tokens.c.kind == kind)
    if (user := query.get("user")) is not None:
        where.append(api_tokens.c.user_id == _whole(user, "user"))
    if (workshop := query.get("workshop")) is not None:
        where.append(api_tokens.c.workshop_id == workshop)
    limit = _whole(query.get("limit", "200"), "limit")
    if not 1 <= limit <= 1000:
        raise BadRequest("limit", "必须在 1 到 1000 之间", "must be from 1 to 1000")
    rows = conn.execute(select(api_tokens, users.c.username).outerjoin(users, users.c.id == api_tokens.c.user_id)
                        .where(*where).order_by(api_tokens.c.id.desc()).limit(limit)).all()
    return [{"id": t.id, "kind": t.kind, "label": t.label, "workshop": t.workshop_id, "user": t.user_id,
             "username": t.username, "created_at": t.created_at, "expires_at": t.expires_at,
             "revoked_at": t.revoked_at, "state": _state(t, now), "key_id": t.key_id} for t in rows]


def _state(token: Any, now: int) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at is not None and token.expires_at <= now else "active"


def revoke_token(conn: Connection, who: Principal, token_id: int, now: int) -> dict:
    who.require("admin")
    if conn.execute(select(api_tokens.c.id).where(api_tokens.c.id == token_id, managed_tokens(who))).first() is None:
        raise NotFound("令牌不存在", f"token: {token_id!r} does not exist")
    return _revoke(conn, token_id, now)


def revoke_own_token(conn: Connection, who: Principal, now: int) -> dict:
    """The JSON API's logout: the API token the request came with is revoked."""
    who.require("admin", "inspector", "owner")
    if who.token_id is None:
        raise Forbidden("只有令牌可以注销自己", "only a bearer token can log itself out")
    return _revoke(conn, who.token_id, now)


def _revoke(conn: Connection, token_id: int, now: int) -> dict:
    done = conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=now))
    if done.rowcount != 1:
        raise Conflict("令牌已被吊销", f"token {token_id} is already revoked")
    return {"id": token_id, "revoked_at": now}


def login_fields(body: Any) -> tuple[str, str]:
    """The JSON login's username and password (checked by ``access.login.Logins``)."""
    return _field(body, "username"), _field(body, "password")


def login_token(conn: Connection, user_id: int, now: int) -> dict:
    """A new API token for a user who just gave the right password; it lasts ``LIFETIME_DAYS["login"]`` days."""
    if conn.execute(select(users.c.disabled_at).where(users.c.id == user_id)).scalar_one() is not None:
        raise Unauthorized(*WRONG)  # disabled while the password was being checked
    return _issue(conn, "api", now, "login", now + LIFETIME_DAYS["login"] * DAY_MS, user_id=user_id)


def ensure_admin(conn: Connection, admin: BootstrapAdmin, now: int) -> bool:
    """Creates the bootstrap admin if no user of that name exists; True when created."""
    if conn.execute(select(users.c.id).where(users.c.username == admin.username)).first():
        return False
    conn.execute(users.insert().values(username=admin.username, password_hash=hash_password(admin.password),
                                       role="admin", workshop_id=None, created_at=now))
    return True


def _refers(conn: Connection, table, key: Any, field: str, reach: Any = None) -> None:  # type: ignore[no-untyped-def]
    """``key`` names a row of ``table`` (within ``reach``, a condition on it): else 400 naming the field."""
    found = select(table.c.id).where(table.c.id == key, *(() if reach is None else (reach,)))
    if conn.execute(found).first() is None:
        raise BadRequest(field, f"{key!r} 不存在", f"{key!r} does not exist")


def _everywhere(who: Principal, zh: str, en: str) -> None:
    if not who.require("admin").everywhere:
        raise Forbidden(zh, en)


def _reach(who: Principal, table) -> Any:  # type: ignore[no-untyped-def]
    """The districts an admin reaches, as a condition on ``table`` (``districts``)."""
    return None if who.everywhere else table.c.id.in_(sorted(who.districts))


def _flag(query: Mapping[str, str], key: str) -> bool | None:
    value = query.get(key)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise BadRequest(key, "必须是 true 或 false", "must be true or false")
    return value == "true"


def _whole(value: str, key: str) -> int:
    if not value.isdigit():
        raise BadRequest(key, "必须是整数", "must be a whole number")
    return int(value)


def _insert_new(conn: Connection, table, row: dict, what: str) -> None:  # type: ignore[no-untyped-def]
    if conn.execute(select(table.c.id).where(table.c.id == row["id"])).first():
        raise Conflict("已存在", f"{what} already exists")
    conn.execute(table.insert().values(**row))
