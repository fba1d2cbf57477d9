"""The JSON endpoints of remote rectification (远程整改), over ``cloud_ingest.review.rectification``.

``routes(api)`` gives the Starlette routes; they use ``base.ApiBase``'s body
parsing, authentication and error answers, so they behave like the rest of
the API (every call authenticates; a ``CloudError`` is its status and
``{"error": "中文 / English"}``).
"""

from __future__ import annotations

from typing import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}, which the routes below name
from cloud_ingest.api.base import ApiBase
from cloud_ingest.review import rectification
from cloud_ingest.store import db


def routes(api: ApiBase) -> list[Route]:
    async def create(request: Request) -> JSONResponse:
        return await _step(api, request, lambda conn, who, body: rectification.request(
            conn, who, request.path_params["id"], body.get("note"), body.get("due"), api.clock()), 201)

    async def listing(request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(api.engine) as conn:
                who = api.who(request, conn)
                f = rectification.RectificationFilter.from_query(request.query_params)
                return rectification.list_rectifications(conn, who, f.state, f.workshop, f.limit)
        return await api.call(work)

    async def one(request: Request) -> JSONResponse:
        def work() -> dict:
            with db.read(api.engine) as conn:
                return rectification.get(conn, api.who(request, conn), request.path_params["id"])
        return await api.call(work)

    async def answer(request: Request) -> JSONResponse:
        return await _step(api, request, lambda conn, who, body: rectification.answer(
            conn, who, request.path_params["id"], body.get("action"), api.clock()))

    async def accept(request: Request) -> JSONResponse:
        return await _step(api, request, lambda conn, who, body: rectification.accept(
            conn, who, request.path_params["id"], body.get("note"), api.clock()))

    async def send_back(request: Request) -> JSONResponse:
        return await _step(api, request, lambda conn, who, body: rectification.send_back(
            conn, who, request.path_params["id"], body.get("note"), api.clock()))

    return [
        Route("/api/v1/alarms/{id:rowid}/rectifications", create, methods=["POST"]),
        Route("/api/v1/rectifications", listing, methods=["GET"]),
        Route("/api/v1/rectifications/{id:rowid}", one, methods=["GET"]),
        Route("/api/v1/rectifications/{id:rowid}/answer", answer, methods=["POST"]),
        Route("/api/v1/rectifications/{id:rowid}/accept", accept, methods=["POST"]),
        Route("/api/v1/rectifications/{id:rowid}/return", send_back, methods=["POST"]),
    ]


async def _step(api: ApiBase, request: Request, fn: Callable[..., dict], status: int = 200) -> JSONResponse:
    """One write (``ApiBase.writer``: authenticated, then ``fn(conn, who, body)`` in one transaction with its
    evidence entry)."""
    return await api.writer(lambda conn, who, r, body: fn(conn, who, body), status)(request)
