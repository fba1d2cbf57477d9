"""HTTP routes of the workshops' setups (配置备案) and the seed deadline's progress.

- ``GET /api/v1/setups``: every workshop in scope with its current setup version, the versions waiting for an
  acceptance, the silenced alarms counted, its progress; and per district the progress added up, with the
  workshops behind;
- ``GET /api/v1/workshops/{id}/setup``: one workshop's current setup (whole) and every version, newest first,
  each with its changes, its relaxations and its acceptance; and the newest silenced alarms;
- ``POST /api/v1/workshops/{id}/setup/{version}/accept`` ``{"note": "..."}``: an inspector's acceptance (备案);
- ``GET /api/v1/gateway/accepted-setup`` (a gateway token): the rules its gateway judges under a second time.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import NotFound
from cloud_ingest.reports import setups
from cloud_ingest.review.setup_accept import accept
from cloud_ingest.store import db

MAX_VERSION = (1 << 63) - 1


def routes(api: ApiBase) -> list[Route]:
    async def overview(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                rows = setups.all_setups(conn, who, api.clock())
            return {"deadline": "2026-11-30", "workshops": [setups.setup_json(s, history=False) for s in rows],
                    "districts": setups.district_progress(rows)}
        return await api.call(work)

    async def one(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                found = setups.workshop_setup(conn, who, request.path_params["id"], api.clock())
                return {**setups.setup_json(found), "silenced": setups.silenced_list(conn, found.workshop_id)}
        return await api.call(work)

    async def accept_version(request: Request) -> JSONResponse:
        version = _version(request.path_params["version"])

        def work(conn: Any, body: Any) -> dict[str, Any]:
            if version is None:
                raise NotFound("配置版本不存在", "no such setup version")
            return accept(conn, api.who(request, conn), request.path_params["id"], version, body, api.clock())
        return await api.write(request, work)

    return [Route("/api/v1/setups", overview, methods=["GET"]),
            Route("/api/v1/workshops/{id}/setup", one, methods=["GET"]),
            Route("/api/v1/workshops/{id}/setup/{version}/accept", accept_version, methods=["POST"]),
            gateway_route(api)]


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 and 0 < int(text) <= MAX_VERSION else None


def gateway_route(api: ApiBase) -> Route:
    """``GET /api/v1/gateway/accepted-setup`` (a gateway token): the rules of its workshop's newest accepted setup
    version, ``{"version": n, "rules": {...}}``, or the seed's (``"version": null``) before any; the gateway
    judges each step under them too, to find what a relaxed requirement silenced (edge_gateway/core/baseline.py)."""
    async def accepted(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                workshop = api.who(request, conn).require("gateway").workshop
                return setups.accepted_rules(conn, workshop or "")
        return await api.call(work)
    return Route("/api/v1/gateway/accepted-setup", accepted, methods=["GET"])
