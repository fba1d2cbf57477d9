"""The owner's console: login, the page, its live feed, and alarm actions.

An unknown tag's alarm offers its enrolment (``enrol_tag``), written as ``sebiao enroll`` writes it.
Acknowledge and clear go through the pipeline (``Pipeline.call``), exactly as
the HTTP API's do, so the lifecycle rules (a latched cross-zone alarm needs a
corrective-action comment) are the gateway's own and its answers are shown as
they are.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from edge_gateway.errors import AlarmActionError, StoreError
from edge_gateway.model.alarms import alarm_json
from edge_gateway.model.enrolment import Request as EnrolRequest
from edge_gateway.web.alarm_actions import (
    ANSWER_SECONDS,
    VERBS,
    ActionRefused,
    action_body,
    perform_action,
    submit_action,
)
from edge_gateway.web.context import WebContext
from edge_gateway.web.pages import page
from sebiao_common.domain import COLORS, StationKind
from sebiao_common.errors import BodyTooLarge, ConfigError
from sebiao_common.http_body import read_body
from sebiao_common.origin import same_origin
from sebiao_common.proxies import client_address

log = logging.getLogger(__name__)
MAX_FORM = 4096
# the enrol form's fields as the owner sees them: a refusal names the field in these words
ENROL_FIELDS = {"tag": ("标签", "tag"), "kind": ("器具种类", "kind of tool"), "color": ("颜色", "colour"),
                "home": ("固定存放架", "home rack"), "by": ("您的姓名（操作人）", "your name")}
DISABLED = ("控制台未启用：请在配置中设置 display.console_password 或 http.token / "
            "the console is off: set display.console_password or http.token in the config")


def _web(request: Request) -> WebContext:
    return request.app.state.web


async def _logged_in(request: Request) -> bool:
    """Whether the request's session stands (the store is asked in the thread pool; failing: no)."""
    try:
        return await run_in_threadpool(_web(request).auth.logged_in, request)
    except StoreError:
        return False


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store", **headers})


# -- login ------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    web = _web(request)
    if not web.auth.enabled:
        return page("login.html", 503, error=DISABLED)
    if await _logged_in(request):
        return RedirectResponse("/console", status_code=303)
    return page("login.html", error="")


async def login_submit(request: Request) -> Response:
    web = _web(request)
    if not web.auth.enabled:
        return page("login.html", 503, error=DISABLED)
    if not same_origin(request):
        return page("login.html", 403, error="请求来自其他网站，已拒绝 / refused: the request came from another site")
    try:  # before any login: refused as soon as it is over MAX_FORM, never kept whole
        raw = await read_body(request, MAX_FORM)
    except BodyTooLarge:
        return page("login.html", 413, error="表单过大 / the form is too large")
    password = parse_qs(raw.decode("utf-8", "replace")).get("password", [""])[0]
    client = client_address(request)
    wait = web.auth.reserve(client)  # nothing awaited from here to the check: see ConsoleAuth.reserve
    if wait > 0:
        response = page("login.html", 429, error=f"尝试次数过多，请 {int(wait) + 1} 秒后再试 / "
                                                 f"too many tries: wait {int(wait) + 1} s")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not web.auth.check(client, password):
        return page("login.html", 401, error="密码错误 / wrong password")
    try:
        await run_in_threadpool(web.auth.log_in, request)
    except StoreError as exc:
        return page("login.html", 503, error=str(exc))
    return RedirectResponse("/console", status_code=303)


async def logout(request: Request) -> Response:
    web = _web(request)
    if not same_origin(request) or (await _logged_in(request) and not web.auth.csrf_ok(request)):
        return _error(403, "CSRF 校验失败 / the CSRF check failed")
    try:
        await run_in_threadpool(web.auth.log_out, request)  # the cookie is dead from here on, copies too
    except StoreError as exc:
        return _error(503, str(exc))
    return JSONResponse({"ok": True})


# -- the page and its data -------------------------------------------------------------


async def console_page(request: Request) -> Response:
    if not await _logged_in(request):
        return RedirectResponse("/console/login", status_code=303)
    return page("console.html")


async def _refused(request: Request) -> Response | None:
    if not await _logged_in(request):
        return _error(401, "请先登录 / log in first")
    return None


async def session_info(request: Request) -> Response:
    if (refused := await _refused(request)) is not None:
        return refused
    web = _web(request)
    return JSONResponse({"user": "owner", "csrf": web.auth.csrf_token(request),
                         "workshop": web.config.workshop.id}, headers={"Cache-Control": "no-store"})


async def console_state(request: Request) -> Response:
    if (refused := await _refused(request)) is not None:
        return refused
    try:
        snapshot = await _web(request).console_feed.current()
    except StoreError as exc:
        return _error(503, str(exc))
    return Response(snapshot.data, media_type="application/json", headers={"Cache-Control": "no-store"})


async def console_live(request: Request) -> Response:
    if (refused := await _refused(request)) is not None:
        return refused
    # the session is asked again while the stream is open: a logout elsewhere ends it
    return await _web(request).console_feed.response(request, allowed=lambda: _logged_in(request))


# -- alarm actions -----------------------------------------------------------------


def _who(body: dict[str, object]) -> tuple[str, str | None]:
    by, comment = body.get("by"), body.get("comment")
    if not isinstance(by, str) or not by.strip():
        raise AlarmActionError("请填写您的姓名（操作人） / 'by' must name the person acting")
    if comment is not None and not isinstance(comment, str):
        raise AlarmActionError("备注须为文字 / 'comment' must be a string")
    return by, comment  # trimmed and held to the limits by the lifecycle (model/alarms.py), as the API's


async def alarm_action(request: Request) -> Response:
    if (refused := await _refused(request)) is not None:
        return refused
    web = _web(request)
    if not same_origin(request) or not web.auth.csrf_ok(request):
        return _error(403, "CSRF 校验失败，请刷新页面 / the CSRF check failed: reload the page")
    verb = request.path_params["verb"]
    if verb not in VERBS:
        return _error(404, f"没有这个操作 / no such action: {request.path_params['verb']!r} (ack or clear)")
    try:
        alarm = await perform_action(request, web.pipeline, verb, _who)
    except ActionRefused as refused:
        return _error(refused.status, refused.message)
    return JSONResponse(alarm_json(alarm, web.config.workshop.id), headers={"Cache-Control": "no-store"})


# -- enrolling an unknown tag ------------------------------------------------------


async def enrol_tag(request: Request) -> Response:
    """``{"tag", "kind", "color", "home", "by", "alarm"}``: the tag becomes a tool in the config file, checked and
    written as ``sebiao enroll`` does, and its unknown-tag alarm (``alarm``, optional) is cleared saying so; the
    gateway starts again on the new file (``sebiao gateway --watch-config``)."""
    if (refused := await _refused(request)) is not None:
        return refused
    web = _web(request)
    if not same_origin(request) or not web.auth.csrf_ok(request):
        return _error(403, "CSRF 校验失败，请刷新页面 / the CSRF check failed: reload the page")
    try:
        body = await action_body(request)
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except AlarmActionError as exc:
        return _error(400, str(exc))
    fields = {name: body.get(name) for name in ENROL_FIELDS}
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            zh, en = ENROL_FIELDS[name]
            return _error(400, f"请填写{zh} / give the {en} ('{name}')")
    if (refusal := _other_colours_rack(web, fields["home"], fields["color"])) is not None:
        return _error(400, refusal)
    req = EnrolRequest(tag=fields["tag"].strip(), kind=fields["kind"], color=fields["color"], home=fields["home"])
    try:
        tools = await run_in_threadpool(web.enrol, [req])
    except ConfigError as exc:
        return _error(400, exc.reason if exc.path.startswith("enrol[") else str(exc))
    tool = tools[0]
    log.info("console: %s enrolled tag %s as %s (%s, %s, home %s)", fields["by"].strip(), tool.tag, tool.id,
             tool.kind, tool.color, tool.home)
    alarm_id = body.get("alarm")
    if isinstance(alarm_id, int) and not isinstance(alarm_id, bool):
        # the unknown tag's alarm is answered: cleared with what was done (a cleared one stays so)
        try:
            await asyncio.wait_for(asyncio.wrap_future(submit_action(
                web.pipeline, "clear", alarm_id, fields["by"].strip(),
                f"已登记为 {tool.id} / enrolled as {tool.id}")), timeout=ANSWER_SECONDS)
        except (AlarmActionError, TimeoutError) as exc:
            log.warning("console: enrolled %s, its alarm %s not cleared: %s", tool.id, alarm_id, exc)
    return JSONResponse({"id": tool.id, "tag": tool.tag, "kind": tool.kind, "color": tool.color, "home": tool.home},
                        headers={"Cache-Control": "no-store"})


def _other_colours_rack(web: WebContext, home: str, color: str) -> str | None:
    """The config's parser refuses a home rack of another colour in English with the file's path; the owner
    reads it first in Chinese, the rack by its name."""
    station = web.config.station(home)
    if station is None or station.kind is not StationKind.RACK or station.zone == color or color not in COLORS:
        return None
    rack, tool = COLORS[station.zone], COLORS[color]
    name = station.name or station.id
    return (f"{name}是{rack.zh}区的器具架，不能作为{tool.zh}器具的固定存放架，请选{tool.zh}区的架子 / "
            f"{name} ({station.id}) is a {rack.en} rack, the tool is {tool.en}: choose a {tool.en} rack")


ROUTES = [
    Route("/console", console_page),
    Route("/console/login", login_page, methods=["GET"]),
    Route("/console/login", login_submit, methods=["POST"]),
    Route("/console/logout", logout, methods=["POST"]),
    Route("/console/api/session", session_info),
    Route("/console/api/state", console_state),
    Route("/console/live", console_live),
    Route("/console/api/alarms/{alarm_id:int}/{verb}", alarm_action, methods=["POST"]),
    Route("/console/api/enrol", enrol_tag, methods=["POST"]),
]
