"""What a workshop's public page says, read from the database in one short read.

Only what the system saw, and nothing that names a person or an object
inside the workshop: the workshop's public name and district, the grade the
regulator published (the newest grading, ``workshop_grades``), and today's
figures (China Standard Time, from local midnight to now):

- ``events``: the reader events the cloud holds with their time today;
- ``raised`` / ``cleared``: alarm transitions of those kinds today (any type);
  (today by the gateway's times: a gateway clock a little ahead of the
  cloud's still counts today's events today);
- ``all_online_ms`` of ``known_ms``: the time today during which every
  station the cloud has heard of was online by its newest status, counted
  only up to the last batch received (after it the cloud knows nothing, and
  a silent gateway must not look like a workshop with every reader online);
- ``last_received``: when the cloud last received a batch of the workshop;
- the newest rectifications the inspector closed (通过): only their dates
  and the alarm's type, never the texts (a corrective action may name the
  staff), nor who, nor any id.

``all_online`` is the pure part, table-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import Connection, func, select

from cloud_ingest.store import station_statuses
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    districts,
    events,
    ingest_batches,
    rectifications,
    stations,
    workshop_grades,
    workshops,
)
from sebiao_common.clock import CST, DAY_MS

RECENT_RECTIFICATIONS = 5


@dataclass(frozen=True, kw_only=True)
class Closed:
    """A rectification the inspector accepted: when it was asked for and closed, and the alarm's type."""

    requested_at: int
    closed_at: int
    alarm_type: str


@dataclass(frozen=True, kw_only=True)
class Summary:
    name: str
    district: str
    grade: str | None  # gold … orange, None: none published
    grade_effective: str | None  # YYYY-MM-DD
    day_start: int  # ms, local midnight today
    now: int
    events: int
    raised: int
    cleared: int
    stations: int  # stations the cloud has heard of
    all_online_ms: int
    known_ms: int  # from midnight to the last batch received (or now), what all_online_ms is out of
    last_received: int | None  # ms, cloud clock; None: never
    silent: bool  # no batch for longer than the configured time (or never)
    closed: tuple[Closed, ...]


def day_start(now: int) -> int:
    moment = datetime.fromtimestamp(now / 1000, CST)
    return int(moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def all_online(stations_known: Iterable[str], rows: Iterable[tuple[str, int, bool]], start: int, end: int) -> int:
    """The ms of [start, end) during which every station of ``stations_known`` was online.

    ``rows`` are (station, ts, online) statuses: each station's newest before ``start`` and every one in
    the period. A station holds its status from its ts until its next; before its first status it is not
    known to be online, so nothing before it counts. No station: no time counts (nothing is watched).
    """
    names = set(stations_known)
    if not names or end <= start:
        return 0
    timeline = sorted((ts, station, online) for station, ts, online in rows if station in names)
    state: dict[str, bool] = {}
    total, at = 0, start
    for ts, station, online in timeline:
        moment = min(max(ts, start), end)
        if moment > at and len(state) == len(names) and all(state.values()):
            total += moment - at
        at = max(at, moment)
        state[station] = online
    if end > at and len(state) == len(names) and all(state.values()):
        total += end - at
    return total


def read(conn: Connection, workshop_id: str, now: int, silent_ms: int) -> Summary | None:
    """The summary of ``workshop_id`` (None when there is no such workshop)."""
    shop = conn.execute(select(workshops.c.name, districts.c.name.label("district"))
                        .join(districts, districts.c.id == workshops.c.district_id)
                        .where(workshops.c.id == workshop_id)).first()
    if shop is None:
        return None
    start = day_start(now)
    grade = conn.execute(select(workshop_grades.c.grade, workshop_grades.c.effective)
                         .where(workshop_grades.c.workshop_id == workshop_id)
                         .order_by(workshop_grades.c.id.desc()).limit(1)).first()
    seen = conn.execute(select(func.count()).select_from(events).where(
        events.c.workshop_id == workshop_id, events.c.ts >= start, events.c.ts < start + DAY_MS)).scalar_one()
    moves = dict(conn.execute(select(alarm_transitions.c.action, func.count()).where(
        alarm_transitions.c.workshop_id == workshop_id, alarm_transitions.c.at >= start,
        alarm_transitions.c.at < start + DAY_MS, alarm_transitions.c.action.in_(("raised", "cleared")))
        .group_by(alarm_transitions.c.action)).all())
    last = conn.execute(select(func.max(ingest_batches.c.received_at))
                        .where(ingest_batches.c.workshop_id == workshop_id)).scalar()
    known_end = min(now, last) if last is not None else start
    names = [r[0] for r in conn.execute(select(stations.c.station).where(stations.c.workshop_id == workshop_id))]
    covered = all_online(names, _status_rows(conn, workshop_id, start, known_end), start, known_end)
    closed = conn.execute(select(rectifications.c.requested_at, rectifications.c.closed_at, alarms.c.type)
                          .join(alarms, alarms.c.id == rectifications.c.alarm_id)
                          .where(rectifications.c.workshop_id == workshop_id,
                                 rectifications.c.state == "accepted", rectifications.c.closed_at.is_not(None))
                          .order_by(rectifications.c.closed_at.desc()).limit(RECENT_RECTIFICATIONS)).all()
    return Summary(
        name=shop.name, district=shop.district, grade=grade.grade if grade else None,
        grade_effective=grade.effective if grade else None, day_start=start, now=now, events=seen,
        raised=moves.get("raised", 0), cleared=moves.get("cleared", 0), stations=len(names),
        all_online_ms=covered, known_ms=max(0, known_end - start), last_received=last,
        silent=last is None or now - last > silent_ms,
        closed=tuple(Closed(requested_at=r.requested_at, closed_at=r.closed_at, alarm_type=r.type) for r in closed))


def _status_rows(conn: Connection, ws: str, start: int, end: int) -> list[tuple[str, int, bool]]:
    """Every status in [start, end) and each station's newest before ``start`` (its state at the start)."""
    if end <= start:
        return []
    return station_statuses.span_rows(conn, ws, start, end)
