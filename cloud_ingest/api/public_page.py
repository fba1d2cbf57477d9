"""HTTP routes of the workshops' public pages' addresses (docs/public-page.md).

- ``GET /api/v1/gateway/public-page`` (a gateway token): its own workshop's
  ``{"workshop", "slug", "url"}``; the gateway puts ``url`` in its display's
  QR code, so a phone on mobile data opens the cloud's page, not the shop's
  LAN address;
- ``GET /api/v1/admin/workshops/{id}/public-page`` (an admin reaching the
  workshop): the same, with ``created_at``;
- ``POST /api/v1/admin/workshops/{id}/public-page/rotate`` (the same admins):
  a new slug; the old address is a 404 from then on (at once in the worker
  that rotated it, which drops its cached pages; within the pages'
  ``cache_seconds`` in other workers). Outside the admin's reach: 404.

``url`` is ``public_pages.base_url`` + ``/p/{slug}``, or, without that key,
the scheme and host the request itself came to.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.access import public_slugs
from cloud_ingest.api.base import ApiBase
from cloud_ingest.store import db


def routes(api: ApiBase, base_url: str | None, rotated: Callable[[], None] = lambda: None) -> list[Route]:
    """``rotated``: called after a rotation (the public pages' cache of this process forgets its pages)."""
    def url(request: Request, slug: str) -> str:
        base = base_url or str(request.base_url).rstrip("/")
        return f"{base}/p/{slug}"

    async def gateway(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.write(api.engine) as conn:  # a workshop made before its slug gets one now
                workshop = api.who(request, conn).require("gateway").workshop or ""
                slug = public_slugs.ensure(conn, workshop, api.clock())
            return {"workshop": workshop, "slug": slug, "url": url(request, slug)}
        return await api.call(work)

    async def current(request: Request) -> JSONResponse:
        def work() -> dict[str, Any]:
            with db.write(api.engine) as conn:
                found = public_slugs.current(conn, api.who(request, conn), request.path_params["id"], api.clock())
            return {**found, "url": url(request, found["slug"])}
        return await api.call(work)

    async def rotate(request: Request) -> JSONResponse:
        def work(conn: Any, body: Any) -> dict[str, Any]:
            found = public_slugs.rotate(conn, api.who(request, conn), request.path_params["id"], api.clock())
            return {**found, "url": url(request, found["slug"])}
        answer = await api.write(request, work)
        if answer.status_code == 200:
            rotated()
        return answer

    return [Route("/api/v1/gateway/public-page", gateway, methods=["GET"]),
            Route("/api/v1/admin/workshops/{id:slug}/public-page", current, methods=["GET"]),
            Route("/api/v1/admin/workshops/{id:slug}/public-page/rotate", rotate, methods=["POST"])]
