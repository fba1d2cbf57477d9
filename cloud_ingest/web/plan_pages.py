"""一坊一策 on the pages: ``/workshops/{id}/plan`` (the plan, its progress, goals and ledger items; the forms of
the district's inspectors) and ``/workshops/{id}/plan.pdf`` (the printable plan, ``reports.plan_pdf``)."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qs

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid} and {id:slug}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import CloudError, PayloadTooLarge
from cloud_ingest.reports.plan_pdf import plan_pdf
from cloud_ingest.review import plans
from cloud_ingest.store import db
from cloud_ingest.web.frame import HEADERS, MAX_FORM, Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label
from cloud_ingest.web.ledger_pages import EDITORS, items_table
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box, error_shown
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

MET = {True: ("已达成", "met", "✓"), False: ("未达成", "not yet", "○")}


def _progress(p: dict) -> Html:
    return el("p", {"class": "card progress", "id": "progress"},
              el("span", {"id": "progress-closed"}, bi("问题已销号", "items closed")), el("strong", None, f" {p['items_closed']} / {p['items_total']}"),
              " · ", bi("目标已达成", "goals met"), el("strong", None, f" {p['goals_met']} / {p['goals_total']}"),
              el("progress", {"max": max(p["items_total"], 1), "value": p["items_closed"],
                              "aria-labelledby": "progress-closed"}))  # its name: the shown half only


def _goals(plan: dict, who: Principal, csrf: str) -> Html:
    if not plan["goals"]:
        return el("p", {"class": "empty", "id": "goals"}, bi("尚无目标", "No goal yet"))
    rows = []
    for g in plan["goals"]:
        zh, en, sym = MET[g["met"]]
        toggle = el("form", {"method": "post", "action": f"/plan-goals/{g['id']}/met", "class": "inline"},
                    csrf_input(csrf), el("input", {"type": "hidden", "name": "met", "value": "0" if g["met"] else "1"}),
                    el("button", {"type": "submit", "id": f"goal-{g['id']}-met"},
                       bi("撤销达成", "Not met") if g["met"] else bi("标记达成", "Mark met"))) \
            if who.role in EDITORS else ""
        links = join(*[join(el("a", {"href": f"/ledger/{i}"}, f"#{i}"), " ") for i in g["items"]]) or "—"
        late = el("span", {"class": "badge ledger-overdue", "data-overdue": "1"},
                  el("span", {"class": "sym", "aria-hidden": "true"}, "⚠"), bi("逾期", "overdue")) \
            if g["overdue"] else ""
        rows.append(el("tr", {"data-goal": g["id"]},
                       el("td", cell_label("目标", "Goal"), g["text"]),
                       el("td", cell_label("目标日期", "Target"), g["target"], " ", late),
                       el("td", cell_label("相关问题", "Items"), links),
                       el("td", cell_label("达成", "Met"),
                          el("span", {"class": f"badge goal-{'met' if g['met'] else 'open'}"},
                             el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en)), " ", toggle)))
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("目标", "Goal"), ("目标日期", "Target"), ("相关问题", "Items"), ("达成", "Met"))])
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "goals"}, el("thead", None, head),
                                              el("tbody", None, rows)))


def _forms(plan: dict, csrf: str) -> Html:
    ws = plan["workshop"]
    summary = el("form", {"class": "card note-form", "method": "post", "action": f"/workshops/{ws}/plan",
                          "id": "form-summary"}, csrf_input(csrf),
                 el("label", {"for": "summary-text"}, bi("计划概述（必填）", "Summary (required)")),
                 el("textarea", {"name": "summary", "id": "summary-text", "required": True, "maxlength": 2000,
                                 "rows": 3}, plan["summary"] or ""),
                 el("button", {"type": "submit", "id": "summary-submit"}, bi("保存概述", "Save the summary")))
    boxes = [el("label", {"class": "check"}, el("input", {"type": "checkbox", "name": "items", "value": i["id"],
                                                          "id": f"goal-item-{i['id']}"}), f" #{i['id']} {i['text']}")
             for i in plan["items"]]
    goal = el("form", {"class": "card note-form", "method": "post", "action": f"/workshops/{ws}/plan/goals",
                       "id": "form-goal"}, csrf_input(csrf),
              el("label", {"for": "goal-text"}, bi("目标（必填）", "Goal (required)")),
              el("textarea", {"name": "text", "id": "goal-text", "required": True, "maxlength": 2000, "rows": 2}),
              el("label", {"for": "goal-target"}, bi("目标日期", "Target date")),
              el("input", {"type": "date", "name": "target", "id": "goal-target", "required": True}),
              el("fieldset", None, el("legend", None, bi("相关问题", "Ledger items")), boxes) if boxes else "",
              el("button", {"type": "submit", "id": "goal-submit"}, bi("添加目标", "Add the goal")))
    return el("div", {"class": "forms-row"}, summary, goal)


def plan_page(plan: dict, who: Principal, csrf: str, error: str | None) -> Html:
    ws = plan["workshop"]
    return join(error_box(error),
                el("p", None, plan["name"], f"（{ws}）· ", plan["district_name"], " · ",
                   el("a", {"href": f"/workshops/{ws}/plan.pdf", "id": "plan-pdf", "class": "downloads"},
                      bi("打印（PDF）", "Print (PDF)"))),
                el("h2", None, bi("计划概述", "Summary")),
                el("p", {"class": "card", "id": "summary"}, plan["summary"] or bi("尚未填写", "Not written yet")),
                el("h2", None, bi("进度", "Progress")), _progress(plan["progress"]),
                el("h2", None, bi("目标", "Goals")), _goals(plan, who, csrf),
                el("h2", None, bi("问题台账", "Ledger items")), items_table(plan["items"], "plan"),
                _forms(plan, csrf) if who.role in EDITORS else "")


class PlanPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/workshops/{id:slug}/plan", self.page, methods=["GET"]),
                Route("/workshops/{id:slug}/plan", self.summary, methods=["POST"]),
                Route("/workshops/{id:slug}/plan.pdf", self.pdf, methods=["GET"]),
                Route("/workshops/{id:slug}/plan/goals", self.goal, methods=["POST"]),
                Route("/plan-goals/{id:rowid}/met", self.met, methods=["POST"])]

    def shown(self, workshop: str, error: str | None = None) -> Callable:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            plan = plans.get_plan(conn, who, workshop, self.frame.clock())
            return Shown(("一坊一策", "Improvement plan"), plan_page(plan, who, s.csrf, error), "/ledger")
        return build

    async def page(self, request: Request) -> Response:
        return await self.frame.show(request, self.shown(request.path_params["id"]))

    async def summary(self, request: Request) -> Response:
        ws = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            plans.set_summary(conn, who, ws, form.get("summary"), self.frame.clock())
            return f"/workshops/{ws}/plan"
        return await self.frame.change(request, step, lambda message: self.shown(ws, message))

    async def goal(self, request: Request) -> Response:
        ws = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, Any]) -> str:
            ids = [int(i) for i in form["items"] if i.isdigit()]
            body = {"text": form.get("text"), "target": form.get("target"), "items": ids}
            plans.add_goal(conn, who, ws, body, self.frame.clock())
            return f"/workshops/{ws}/plan"
        return await self.frame.change(request, step, lambda message: self.shown(ws, message), read_goal_form)

    async def met(self, request: Request) -> Response:
        goal_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            plan = plans.update_goal(conn, who, goal_id, {"met": form.get("met") == "1"}, self.frame.clock())
            return f"/workshops/{plan['workshop']}/plan"
        return await self.frame.change(request, step, lambda message: self.shown("", message))

    async def pdf(self, request: Request) -> Response:
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)

        def work() -> bytes | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                now = self.frame.clock()
                return None if who is None else plan_pdf(plans.get_plan(conn, who, request.path_params["id"], now),
                                                         now)
        try:
            body = await run_in_threadpool(work)
        except CloudError as exc:
            return self.frame.respond(request, error_shown(exc), None, session)
        if body is None:
            return self.frame.to_login(request)
        name = f"plan-{request.path_params['id']}.pdf"
        return Response(body, media_type="application/pdf",
                        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


async def read_goal_form(request: Request) -> dict[str, Any]:
    """The goal form: each field's first value, and ``items`` (checked many times) as the list of them all."""
    try:
        raw = await read_body(request, MAX_FORM)
    except BodyTooLarge as exc:
        raise PayloadTooLarge("表单过大", f"the form is over {MAX_FORM} bytes") from exc
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {**{k: v[0] for k, v in fields.items()}, "items": fields.get("items", [])}
