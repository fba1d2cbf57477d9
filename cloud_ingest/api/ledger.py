"""The JSON endpoints of the issue ledger (挂账销号) and the improvement plans (一坊一策), over
``cloud_ingest.review.ledger`` and ``cloud_ingest.review.plans`` (docs/cloud-ingest.md, "The issue ledger").

An answer's body may carry photos (base64): it is read within
``photos.MAX_BODY``, every other body within ``base.MAX_JSON_BODY``. A photo
is served with the type its bytes showed, ``nosniff`` and a sandboxing CSP,
and only to a caller who may see its item (404 otherwise).
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid} and {id:slug}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import BadRequest
from cloud_ingest.reports.plan_pdf import plan_pdf
from cloud_ingest.review import ledger, photos, plans

PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                 "Cache-Control": "private, no-store", "Content-Disposition": "inline"}


def routes(api: ApiBase) -> list[Route]:
    clock, read, write = api.clock, api.reader, api.writer  # the handlers every route module builds (ApiBase)

    def answer(conn: Connection, who: Principal, request: Request, body: dict) -> dict:
        """Read within the photos' bound, then one transaction: the text, the photos, the evidence entry."""
        for key in body:
            if key not in ("text", "photos"):
                raise BadRequest(key, "未知字段", "unknown field (known: photos, text)")
        return ledger.answer(conn, who, request.path_params["id"], body.get("text"),
                             photos.from_json(body.get("photos")), clock())

    async def photo(request: Request) -> Response:
        return await api.binary(request, lambda conn, who: (
            *ledger.photo(conn, who, request.path_params["id"]), PHOTO_HEADERS))

    async def pdf(request: Request) -> Response:
        name = f"plan-{request.path_params['id']}.pdf"
        return await api.binary(request, lambda conn, who: (
            "application/pdf", plan_pdf(plans.get_plan(conn, who, request.path_params["id"], clock()), clock()),
            {"Content-Disposition": f'attachment; filename="{name}"'}))

    return [
        Route("/api/v1/ledger/items", read(lambda conn, who, r: ledger.list_items(
            conn, who, ledger.ItemFilter.from_query(r.query_params), clock())), methods=["GET"]),
        Route("/api/v1/ledger/items", write(lambda conn, who, r, body: ledger.open_item(
            conn, who, ledger.NewItem.from_body(body, clock()), clock()), 201), methods=["POST"]),
        Route("/api/v1/ledger/items/{id:rowid}", read(lambda conn, who, r: ledger.get(
            conn, who, r.path_params["id"], clock())), methods=["GET"]),
        Route("/api/v1/ledger/items/{id:rowid}/answer", write(answer, limit=photos.MAX_BODY), methods=["POST"]),
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
