"""The web part's Starlette app, and the dispatcher that puts it beside the HTTP API.

The API keeps its own token middleware untouched; the display and the console
are routed around it: the display is public by design, the console has its own
login (see ``docs/display.md``).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge_gateway.web import console_routes, display_routes
from edge_gateway.web.context import WebContext
from edge_gateway.web.pages import STATIC
from sebiao_common.proxies import proxy_middleware

WEB_PATHS = ("/display", "/console", "/assets/")
SESSION_COOKIE = "sebiao_console"
CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds CSP and friends to every web response (pure ASGI: leaves the SSE stream alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_web_app(web: WebContext, session_key: str) -> Starlette:
    routes = display_routes.ROUTES + console_routes.ROUTES + [
        Mount("/assets", StaticFiles(directory=STATIC), name="assets"),
    ]
    app = Starlette(routes=routes, middleware=[
        *proxy_middleware(web.settings.trusted_proxies),  # the console's brake counts clients by address
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=session_key, session_cookie=SESSION_COOKIE,
                   max_age=web.settings.session_hours * 3600, path="/console", same_site="strict",
                   https_only=False),
    ])
    app.state.web = web
    return app


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PATHS)


class Dispatch:
    """Sends the web paths to the web app and everything else (``/api``, ``/healthz``…) to the API."""

    def __init__(self, api: ASGIApp, web: ASGIApp) -> None:
        self.api, self.web = api, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_web_path(scope["path"]):
            await self.web(scope, receive, send)
        else:
            await self.api(scope, receive, send)
