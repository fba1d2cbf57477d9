"""What the pages read besides the review functions: the names of the districts in the principal's scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, or_, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import NotFound
from cloud_ingest.store.schema import alarms, districts, workshops


def district_names(conn: Connection, who: Principal) -> dict[str, str]:
    """The names of the districts that hold a visible workshop (an inspector's own districts too)."""
    clause: ColumnElement[bool] = districts.c.id.in_(select(workshops.c.district_id).where(workshop_clause(who)))
    if who.role in ("admin", "inspector"):  # a district admin's or an inspector's own districts
        clause = or_(clause, districts.c.id.in_(sorted(who.districts)))
    return {r.id: r.name for r in conn.execute(select(districts.c.id, districts.c.name).where(clause))}


def require_alarm(conn: Connection, who: Principal, alarm_id: int) -> None:
    """``NotFound`` unless the alarm is in the principal's scope: a page's form answers 404 for what the user
    cannot see, before any role check could tell that it exists."""
    found = conn.execute(select(alarms.c.id).join(workshops, workshops.c.id == alarms.c.workshop_id)
                         .where(workshop_clause(who), alarms.c.id == alarm_id)).first()
    if found is None:
        raise NotFound("告警不存在", f"alarm {alarm_id} does not exist")
