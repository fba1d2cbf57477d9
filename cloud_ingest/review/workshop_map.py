"""作坊地图 / The map of the district's workshops: where each workshop in the caller's scope is, and its state.

The figures are the district overview's (``review.overview``: freshness, the
ledger's overdue items, the grade), computed once for the page; this module
adds only each workshop's location (the newest record's ``latitude_e6``,
``longitude_e6``, ``review.locations``) and places the workshops with one on
a plane (``project``, pure and table-tested). Who sees what is the
overview's scope: an inspector or admin their districts' workshops, an owner
its own workshop only. ``?district=`` narrows to one district of the scope;
any other id, whether it exists or not, is 404 (the page says nothing of
districts outside the scope).

A marker's state (``marker``, pure): 数据中断 (silent) first, then overdue
ledger items, then never reported, else data arriving; each has its own
shape and words besides its colour.

The projection is equirectangular over the points' bounding box, the
longitudes scaled by cos(middle latitude) so that a kilometre east is as long
on the map as a kilometre north (a district spans a few tens of kilometres:
nothing more exact is needed), north up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import NotFound
from cloud_ingest.review import locations, overview
from cloud_ingest.store.schema import workshop_records, workshops

MARKERS = ("silent", "overdue", "never", "fresh")  # most urgent first: a workshop shows the first that holds
WIDTH, PADDING = 480, 36  # the plane's width and its margin (labels reach right of a point), in its own units
HEIGHTS = (220, 640)  # the plane's height follows the points' extent, within these


@dataclass(frozen=True, kw_only=True)
class Plane:
    """Where the points go: ``xy`` in the order given, and the plane's size."""

    xy: tuple[tuple[float, float], ...]
    width: int
    height: int


def marker(row: dict) -> str:
    """A workshop's marker state from its overview row."""
    state = row["freshness"]["state"]
    if state == "silent":
        return "silent"
    if row["ledger"]["overdue"]:
        return "overdue"
    return "never" if state == "never" else "fresh"


def project(points: Sequence[tuple[int, int]], width: int = WIDTH, pad: int = PADDING) -> Plane:
    """(latitude_e6, longitude_e6) pairs onto a plane ``width`` wide, north up, one scale on both axes; one point
    (or all at one place) in the middle."""
    if not points:
        return Plane(xy=(), width=width, height=HEIGHTS[0])
    lats = [lat / locations.SCALE for lat, _ in points]
    lons = [lon / locations.SCALE for _, lon in points]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [lon * k for lon in lons]
    span_x, span_y = max(xs) - min(xs), max(lats) - min(lats)
    inner = width - 2 * pad
    if span_x == 0 and span_y == 0:
        height = HEIGHTS[0]
        return Plane(xy=tuple((width / 2, height / 2) for _ in points), width=width, height=height)
    wanted = inner * span_y / span_x + 2 * pad if span_x else HEIGHTS[1]
    height = int(min(max(wanted, HEIGHTS[0]), HEIGHTS[1]))
    scale = min(inner / span_x if span_x else math.inf, (height - 2 * pad) / span_y if span_y else math.inf)
    left = (width - span_x * scale) / 2  # centred on the axis that has room to spare
    top = (height - span_y * scale) / 2
    xy = tuple((round(left + (x - min(xs)) * scale, 1), round(top + (max(lats) - lat) * scale, 1))
               for x, lat in zip(xs, lats))
    return Plane(xy=xy, width=width, height=height)


def _places(conn: Connection, who: Principal) -> dict[str, tuple[int, int]]:
    """Each workshop's location in the caller's scope, from its newest record (those without one left out)."""
    newest = select(func.max(workshop_records.c.id)).group_by(workshop_records.c.workshop_id)
    rows = conn.execute(select(workshop_records.c.workshop_id, workshop_records.c.latitude_e6,
                               workshop_records.c.longitude_e6)
                        .join(workshops, workshops.c.id == workshop_records.c.workshop_id)
                        .where(workshop_records.c.id.in_(newest), workshop_clause(who),
                               workshop_records.c.latitude_e6.is_not(None)))
    return {r.workshop_id: (r.latitude_e6, r.longitude_e6) for r in rows}


def _entry(row: dict, district: dict) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "district": district["id"], "district_name": district["name"],
            "marker": marker(row), "overdue": row["ledger"]["overdue"], "open": row["ledger"]["open"],
            "grade": row["grade"]["grade"] if row["grade"] else None, "freshness": row["freshness"]}


def workshop_map(conn: Connection, who: Principal, now: int, silent_ms: int, district: str | None = None) -> dict:
    """The map's workshops in the caller's scope (of ``district`` only, when given): ``points`` with their place
    on the plane and their ``geo:`` link, ``unplaced`` (no location yet), the districts for the filter."""
    doc = overview.overview(conn, who, now, silent_ms)
    shown = [d for d in doc["districts"] if district is None or d["id"] == district]
    if district is not None and not shown:
        raise NotFound("没有这个辖区", f"no district {district!r}")
    places = _places(conn, who)
    placed, unplaced = [], []
    for d in shown:
        for row in d["workshops"]:
            entry = _entry(row, d)
            if row["id"] in places:
                lat, lon = places[row["id"]]
                placed.append({**entry, "lat_e6": lat, "lon_e6": lon, "latitude": locations.degrees(lat),
                               "longitude": locations.degrees(lon), "geo_uri": locations.geo_uri(lat, lon)})
            else:
                unplaced.append(entry)
    plane = project([(p["lat_e6"], p["lon_e6"]) for p in placed])
    for p, (x, y) in zip(placed, plane.xy):
        p["x"], p["y"] = x, y
    return {"generated_at": now, "silent_after_minutes": doc["silent_after_minutes"], "district": district,
            "districts": [{"id": d["id"], "name": d["name"]} for d in doc["districts"]],
            "width": plane.width, "height": plane.height, "datum": locations.DATUM,
            "points": placed, "unplaced": unplaced}


__all__ = ["MARKERS", "Plane", "marker", "project", "workshop_map"]
