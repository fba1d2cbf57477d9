"""The public display's routes: the page, its live feed, its JSON and its QR code.

Public by design, wherever the gateway is bound: these routes never pass
through the API's token check and serve only the reduced public snapshot of
:mod:`display_data`.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from edge_gateway.errors import StoreError
from edge_gateway.web.context import WebContext
from edge_gateway.web.pages import page
from edge_gateway.web.qr import qr_svg


def _web(request: Request) -> WebContext:
    return request.app.state.web


async def home(request: Request) -> Response:
    return RedirectResponse("/display", status_code=307)


async def display_page(request: Request) -> Response:
    return page("display.html")


async def display_json(request: Request) -> Response:
    try:
        snapshot = await _web(request).display_feed.current()
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return Response(snapshot.data, media_type="application/json", headers={"Cache-Control": "no-store"})


async def display_live(request: Request) -> Response:
    return await _web(request).display_feed.response(request)


def display_url(request: Request, configured: str | None) -> str:
    """The address a phone opens: the configured one, else the one the TV itself used."""
    if configured:
        return configured
    return str(request.base_url).rstrip("/") + "/display"


async def display_qr(request: Request) -> Response:
    """The QR code of the workshop's public page on the cloud when the gateway has learnt it (``X-Display-Url-
    Source: cloud``), else of ``display.public_url`` (``configured``) or the address the TV used (``lan``)."""
    try:
        target = await asyncio.to_thread(_web(request).qr)
    except StoreError:
        target = {"source": "lan", "url": None}
    source = str(target["source"])
    url = str(target["url"]) if target["url"] else display_url(request, None)
    return Response(qr_svg(url), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-cache", "X-Display-Url": url, "X-Display-Url-Source": source})


ROUTES = [
    Route("/", home),
    Route("/display", display_page),
    Route("/display/data.json", display_json),
    Route("/display/live", display_live),
    Route("/display/qr.svg", display_qr),
]
