"""The pages' routes: log in and out, then each page reads or changes through the review functions
with the session user's ``Principal``, so the pages see exactly what the JSON API would show that user.

Every page but the public grade pages (``grade_pages``) needs a session
(none: 303 to ``/login``); every POST form carries the session's CSRF token (missing or wrong: 403) and must not come from
another site. Something outside the user's scope is a 404 page. A form that
succeeds answers 303 back to its page (post/redirect/get); one that is
refused shows its page again with the reason and the refusal's status. That
plumbing is ``frame.Frame``'s, which ``Pages`` extends and the rectification and
report pages use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.access.login import Checked, Logins
from cloud_ingest.config import CloudConfig
from cloud_ingest.errors import CloudError, Forbidden
from cloud_ingest.reports import compliance
from cloud_ingest.review import rectification, review, triage
from cloud_ingest.store import db
from cloud_ingest.web import data, notify_section, rectification_pages, views
from cloud_ingest.web.district_pages import DistrictPages
from cloud_ingest.web.frame import HEADERS, Build, Frame, read_form, secure
from cloud_ingest.web.grade_pages import GradePages
from cloud_ingest.web.html import Html
from cloud_ingest.web.inspection_pages import InspectionPages
from cloud_ingest.web.labels import lang_of
from cloud_ingest.web.ledger_pages import LedgerPages
from cloud_ingest.web.map_pages import MapPages
from cloud_ingest.web.overview_pages import OverviewPages
from cloud_ingest.web.plan_pages import PlanPages
from cloud_ingest.web.queue_pages import QueuePages
from cloud_ingest.web.rectification_pages import RectificationPages, timeline_steps
from cloud_ingest.web.report_pages import ReportPages
from cloud_ingest.web.session import Session
from cloud_ingest.web.setup_pages import SetupPages
from cloud_ingest.web.spot_check_pages import SpotCheckPages
from cloud_ingest.web.views import Shown, error_shown
from cloud_ingest.web.workshop_pages import WorkshopPages
from sebiao_common.origin import same_origin
from sebiao_common.proxies import client_address

STATIC = Path(__file__).parent / "static"



def page_routes(engine: Engine, config: CloudConfig, clock: Callable[[], int], logins: Logins) -> list[BaseRoute]:
    """The pages' routes, which ``cloud_ingest.app.build_app`` serves beside the JSON API
    (``logins``: the password check and brake the JSON login uses too)."""
    return Pages(engine, config, clock, logins).routes()


class Pages(Frame):
    def __init__(self, engine: Engine, config: CloudConfig, clock: Callable[[], int], logins: Logins) -> None:
        super().__init__(engine, config, clock)
        self.logins = logins
        self.rectification = RectificationPages(self, self.alarm_shown)
        self.reports = ReportPages(self)
        self.grades = GradePages(self)
        self.setups = SetupPages(self)
        self.workshop_pages = WorkshopPages(self)
        self.ledger, self.plans = LedgerPages(self), PlanPages(self)
        self.districts = DistrictPages(self)
        self.inspections, self.spot_checks = InspectionPages(self), SpotCheckPages(self)
        self.queue = QueuePages(self)
        self.overview = OverviewPages(self)
        self.map = MapPages(self)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/workshops", self.workshops, methods=["GET"]),
            *self.queue.routes(),
            Route("/alarms/{id:rowid}", self.alarm, methods=["GET"]),
            Route("/alarms/{id:rowid}/ack", self.ack, methods=["POST"]),
            Route("/alarms/{id:rowid}/clear", self.clear, methods=["POST"]),
            *self.rectification.routes(),
            *self.reports.routes(),
            *self.grades.routes(),
            *self.setups.routes(),
            *self.workshop_pages.routes(),
            *self.ledger.routes(),
            *self.plans.routes(),
            *self.districts.routes(),
            *self.inspections.routes(),
            *self.spot_checks.routes(),
            *self.overview.routes(),
            *self.map.routes(),
            Mount("/assets", StaticFiles(directory=STATIC), name="cloud-assets"),
        ]

    # -- log in and out -----------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """Where a user starts: an owner on "待您答复" (its rectifications waiting for its answer), everyone
        else on the workshops."""
        session = self.sessions.read(request)
        target = "/workshops"
        if session is not None:
            def role() -> str | None:
                with db.read(self.engine) as conn:
                    who = self.sessions.principal(conn, session)
                    return who.role if who else None
            try:
                if await run_in_threadpool(role) == "owner":
                    target = "/rectifications"
            except CloudError:
                pass  # the workshops page answers the database's failure itself
        return RedirectResponse(target, status_code=303, headers=HEADERS)

    async def login_form(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is not None:  # already logged in: where it asked to go, else its start (``home``)
            target = _next(request.query_params.get("next")) if request.query_params.get("next") else "/"
            return RedirectResponse(target, status_code=303, headers=HEADERS)
        return self._login_page(request, None, "", 200)

    def _login_page(self, request: Request, error: str | None, username: str, status: int) -> Response:
        # no page asked for: "/" (``home``), which knows the user's role once logged in
        target = _next(request.query_params.get("next")) if request.query_params.get("next") else "/"
        body = views.login_page(error, username, target)
        return self.respond(request, Shown(("登录", "Log in"), body, status=status), None, None)

    async def login(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except CloudError as exc:
            return self._login_page(request, str(exc), "", exc.status)
        if not same_origin(request):
            return self._login_page(request, "请求来自其他网站，已拒绝 / refused: the request came from another site",
                                    "", 403)
        username, password = form.get("username", "").strip(), form.get("password", "")
        client = client_address(request)

        def work() -> Checked:
            with db.read(self.engine) as conn:
                return self.logins.check(conn, client, username, password)
        try:
            found = await run_in_threadpool(work)
        except CloudError as exc:  # the brake (429), a wrong password (401), the database (503)
            response = self._login_page(request, str(exc), username, exc.status)
            response.headers.update(exc.headers())
            return response
        session = self.sessions.new(found.user_id, found.password_hash)

        def keep() -> None:
            with db.write(self.engine) as conn:
                self.sessions.start(conn, session)
        try:
            await run_in_threadpool(keep)
        except CloudError as exc:
            return self._login_page(request, str(exc), username, exc.status)
        response = RedirectResponse(_next(form.get("next")), status_code=303, headers=HEADERS)
        self.sessions.write(response, session, secure(request))
        return response

    async def logout(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is not None:
            try:
                form = await read_form(request)
            except CloudError as exc:
                return self.respond(request, error_shown(exc), None, session)
            if not same_origin(request) or not session.csrf_ok(form.get("csrf")):
                return self.respond(request, error_shown(Forbidden("CSRF 校验失败", "the CSRF check failed")),
                                    None, session)

            def end() -> None:  # the cookie is dead from here on, wherever a copy of it is
                with db.write(self.engine) as conn:
                    self.sessions.end(conn, session)
            try:
                await run_in_threadpool(end)
            except CloudError as exc:
                return self.respond(request, error_shown(exc), None, session)
        response = RedirectResponse("/login", status_code=303, headers=HEADERS)
        self.sessions.clear(response, secure(request))
        return response

    # -- workshops and alarms ------------------------------------------------------------

    async def workshops(self, request: Request) -> Response:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            now = self.clock()
            fresh = self.freshness(conn, who)
            rows = [{**r, "freshness": fresh[r["id"]]} for r in review.list_workshops(conn, who, now)]
            body = views.workshops_page(rows, [{**d, "silent": sum(1 for r in rows if r["district"] == d["id"]
                                                                    and r["freshness"]["state"] == "silent")}
                                               for d in compliance.list_districts(conn, who, now)])
            body = Html(body + notify_section.section(conn, who, now))  # admins: the district channels' state
            return Shown(("工作坊", "Workshops"), body, "/workshops")
        return await self.show(request, build)

    def alarm_shown(self, alarm_id: int, error: str | None = None, lang: str = "zh") -> Build:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            a = review.get_alarm(conn, who, alarm_id)
            a.update(triage.describe(conn, a))  # names, not ids: the workshop's, the tool's, the station's
            rects = a["rectifications"] if "rectifications" in a else rectification.for_alarm(conn, who, alarm_id)
            a["rectification_steps"] = timeline_steps(rects)
            a["freshness"] = self.freshness(conn, who, a["workshop"]).get(a["workshop"])  # 最后上报 / 数据中断
            extra = rectification_pages.section(a, rectification_pages.with_photos(conn, rects), who, s.csrf, lang)
            return Shown((f"告警 {a['number']}", f"Alarm {a['number']}"),
                         views.alarm_page(a, who, s.csrf, error, extra, lang), "/alarms")
        return build

    async def alarm(self, request: Request) -> Response:
        return await self.show(request, self.alarm_shown(request.path_params["id"], None, lang_of(request.cookies)))

    async def ack(self, request: Request) -> Response:
        return await self._review(request, review.acknowledge)

    async def clear(self, request: Request) -> Response:
        return await self._review(request, review.clear)

    async def _review(self, request: Request, fn: Callable[..., dict]) -> Response:
        alarm_id, lang = request.path_params["id"], lang_of(request.cookies)

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            data.require_alarm(conn, who, alarm_id)
            fn(conn, who, alarm_id, form.get("note", "").strip() or None, self.clock())
            return f"/alarms/{alarm_id}"
        return await self.change(request, step, lambda message: self.alarm_shown(alarm_id, message, lang))


# -- helpers ---------------------------------------------------------------------------


def _next(target: Any) -> str:
    """Only a path of this site (``/…``, never ``//host``) may be where a login leads."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/workshops"
