"""``GET /api/v1/overview?sort=KEY``: 辖区总览 / the district overview as JSON (``review/overview.py``).

Per district in the caller's scope (admins, inspectors; an owner sees its own workshop's district with its
workshop only): ``id``, ``name``, ``totals`` and ``workshops``, each with ``grade`` (``{"grade",
"effective"}`` or null), ``progress`` (the seed deadline's, or null), ``ledger`` ``{"open", "overdue"}``,
``alarms`` ``{"7d", "30d"}`` (``{"days", "raised", "per_day"}``) and ``freshness`` (as
``/api/v1/freshness``); ``sort`` (one of ``review.overview.SORT_KEYS``, ``-`` for descending) orders each
district's workshops.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cloud_ingest.api.base import ApiBase
from cloud_ingest.config import Freshness
from cloud_ingest.review import overview
from cloud_ingest.store import db


def routes(api: ApiBase, config: Freshness) -> list[Route]:
    async def read(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            sort, desc = overview.sort_key(request.query_params.get("sort") or "name")
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                doc = overview.overview(conn, who, api.clock(), config.silent_ms)
            for d in doc["districts"]:
                d["workshops"] = overview.sort_rows(d["workshops"], sort, desc)
            return doc
        return await api.call(work)

    return [Route("/api/v1/overview", read, methods=["GET"])]
