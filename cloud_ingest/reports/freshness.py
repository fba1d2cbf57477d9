"""最后上报 / 数据中断: how fresh each workshop's data is, from what the cloud received.

A station's ``online`` flag is only what its newest status said when the
gateway last reported; a gateway that went silent keeps every station
"online" for ever. So the pages lead with the time the cloud last received
a batch of the workshop (``ingest_batches.received_at``, the cloud's clock)
and name the stations' state only as "at the last report". A workshop whose
last batch is older than ``freshness.silent_after_minutes`` (cloud.yaml) is
数据中断 / data interrupted, and no page may then say 全部在线 / all online.

``state`` is the pure part, table-tested; ``workshops`` and ``stations`` read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.store.schema import ingest_batches, stations, workshops

NEVER, FRESH, SILENT = "never", "fresh", "silent"
STATES = (NEVER, FRESH, SILENT)


def state(last_received: int | None, now: int, silent_ms: int) -> str:
    """``never``: no batch yet; ``silent``: the last one is older than ``silent_ms``; else ``fresh``."""
    if last_received is None:
        return NEVER
    return SILENT if now - last_received > silent_ms else FRESH


@dataclass(frozen=True, kw_only=True)
class Freshness:
    """A workshop's freshness: when its data last arrived and its stations as that report left them."""

    workshop: str
    last_received: int | None  # ms, cloud clock; None: never
    state: str  # STATES
    silent_ms: int  # how long it has been silent (0 unless state is silent)
    stations_total: int
    stations_online: int  # online by their newest status: a claim about the last report only

    @property
    def all_online_claim(self) -> bool:
        """全部在线 may be said only of a fresh report in which every known station was online."""
        return self.state == FRESH and self.stations_total > 0 and self.stations_online == self.stations_total

    def json(self) -> dict:
        return {"last_received": self.last_received, "state": self.state, "silent_ms": self.silent_ms,
                "stations_at_last_report": {"online": self.stations_online, "total": self.stations_total},
                "all_online": self.all_online_claim}


def workshops_freshness(conn: Connection, who: Principal, now: int, silent_ms: int,
                        workshop: str | None = None) -> dict[str, Freshness]:
    """Every workshop in the caller's scope (or only ``workshop``), by id."""
    last = (select(ingest_batches.c.workshop_id, func.max(ingest_batches.c.received_at).label("at"))
            .group_by(ingest_batches.c.workshop_id).subquery())
    counts = (select(stations.c.workshop_id, func.count().label("total"),
                     func.sum(case((stations.c.online, 1), else_=0)).label("up"))
              .group_by(stations.c.workshop_id).subquery())
    q = (select(workshops.c.id, last.c.at, counts.c.total, counts.c.up)
         .outerjoin(last, last.c.workshop_id == workshops.c.id)
         .outerjoin(counts, counts.c.workshop_id == workshops.c.id)
         .where(workshop_clause(who)))
    if workshop is not None:
        q = q.where(workshops.c.id == workshop)
    out = {}
    for r in conn.execute(q):
        s = state(r.at, now, silent_ms)
        out[r.id] = Freshness(workshop=r.id, last_received=r.at, state=s,
                              silent_ms=now - r.at if s == SILENT else 0,
                              stations_total=int(r.total or 0), stations_online=int(r.up or 0))
    return out


def stations_at_last_report(conn: Connection, workshop: str) -> list[dict]:
    """Each station of ``workshop`` with its newest status (gateway clock); the caller checked the scope."""
    rows = conn.execute(select(stations.c.station, stations.c.kind, stations.c.zone, stations.c.last_ts,
                               stations.c.online).where(stations.c.workshop_id == workshop)
                        .order_by(stations.c.station))
    return [{"station": r.station, "kind": r.kind, "zone": r.zone, "status_ts": r.last_ts,
             "online": None if r.online is None else bool(r.online)} for r in rows]

