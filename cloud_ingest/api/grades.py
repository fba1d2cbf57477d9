"""The JSON endpoints of the regulator's grades (分级定榜), over ``cloud_ingest.review.grades``.

- ``POST /api/v1/workshops/{id}/grade`` ``{"grade", "effective", "reason"}``:
  an inspector of the workshop's district, or an admin of it, sets a grade
  (201, the grading as published);
- ``GET /api/v1/grade``: a gateway token's signed statement of its own
  workshop's grade (``sebiao_common.grade_statement``); 404 while none is
  published, 503 when the cloud has no signing key;
- ``GET /api/v1/public/workshops/{id}/grades`` and
  ``GET /api/v1/public/districts/{id}/grades``: public, without a token: the
  grade is the regulator's public claim (``review/grades.py`` says what is
  in them and why); ``?page=N`` (100 a page: ``page``, ``pages``,
  ``total`` in the answer). The ids are ``{id:slug}``: a longer or malformed
  one matches no route (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import BadRequest
from cloud_ingest.review import grades
from cloud_ingest.store import db
from cloud_ingest.store.anchor import Signer


def routes(api: ApiBase, signer: Signer | None) -> list[Route]:
    async def set_grade(request: Request) -> JSONResponse:
        def work(conn: Connection, body: Any) -> dict:
            who = api.who(request, conn)  # before the body is judged: an anonymous caller learns nothing
            if not isinstance(body, dict):
                raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
            return grades.set_grade(conn, who, request.path_params["id"], body, api.clock())
        return await api.write(request, work, 201)

    async def statement(request: Request) -> JSONResponse:
        def work() -> dict:
            with db.read(api.engine) as conn:
                return grades.statement(conn, api.who(request, conn), signer, api.clock())
        return await api.call(work)

    def public(page_of: Callable[[Connection, str, int], dict]) -> Callable[[Request], Awaitable[JSONResponse]]:
        """A public list without a token: ``page_of(conn, the path's id, ?page=N)``."""
        async def endpoint(request: Request) -> JSONResponse:
            def work() -> dict:
                with db.read(api.engine) as conn:
                    return page_of(conn, request.path_params["id"], grades.page_number(request.query_params))
            return await api.call(work)
        return endpoint

    return [
        Route("/api/v1/workshops/{id:slug}/grade", set_grade, methods=["POST"]),
        Route("/api/v1/grade", statement, methods=["GET"]),
        Route("/api/v1/public/workshops/{id:slug}/grades", public(grades.public_history), methods=["GET"]),
        Route("/api/v1/public/districts/{id:slug}/grades", public(grades.public_district), methods=["GET"]),
    ]
