"""The JSON endpoints of on-site inspections (现场检查) and the spot checks (抽查), over
``cloud_ingest.review.inspections`` and ``spot_checks`` (docs/cloud-ingest.md, "On-site inspections").

A visit's body may carry photos (base64): it is read within ``photos.MAX_BODY``. A visit is signed when it
is stored and never changes: PUT, PATCH and DELETE on it answer 409 (after the caller's scope: 404 outside
it). Photos are served as the ledger's are (``ledger.PHOTO_HEADERS``), only within the visit's scope.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}
from cloud_ingest.api.base import ApiBase
from cloud_ingest.api.ledger import PHOTO_HEADERS
from cloud_ingest.errors import BadRequest, Conflict
from cloud_ingest.reports.inspection_pdf import inspection_pdf
from cloud_ingest.review import checklist, inspections, photos, spot_checks


def routes(api: ApiBase) -> list[Route]:
    clock, read, write = api.clock, api.reader, api.writer  # the handlers every route module builds (ApiBase)

    def immutable(conn: Connection, who: Any, request: Request) -> Any:
        inspections.get(conn, who, request.path_params["id"], clock())  # 404 outside the scope
        raise Conflict("检查记录已签署，不能修改或删除", "a signed inspection visit cannot be changed or deleted")

    def record(conn: Connection, who: Any, request: Request, body: dict) -> dict:
        who.require("admin", "inspector")  # the role first: a refusal that says nothing about the body
        return inspections.record(conn, who, inspections.NewVisit.from_body(body, clock()), clock())

    def visits(conn: Connection, who: Any, request: Request) -> list[dict]:
        for key in request.query_params:
            if key != "workshop":
                raise BadRequest(key, "未知参数", "unknown parameter (known: workshop)")
        return inspections.list_visits(conn, who, request.query_params.get("workshop") or None)

    async def photo(request: Request) -> Response:
        return await api.binary(request, lambda conn, who: (
            *inspections.photo(conn, who, request.path_params["id"]), PHOTO_HEADERS))

    async def pdf(request: Request) -> Response:
        name = f"inspection-{request.path_params['id']}.pdf"
        return await api.binary(request, lambda conn, who: (
            "application/pdf", inspection_pdf(inspections.get(conn, who, request.path_params["id"], clock()),
                                              clock()),
            {"Content-Disposition": f'attachment; filename="{name}"'}))

    return [
        Route("/api/v1/inspections/checklist", read(lambda conn, who, r: checklist.as_json()), methods=["GET"]),
        Route("/api/v1/inspections", read(visits), methods=["GET"]),
        Route("/api/v1/inspections", write(record, 201, limit=photos.MAX_BODY), methods=["POST"]),
        Route("/api/v1/inspections/{id:rowid}", read(lambda conn, who, r: inspections.get(
            conn, who, r.path_params["id"], clock())), methods=["GET"]),
        Route("/api/v1/inspections/{id:rowid}", read(immutable), methods=["PUT", "PATCH", "DELETE"]),
        Route("/api/v1/inspections/{id:rowid}/pdf", pdf, methods=["GET"]),
        Route("/api/v1/inspections/photos/{id:rowid}", photo, methods=["GET"]),
        Route("/api/v1/spot-checks", read(lambda conn, who, r: spot_checks.list_draws(conn, who)), methods=["GET"]),
        Route("/api/v1/spot-checks", write(lambda conn, who, r, body: spot_checks.draw(conn, who, body, clock()),
                                           201), methods=["POST"]),
        Route("/api/v1/spot-checks/{id:rowid}", read(lambda conn, who, r: spot_checks.get(
            conn, who, r.path_params["id"], clock())), methods=["GET"]),
    ]
