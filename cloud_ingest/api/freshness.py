"""HTTP routes of 最后上报 / 数据中断 (``reports/freshness.py``, ``review/silence.py``):

- ``GET /api/v1/freshness``: every workshop in the caller's scope, by id: ``last_received`` (ms, the cloud's
  clock; null: never), ``state`` (``fresh`` | ``silent`` | ``never``), ``silent_ms``,
  ``stations_at_last_report`` ``{"online", "total"}`` and ``all_online`` (only ever true while fresh);
- ``GET /api/v1/workshops/{id}/freshness``: the same for one workshop, with ``stations`` (each one's newest
  status: ``station``, ``kind``, ``zone``, ``status_ts``, ``online``) and ``outages`` (newest first:
  ``id``, ``started_at``, ``detected_at``, ``silent_after_minutes``, ``ended_at`` (null: still silent),
  ``item``: its ledger item). A workshop outside the caller's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.api.base import ApiBase
from cloud_ingest.config import Freshness
from cloud_ingest.errors import NotFound
from cloud_ingest.reports import freshness
from cloud_ingest.review import silence
from cloud_ingest.store import db


def routes(api: ApiBase, config: Freshness) -> list[Route]:
    async def every(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                found = freshness.workshops_freshness(conn, who, api.clock(), config.silent_ms)
                return {"silent_after_minutes": config.silent_after_minutes,
                        "workshops": {ws: f.json() for ws, f in found.items()}}
        return await api.call(work)

    async def one(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            workshop = request.path_params["id"]
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                found = freshness.workshops_freshness(conn, who, api.clock(), config.silent_ms, workshop)
                if workshop not in found:
                    raise NotFound("作坊不存在", f"workshop {workshop} does not exist")
                return {**found[workshop].json(), "workshop": workshop,
                        "silent_after_minutes": config.silent_after_minutes,
                        "stations": freshness.stations_at_last_report(conn, workshop),
                        "outages": silence.outages(conn, who, workshop)}
        return await api.call(work)

    return [Route("/api/v1/freshness", every, methods=["GET"]),
            Route("/api/v1/workshops/{id:slug}/freshness", one, methods=["GET"])]
