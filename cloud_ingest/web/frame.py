"""The frame every page module uses: the session, the page around a body, the read and the form.

``Frame`` holds the engine, the clock and the signed sessions, and gives
``show`` (a page for the session's user, in a read-only transaction),
``change`` (a POST form: session, CSRF and origin checks, then one write
transaction; post/redirect/get), ``respond`` (the layout and the security
headers) and ``to_login``. ``routes.Pages`` and the page modules
(``rectification_pages``, ``report_pages``) build on this public frame, never
on each other's private helpers.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping
from urllib.parse import parse_qs, quote

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cloud_ingest.access.auth import Principal
from cloud_ingest.config import CloudConfig
from cloud_ingest.errors import CloudError, Forbidden, NotFound, PayloadTooLarge
from cloud_ingest.reports import freshness
from cloud_ingest.review import ledger, triage
from cloud_ingest.store import db
from cloud_ingest.web import views
from cloud_ingest.web.labels import lang_of
from cloud_ingest.web.session import COOKIE, Session, Sessions
from cloud_ingest.web.views import Shown, error_shown
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body
from sebiao_common.origin import same_origin

# The longest text a form takes is 2000 characters (a note, a reason); urlencoded, a Chinese character is 9
# bytes (%E5%BE%88) and an emoji 12: 2000 of them and the form's short fields fit in 32 KiB.
MAX_FORM = 32 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
Build = Callable[[Connection, Principal, Session], Shown]
Step = Callable[[Connection, Principal, dict[str, str]], str]


class Frame:
    def __init__(self, engine: Engine, config: CloudConfig, clock: Callable[[], int]) -> None:
        self.engine, self.clock = engine, clock
        self.sessions = Sessions(config.session_secret)
        self.silent_ms = config.freshness.silent_ms

    def freshness(self, conn: Connection, who: Principal, workshop: str | None = None) -> dict[str, dict]:
        """最后上报 / 数据中断 of the workshops in scope (or one), by id, as ``reports.freshness`` says."""
        found = freshness.workshops_freshness(conn, who, self.clock(), self.silent_ms, workshop)
        return {ws: f.json() for ws, f in found.items()}

    def respond(self, request: Request, shown: Shown, who: Principal | None, session: Session | None,
                overdue: int = 0, counts: Mapping[str, int] | None = None) -> Response:
        """``overdue``: the ledger's overdue items in the user's scope, counted in the navigation;
        ``counts``: what waits for the user, by navigation entry (``triage.nav_counts``)."""
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        doc = views.layout(shown.title, who, session.csrf if session else "", shown.body, shown.active, overdue,
                           lang_of(request.cookies), here if request.method == "GET" else "/", counts)
        response = HTMLResponse(doc, status_code=shown.status, headers=HEADERS)
        if session is not None:  # re-signed on every page: the idle expiry starts again
            self.sessions.write(response, session, secure(request))
        return response

    def to_login(self, request: Request) -> Response:
        """To the login page; a session cookie the request still carries is dropped (logged out, expired
        or of a disabled user), so the login page does not send the browser back."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303, headers=HEADERS)
        if COOKIE in request.cookies:
            self.sessions.clear(response, secure(request))
        return response

    async def show(self, request: Request, build: Build) -> Response:
        """A page for the session's user (read-only transaction)."""
        session = self.sessions.read(request)
        if session is None:
            return self.to_login(request)

        def work() -> tuple[Principal, Shown, int, dict[str, int]] | None:
            with db.read(self.engine) as conn:
                who = self.sessions.principal(conn, session)
                if who is None:
                    return None
                overdue = ledger.overdue_count(conn, who, self.clock())
                counts = triage.nav_counts(conn, who, self.clock())
                try:
                    return who, build(conn, who, session), overdue, counts
                except CloudError as exc:
                    return who, error_shown(exc), overdue, counts
        try:
            done = await run_in_threadpool(work)
        except CloudError as exc:  # the database itself failed
            return self.respond(request, error_shown(exc), None, None)
        if done is None:
            return self.to_login(request)
        return self.respond(request, done[1], done[0], session, done[2], done[3])

    async def change(self, request: Request, step: Step, again: Callable[[str], Build],
                     reader: Callable[[Request], Awaitable[dict]] | None = None) -> Response:
        """A POST form: session, CSRF and origin checks, then ``step`` in one write transaction.
        ``step`` answers where to go next; when it is refused, ``again(message)`` builds its page anew.
        ``reader``: how the form is read (default ``read_form``, urlencoded; a multipart one for photos)."""
        session = self.sessions.read(request)
        if session is None:
            return self.to_login(request)
        try:
            form = await (reader or read_form)(request)
        except CloudError as exc:
            return self.respond(request, error_shown(exc), None, session)
        if not same_origin(request) or not session.csrf_ok(form.get("csrf")):
            return self.respond(request, error_shown(Forbidden("CSRF 校验失败，请刷新页面后重试",
                                                               "the CSRF check failed: reload the page and retry")),
                                None, session)

        def work() -> str | None:
            with db.write(self.engine) as conn:
                who = self.sessions.principal(conn, session)
                return None if who is None else step(conn, who, form)
        try:
            target = await run_in_threadpool(work)
        except (NotFound, Forbidden) as exc:
            return await self.show(request, fixed(error_shown(exc)))
        except CloudError as exc:
            return await self.show(request, with_status(again(str(exc)), exc.status))
        if target is None:
            return self.to_login(request)
        return RedirectResponse(target, status_code=303, headers=HEADERS)


def fixed(shown: Shown) -> Build:
    """A page that is ``shown`` whoever asks (an error page)."""
    return lambda conn, who, s: shown


def with_status(build: Build, status: int) -> Build:
    """``build``'s page answered with a refusal's status (unless the page itself failed)."""
    def wrapped(conn: Connection, who: Principal, s: Session) -> Shown:
        shown = build(conn, who, s)
        return Shown(shown.title, shown.body, shown.active, status if shown.status == 200 else shown.status)
    return wrapped


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form, each field's first value; PayloadTooLarge as soon as it is over ``MAX_FORM`` (the login
    form is read before any session: never kept whole)."""
    try:
        raw = await read_body(request, MAX_FORM)
    except BodyTooLarge as exc:
        raise PayloadTooLarge("表单过大", f"the form is over {MAX_FORM} bytes") from exc
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}


def secure(request: Request) -> bool:
    """Whether the session cookie must be ``Secure``: the request came over HTTPS."""
    return request.url.scheme == "https"
