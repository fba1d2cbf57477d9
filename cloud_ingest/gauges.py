"""The cloud's own gauges in the central InfluxDB: each workshop's freshness, ledger, grade, progress and
alarm rates (the district overview's figures, ``review.overview``) as ``workshop_overview`` points, queued
in the outbox after every sweep of the silence job, so the Grafana district dashboard shows what
``/overview`` shows. Only with ``influx:`` in the config. The points of one sweep carry the sweep's time
rounded down to ``freshness.check_seconds``: two workers sweeping at once write the same series and time,
and the second overwrites the first.
"""

from __future__ import annotations

from sqlalchemy import Engine

from cloud_ingest.access.auth import Principal
from cloud_ingest.config import Freshness
from cloud_ingest.influx import outbox
from cloud_ingest.influx.points import overview_line
from cloud_ingest.review import overview
from cloud_ingest.store import db

EVERYWHERE = Principal("admin")  # the gauges are of every workshop; who reads them is InfluxDB's matter


def queue_overview(engine: Engine, now: int, config: Freshness) -> int:
    """Queues one ``workshop_overview`` point per workshop; how many."""
    step = int(config.check_seconds * 1000)
    at = now - now % step
    with db.write(engine) as conn:
        doc = overview.overview(conn, EVERYWHERE, now, config.silent_ms)
        lines = [(w["id"], overview_line(w["id"], d["id"], w, at)) for d in doc["districts"] for w in d["workshops"]]
        return outbox.queue(conn, lines, now)
