"""The JSON endpoints of the issue ledger (挂账销号) and the improvement plans (一坊一策), over
``cloud_ingest.review.ledger`` and ``cloud_ingest.review.plans`` (docs/cloud-ingest.md, "The issue ledger").

An answer's body may carry photos (base64): it is read within
``photos.MAX_BODY``, every other body within ``base.MAX_JSON_BODY``. A photo
is served with the type its bytes showed, ``nosniff`` and a sandboxing CSP,
and only to a caller who may see its item (404 otherwise).
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid} and {id:slug}, which the routes below name
from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import BadRequest, CloudError
from cloud_ingest.reports.plan_pdf import plan_pdf
from cloud_ingest.review import ledger, photos, plans
from cloud_ingest.store import db

PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                 "Cache-Control": "private, no-store", "Content-Disposition": "inline"}


def routes(api: ApiBase) -> list[Route]:
    def read(fn: Callable[..., Any]) -> Callable:
        async def handler(request: Request) -> JSONResponse:
            def work() -> Any:
                with db.read(api.engine) as conn:
                    return fn(conn, api.who(request, conn), request)
            return await api.call(work)
        return handler

    def write(fn: Callable[..., Any], status: int = 200) -> Callable:
        async def handler(request: Request) -> JSONResponse:
            def work(conn: Connection, body: Any) -> Any:
                who = api.who(request, conn)  # before the body is judged: an anonymous caller learns nothing
                if not isinstance(body, dict):
                    raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
                return fn(conn, who, request, body)
            return await api.write(request, work, status)
        return handler

    async def answer(request: Request) -> JSONResponse:
        """Read within the photos' bound, then one transaction: the text, the photos, the evidence entry."""
        try:
            body = await api.read_json(request, photos.MAX_BODY)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())

        def work() -> Any:
            with db.write(api.engine) as conn:
                who = api.who(request, conn)
                if not isinstance(body, dict):
                    raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
                for key in body:
                    if key not in ("text", "photos"):
                        raise BadRequest(key, "未知字段", "unknown field (known: photos, text)")
                return ledger.answer(conn, who, request.path_params["id"], body.get("text"),
                                     photos.from_json(body.get("photos")), api.clock())
        return await api.call(work)

    async def photo(request: Request) -> Response:
        def work() -> tuple[str, bytes]:
            with db.read(api.engine) as conn:
                return ledger.photo(conn, api.who(request, conn), request.path_params["id"])
        try:
            kind, data = await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
        return Response(data, media_type=kind, headers=PHOTO_HEADERS)

    async def pdf(request: Request) -> Response:
        def work() -> bytes:
            with db.read(api.engine) as conn:
                who = api.who(request, conn)
                return plan_pdf(plans.get_plan(conn, who, request.path_params["id"], api.clock()), api.clock())
        try:
            body = await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
        name = f"plan-{request.path_params['id']}.pdf"
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    clock = api.clock
    return [
        Route("/api/v1/ledger/items", read(lambda conn, who, r: ledger.list_items(
            conn, who, ledger.ItemFilter.from_query(r.query_params), clock())), methods=["GET"]),
        Route("/api/v1/ledger/items", write(lambda conn, who, r, body: ledger.open_item(
            conn, who, ledger.NewItem.from_body(body, clock()), clock()), 201), methods=["POST"]),
        Route("/api/v1/ledger/items/{id:rowid}", read(lambda conn, who, r: ledger.get(
            conn, who, r.path_params["id"], clock())), methods=["GET"]),
        Route("/api/v1/ledger/items/{id:rowid}/answer", answer, methods=["POST"]),
        Route("/api/v1/ledger/items/{id:rowid}/close", write(lambda conn, who, r, body: ledger.close(
            conn, who, r.path_params["id"], body.get("note"), clock())), methods=["POST"]),
        Route("/api/v1/ledger/items/{id:rowid}/return", write(lambda conn, who, r, body: ledger.send_back(
            conn, who, r.path_params["id"], body.get("note"), clock())), methods=["POST"]),
        Route("/api/v1/ledger/overdue", read(lambda conn, who, r: ledger.overdue(conn, who, clock())),
              methods=["GET"]),
        Route("/api/v1/ledger/photos/{id:rowid}", photo, methods=["GET"]),
        Route("/api/v1/workshops/{id:slug}/plan", read(lambda conn, who, r: plans.get_plan(
            conn, who, r.path_params["id"], clock())), methods=["GET"]),
        Route("/api/v1/workshops/{id:slug}/plan", write(lambda conn, who, r, body: plans.set_summary(
            conn, who, r.path_params["id"], body.get("summary"), clock())), methods=["POST"]),
        Route("/api/v1/workshops/{id:slug}/plan.pdf", pdf, methods=["GET"]),
        Route("/api/v1/workshops/{id:slug}/plan/goals", write(lambda conn, who, r, body: plans.add_goal(
            conn, who, r.path_params["id"], body, clock()), 201), methods=["POST"]),
        Route("/api/v1/plan-goals/{id:rowid}", write(lambda conn, who, r, body: plans.update_goal(
            conn, who, r.path_params["id"], body, clock())), methods=["POST"]),
    ]
