"""A workshop's staff training records (六(五): 定期进行色标化管理制度培训) as its gateway pushed them.

The seed asks each workshop to train its staff in its colour rules
periodically; the inspector sees, per workshop, the last training day, the
people trained that day, each person's last training, and the records
(newest first). Staff names are personal data: only an inspector of the
workshop's district or an admin of it reads them (an owner reads them on
its own gateway; a gateway token is refused; nothing of this is public).
Outside the caller's scope the workshop does not exist (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_in_scope
from cloud_ingest.errors import BadRequest
from cloud_ingest.store.schema import trainings, workshops

LIMIT = 200  # records listed by default
MAX_LIMIT = 1000


def limit_of(query: Any) -> int:
    """``?limit=N`` (1..``MAX_LIMIT``, default ``LIMIT``); any other parameter is a 400 naming it."""
    for key in query:
        if key != "limit":
            raise BadRequest(key, "未知参数（只有 limit）", "unknown parameter (known: limit)")
    value = query.get("limit", str(LIMIT))
    if not (value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= MAX_LIMIT):
        raise BadRequest("limit", f"必须是 1 到 {MAX_LIMIT} 的整数", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def workshop_trainings(conn: Connection, who: Principal, workshop_id: str, limit: int = LIMIT) -> dict:
    """The workshop's training summary and its newest ``limit`` records."""
    shop = workshop_in_scope(conn, who, workshop_id, select(workshops.c.id, workshops.c.district_id))
    who.require("admin", "inspector")
    mine = trainings.c.workshop_id == workshop_id
    total = conn.execute(select(func.count()).select_from(trainings).where(mine)).scalar_one()
    last_day = conn.execute(select(func.max(trainings.c.day)).where(mine)).scalar_one()
    last = [] if last_day is None else [r.who for r in conn.execute(
        select(trainings.c.who).where(mine, trainings.c.day == last_day).group_by(trainings.c.who)
        .order_by(trainings.c.who))]
    people = [{"who": r.who, "last_day": r.last_day, "trainings": r.n} for r in conn.execute(
        select(trainings.c.who, func.max(trainings.c.day).label("last_day"), func.count().label("n"))
        .where(mine).group_by(trainings.c.who).order_by(func.max(trainings.c.day).desc(), trainings.c.who))]
    rows = conn.execute(select(trainings).where(mine).order_by(trainings.c.day.desc(), trainings.c.gateway_id.desc())
                        .limit(limit)).all()
    return {"workshop": shop.id, "district": shop.district_id, "total": total, "last_day": last_day,
            "last_people": last, "people": people,
            "records": [{"id": r.gateway_id, "day": r.day, "who": r.who, "topic": r.topic, "by": r.trainer,
                         "recorded_at": r.recorded_at, "received_at": r.received_at} for r in rows]}


__all__ = ["LIMIT", "limit_of", "workshop_trainings"]
