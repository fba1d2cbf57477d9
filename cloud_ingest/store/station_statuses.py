"""What a workshop's stations said over a span: the rows the reports' uptime and the public page's coverage
are computed from (``reports.reports``, ``public.summary``; the figures themselves are theirs).
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from cloud_ingest.store.schema import station_status


def span_rows(conn: Connection, ws: str, start: int, end: int) -> list[tuple[str, int, bool]]:
    """(station, ts, online): every status of ``ws`` in [start, end) and each station's newest before ``start``
    (its state at the start)."""
    inside = conn.execute(select(station_status.c.station, station_status.c.ts, station_status.c.online)
                          .where(station_status.c.workshop_id == ws, station_status.c.ts >= start,
                                 station_status.c.ts < end))
    newest = (select(station_status.c.station, func.max(station_status.c.ts).label("ts"))
              .where(station_status.c.workshop_id == ws, station_status.c.ts < start)
              .group_by(station_status.c.station).subquery())
    before = conn.execute(select(station_status.c.station, station_status.c.ts, station_status.c.online)
                          .join(newest, and_(newest.c.station == station_status.c.station,
                                             newest.c.ts == station_status.c.ts))
                          .where(station_status.c.workshop_id == ws))
    return [(r.station, r.ts, bool(r.online)) for r in (*before, *inside)]
