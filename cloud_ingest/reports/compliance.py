"""Compliance figures for the workshop list and per district, in a fixed number of queries.

Per workshop: stations online / total (the ``stations`` table: every station
the cloud has heard of, online by its newest status), the
workshop's active alarms by severity, misuse per 100 uses (misuse counts the
alarms a recorded exception silenced at the gateway while no inspector has
accepted that exception) and the disinfection cycles (passed out of all, as the
gateways judged them) over the last 30 days before the clock. Each figure is one grouped query over all the
workshops in the caller's scope (a city has thousands: no query per workshop);
districts add the figures of their workshops up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select, true

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.reports.figures import MISUSE_TYPES, OCCURRENCES, per_100
from cloud_ingest.reports.setups import counted_silenced_many
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    cycles,
    districts,
    events,
    stations,
    workshops,
)
from sebiao_common.alarms import SEVERITIES

WINDOW_MS = 30 * 86_400_000


@dataclass(frozen=True)
class Figures:
    stations_online: int = 0
    stations_total: int = 0
    open_alarms: tuple[tuple[str, int], ...] = field(default=tuple((s, 0) for s in SEVERITIES))
    uses: int = 0  # in the window
    misuse: int = 0  # occurrences in the window
    cycles_passed: int = 0  # disinfection cycles in the window (by their end) that passed
    cycles_total: int = 0

    def __post_init__(self) -> None:
        if (not 0 <= self.stations_online <= self.stations_total or self.uses < 0 or self.misuse < 0
                or not 0 <= self.cycles_passed <= self.cycles_total):
            raise ValueError("figures out of range")
        if tuple(s for s, _ in self.open_alarms) != SEVERITIES:
            raise ValueError("open_alarms must list every severity in order")

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.stations_online + other.stations_online, self.stations_total + other.stations_total,
                       tuple((s, a + b) for (s, a), (_, b) in zip(self.open_alarms, other.open_alarms)),
                       self.uses + other.uses, self.misuse + other.misuse,
                       self.cycles_passed + other.cycles_passed, self.cycles_total + other.cycles_total)

    def json(self, since: int, until: int) -> dict:
        return {"stations": {"online": self.stations_online, "total": self.stations_total},
                "open_alarms": {**dict(self.open_alarms), "total": sum(n for _, n in self.open_alarms)},
                "misuse_30d": {"since": since, "until": until, "uses": self.uses, "misuse": self.misuse,
                               "per_100_uses": per_100(self.misuse, self.uses)},
                "disinfection_30d": {"since": since, "until": until, "passed": self.cycles_passed,
                                     "total": self.cycles_total}}


def sink_station(column: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL for ``figures.StationId.parse(station).sink``: one ``-``-separated part is ``sink``."""
    return or_(column == "sink", column.like("sink-%"), column.like("%-sink"), column.like("%-sink-%"))


def rack_station(station: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL for ``not figures.StationInfo.of(station, kind).sink`` over a join with ``stations``: the kind the
    gateway gave, else the guess from the id."""
    return or_(stations.c.kind == "rack", and_(stations.c.kind.is_(None), ~sink_station(station)))


def workshop_figures(conn: Connection, who: Principal, now: int) -> dict[str, Figures]:
    """The figures of every workshop in scope that has any (others have all zeros), in four queries."""
    since = now - WINDOW_MS
    scope = select(workshops.c.id).where(workshop_clause(who))
    found: dict[str, dict] = {}

    # a station heard of only by its events (no status yet) counts, and not as online
    for r in conn.execute(select(stations.c.workshop_id, func.count().label("total"),
                                 func.sum(case((stations.c.online, 1), else_=0)).label("online"))
                          .where(stations.c.workshop_id.in_(scope))
                          .group_by(stations.c.workshop_id)):
        found.setdefault(r.workshop_id, {}).update(stations_total=r.total, stations_online=int(r.online or 0))

    open_by: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(alarms.c.workshop_id, alarms.c.severity, func.count().label("n"))
                          .where(alarms.c.state == "active", alarms.c.workshop_id.in_(scope))
                          .group_by(alarms.c.workshop_id, alarms.c.severity)):
        open_by.setdefault(r.workshop_id, {})[r.severity] = r.n
    for ws, by in open_by.items():
        found.setdefault(ws, {})["open_alarms"] = tuple((s, by.get(s, 0)) for s in SEVERITIES)

    for r in conn.execute(select(events.c.workshop_id, func.count().label("n"))
                          .select_from(events.outerjoin(stations, and_(
                              stations.c.workshop_id == events.c.workshop_id,
                              stations.c.station == events.c.station)))
                          .where(events.c.workshop_id.in_(scope), events.c.ts >= since, events.c.ts <= now,
                                 events.c.action == "removed", events.c.tool.is_not(None),
                                 rack_station(events.c.station))
                          .group_by(events.c.workshop_id)):
        found.setdefault(r.workshop_id, {})["uses"] = r.n

    for r in conn.execute(select(alarm_transitions.c.workshop_id, func.count().label("n"))
                          .select_from(alarm_transitions.join(alarms, and_(
                              alarms.c.workshop_id == alarm_transitions.c.workshop_id,
                              alarms.c.gateway_id == alarm_transitions.c.gateway_alarm_id)))
                          .where(alarm_transitions.c.workshop_id.in_(scope),
                                 alarm_transitions.c.action.in_(OCCURRENCES),
                                 alarm_transitions.c.at >= since, alarm_transitions.c.at <= now,
                                 alarms.c.type.in_(MISUSE_TYPES))
                          .group_by(alarm_transitions.c.workshop_id)):
        found.setdefault(r.workshop_id, {})["misuse"] = r.n
    for r in conn.execute(select(cycles.c.workshop_id, func.count().label("n"),
                                 func.sum(case((cycles.c.passed, 1), else_=0)).label("passed"))
                          .where(cycles.c.workshop_id.in_(scope), cycles.c.ts >= since, cycles.c.ts <= now)
                          .group_by(cycles.c.workshop_id)):
        found.setdefault(r.workshop_id, {}).update(cycles_total=r.n, cycles_passed=int(r.passed or 0))
    # alarms a recorded exception silenced at the gateway count until an inspector accepts it (备案)
    for ws, n in counted_silenced_many(conn, scope, since, now + 1, MISUSE_TYPES).items():
        values = found.setdefault(ws, {})
        values["misuse"] = values.get("misuse", 0) + n
    return {ws: Figures(**values) for ws, values in found.items()}


def _district_clause(who: Principal) -> ColumnElement[bool]:
    if who.everywhere:
        return true()
    if who.role in ("admin", "inspector"):  # a district admin, an inspector: their own districts
        return districts.c.id.in_(sorted(who.districts))
    # an owner sees its own workshop's district; a gateway token is refused by workshop_clause
    return districts.c.id.in_(select(workshops.c.district_id).where(workshop_clause(who)))


def list_districts(conn: Connection, who: Principal, now: int) -> list[dict]:
    """The districts in scope, each with its workshops' figures added up (only the workshops in scope)."""
    rows = conn.execute(select(districts.c.id, districts.c.name).where(_district_clause(who))
                        .order_by(districts.c.id)).all()
    members: dict[str, list[str]] = {}
    for r in conn.execute(select(workshops.c.id, workshops.c.district_id).where(workshop_clause(who))):
        members.setdefault(r.district_id, []).append(r.id)
    figures = workshop_figures(conn, who, now)
    out = []
    for d in rows:
        total = Figures()
        for ws in members.get(d.id, []):
            total = total + figures.get(ws, Figures())
        out.append({"id": d.id, "name": d.name, "workshops": len(members.get(d.id, [])),
                    **total.json(now - WINDOW_MS, now)})
    return out
