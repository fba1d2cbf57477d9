"""``GET /p/{slug}``: a workshop's public page, without a login, cached and braked.

The order of the work is the order of its cost: the client's brake (memory),
then the page cache (memory), and only on a miss one read transaction
(``summary.read``). A 200 carries ``ETag``, ``Last-Modified`` and
``Cache-Control: public, max-age=<cache_seconds>``: a phone or a proxy asks
again with ``If-None-Match`` (or ``If-Modified-Since``) and gets a 304
without a body. Every address that is not a page (unknown, rotated away,
malformed) gets the same 404 page with the same headers: the answer does not
tell whether a workshop exists. ``X-Robots-Tag: noindex`` and the page's own
``robots`` meta keep search engines from listing the addresses.
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate, parsedate_to_datetime
from typing import Callable

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access import public_slugs
from cloud_ingest.config import PublicPages
from cloud_ingest.errors import CloudError
from cloud_ingest.public import page, summary
from cloud_ingest.public.cache import ClientBrake, Page, PageCache
from cloud_ingest.store import db
from sebiao_common.proxies import client_address

HEADERS = {"Content-Security-Policy": page.CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "X-Robots-Tag": "noindex, nofollow"}
NOT_FOUND = page.not_found()


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class PublicPageRoutes:
    def __init__(self, engine: Engine, settings: PublicPages, clock: Callable[[], int]) -> None:
        """``clock``: the app's (ms): today and the data's age are the cloud's."""
        self.engine, self.settings, self.clock = engine, settings, clock
        self.cache = PageCache(ttl=settings.cache_seconds, entries=settings.cache_entries)
        self.brake = ClientBrake(per_minute=settings.per_minute, clients=settings.clients)
        self._missing = Page(status=404, body=NOT_FOUND, etag=_etag(NOT_FOUND), built=0.0)

    def routes(self) -> list[Route]:
        return [Route("/p/{slug}", self.show, methods=["GET", "HEAD"])]

    def build(self, slug: str) -> Page:
        """One read transaction: the page of ``slug``, or the 404 page."""
        now = self.clock()
        with db.read(self.engine) as conn:
            workshop = public_slugs.workshop_of(conn, slug)
            found = None if workshop is None else summary.read(conn, workshop, now,
                                                               self.settings.silent_minutes * 60_000)
        if found is None:
            return self._missing
        body = page.render(found, self.settings.silent_minutes)
        return Page(status=200, body=body, etag=_etag(body), built=now / 1000)

    async def show(self, request: Request) -> Response:
        wait = self.brake.take(client_address(request))
        if wait:
            return Response("请求过于频繁，请稍后再试 / too many requests: try again later\n", status_code=429,
                            media_type="text/plain; charset=utf-8",
                            headers={**HEADERS, "Retry-After": str(wait), "Cache-Control": "no-store"})
        slug = request.path_params["slug"]
        if not public_slugs.is_slug(slug):
            found = self._missing  # not even looked up
        else:
            try:
                found = await run_in_threadpool(self.cache.get, slug, lambda: self.build(slug))
            except CloudError as exc:  # the database failed: say so, cache nothing
                return Response(f"{exc}\n", status_code=503, media_type="text/plain; charset=utf-8",
                                headers={**HEADERS, "Retry-After": "30", "Cache-Control": "no-store"})
        return self._answer(request, found)

    def _answer(self, request: Request, found: Page) -> Response:
        if found.status != 200:
            return Response(found.body, status_code=found.status, media_type="text/html; charset=utf-8",
                            headers={**HEADERS, "Cache-Control": "no-cache"})
        headers = {**HEADERS, "ETag": found.etag, "Last-Modified": formatdate(found.built, usegmt=True),
                   "Cache-Control": f"public, max-age={int(self.settings.cache_seconds)}"}
        if _not_modified(request, found):
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else found.body
        response = Response(body, status_code=200, media_type="text/html; charset=utf-8", headers=headers)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(found.body))
        return response


def _not_modified(request: Request, found: Page) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        return found.etag in [tag.strip().removeprefix("W/") for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since).timestamp() >= int(found.built)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


