"""HTTP routes of the regulator's desk: a workshop's record (登记信息) and its staff training records.

- ``GET /api/v1/workshops/{id}/record``: the record and its saves, newest first (anyone who sees the workshop);
- ``POST /api/v1/workshops/{id}/record`` ``{"registration"?, "category"?, "category_other"?, "address"?,
  "responsible"?, "phone"?, "inspector"?}``: an inspector of the district or an admin of it saves the fields
  given (null empties one); a bad field is a 400 naming it (``review/workshop_records.py``);
- ``GET /api/v1/workshops/{id}/training?limit=N``: the training records its gateway pushed, with the last
  training day and the people trained (inspectors and admins only: staff names are personal data).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import BadRequest
from cloud_ingest.review import trainings, workshop_records
from cloud_ingest.store import db


def routes(api: ApiBase) -> list[Route]:
    async def read(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                return workshop_records.record(conn, who, request.path_params["id"])
        return await api.call(work)

    async def save(request: Request) -> JSONResponse:
        def work(conn: Connection, body: Any) -> dict[str, Any]:
            who = api.who(request, conn)  # before the body is judged: an anonymous caller learns nothing
            if not isinstance(body, dict):
                raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
            return workshop_records.save_record(conn, who, request.path_params["id"], body, api.clock())
        return await api.write(request, work)

    async def training(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.read(api.engine) as conn:
                who = api.who(request, conn)
                limit = trainings.limit_of(request.query_params)
                return trainings.workshop_trainings(conn, who, request.path_params["id"], limit)
        return await api.call(work)

    return [Route("/api/v1/workshops/{id:slug}/record", read, methods=["GET"]),
            Route("/api/v1/workshops/{id:slug}/record", save, methods=["POST"]),
            Route("/api/v1/workshops/{id:slug}/training", training, methods=["GET"])]
