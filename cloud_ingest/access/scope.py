"""Tenancy as SQL: which workshops a principal may see, and which users and tokens an admin may manage.

Every read and change of workshop data goes through ``visible_workshops``; an
object outside the caller's scope is answered as not found (404), so its
existence does not leak (``workshop_in_scope``: one workshop's row, or that 404). An admin of every district manages everything; a
district admin (an admin with districts) the workshops of its districts, the
gateway tokens of those workshops, and the inspectors and owners who work only
there, with their tokens: never an admin, never an inspector who also serves
another district (``managed_users``, ``managed_tokens``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, not_, or_, select, true

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import Forbidden, NotFound
from cloud_ingest.store.schema import api_tokens, user_districts, users, workshops


def workshop_clause(principal: Principal) -> ColumnElement[bool]:
    """A condition on ``workshops`` that holds for exactly the workshops the principal may see."""
    if principal.everywhere:
        return true()
    if principal.role in ("admin", "inspector"):
        return workshops.c.district_id.in_(sorted(principal.districts))
    if principal.role == "owner":
        return workshops.c.id == principal.workshop
    raise Forbidden("网关令牌只能上传数据", "a gateway token may only push batches")


def visible_workshops(principal: Principal) -> Select:
    return select(workshops.c.id).where(workshop_clause(principal))


def workshop_in_scope(conn: Connection, who: Principal, workshop_id: str, query: Select | None = None) -> Any:
    """The workshop's row as ``query`` reads it (on ``workshops``; all its columns without one); 404 outside the
    caller's scope, before any role is judged, so its existence does not leak."""
    row = conn.execute((select(workshops) if query is None else query)
                       .where(workshops.c.id == workshop_id, workshop_clause(who))).first()
    if row is None:
        raise NotFound("没有这个作坊", f"no workshop {workshop_id!r}")
    return row


def managed_users(admin: Principal) -> ColumnElement[bool]:
    """A condition on ``users``: the users this admin may list, disable, enable and issue tokens for."""
    admin.require("admin")
    if admin.everywhere:
        return true()
    mine = sorted(admin.districts)
    elsewhere = exists().where(user_districts.c.user_id == users.c.id, user_districts.c.district_id.not_in(mine))
    somewhere = exists().where(user_districts.c.user_id == users.c.id)
    return or_(and_(users.c.role == "owner", users.c.workshop_id.in_(visible_workshops(admin))),
               and_(users.c.role == "inspector", somewhere, not_(elsewhere)))


def managed_tokens(admin: Principal) -> ColumnElement[bool]:
    """A condition on ``api_tokens``: the tokens this admin may list and revoke."""
    admin.require("admin")
    if admin.everywhere:
        return true()
    return or_(api_tokens.c.workshop_id.in_(visible_workshops(admin)),
               api_tokens.c.user_id.in_(select(users.c.id).where(managed_users(admin))))
