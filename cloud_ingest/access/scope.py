"""Tenancy as SQL: which workshops a principal may see.

Every read and change of workshop data goes through ``visible_workshops``; an
object outside the caller's scope is answered as not found (404), so its
existence does not leak.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select, true

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import Forbidden
from cloud_ingest.store.schema import workshops


def workshop_clause(principal: Principal) -> ColumnElement[bool]:
    """A condition on ``workshops`` that holds for exactly the workshops the principal may see."""
    if principal.role == "admin":
        return true()
    if principal.role == "inspector":
        return workshops.c.district_id.in_(sorted(principal.districts))
    if principal.role == "owner":
        return workshops.c.id == principal.workshop
    raise Forbidden("网关令牌只能上传数据", "a gateway token may only push batches")


def visible_workshops(principal: Principal) -> Select:
    return select(workshops.c.id).where(workshop_clause(principal))
