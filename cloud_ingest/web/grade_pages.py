"""The regulator's grades (分级定榜) on the pages: the public ones, and the inspector's form.

Public, without a login (``review/grades.py`` says why and what is in them):

- ``/public/districts/{id}``: a district's graded workshops, best grade first;
- ``/public/workshops/{id}``: a workshop's grade and its 升榜/降榜 history;

both ``?page=N``, 100 a page, with links to the pages before and after.

For the session's user: ``/workshops/{id}/grade`` shows the same history and,
to an inspector of the district or an admin, the form that sets a grade
(grade, effective date, reason: the reason is published). The form calls
``review.grades.set_grade`` with the session user's ``Principal``: the roles
and the scope are that function's. Every grade is written with its name and
its own mark, never its colour alone.
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import CloudError, NotFound
from cloud_ingest.review import grades
from cloud_ingest.store import db
from cloud_ingest.store.schema import GRADES, public_pages, workshops
from cloud_ingest.web.frame import Build, Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, lang_of, pick
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box, error_shown
from sebiao_common.grade_statement import GRADE_WORDS

MEDAL = {"gold": "金", "silver": "银", "bronze": "铜", "orange": "橙"}  # the grade's own mark beside its name
ARROW = {"first": "●", "up": "▲", "down": "▼", "kept": "＝"}


def grade_badge(grade: str) -> Html:
    zh, en = GRADE_WORDS[grade]
    return el("span", {"class": f"badge grade-{grade}", "data-grade": grade},
              el("span", {"class": "sym", "aria-hidden": "true"}, MEDAL[grade]), bi(zh, en))


def history_table(history: list[dict]) -> Html:
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("生效日期", "Effective"), ("等级", "Grade"), ("变动", "Change"), ("理由", "Reason"))])
    body = [el("tr", {"data-grading": h["id"], "data-direction": h["direction"]},
               el("td", cell_label("生效日期", "Effective"), h["effective"]),
               el("td", cell_label("等级", "Grade"), grade_badge(h["grade"])),
               el("td", {**cell_label("变动", "Change"), "class": "direction"},
                  el("span", {"aria-hidden": "true"}, ARROW[h["direction"]]), " ",
                  bi(h["direction_zh"], h["direction_en"]),
                  join(" ← ", grade_badge(h["previous"])) if h["previous"] else ""),
               el("td", cell_label("理由", "Reason"), h["reason"]))
            for h in history]
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "grade-history"},
                                              el("thead", None, head), el("tbody", None, body)))


def pager(path: str, doc: dict) -> Html:
    """Links to the pages before and after this one of a public list (``?page=N``), when it has more than one."""
    if doc["pages"] <= 1:
        return Html("")
    page = doc["page"]
    links = [el("a", {"href": f"{path}?page={page - 1}", "rel": "prev", "id": "page-prev"},
                bi("上一页", "Previous")) if page > 1 else "",
             el("span", {"id": "page-of"}, bi(f"第 {page} / {doc['pages']} 页", f"page {page} of {doc['pages']}")),
             el("a", {"href": f"{path}?page={page + 1}", "rel": "next", "id": "page-next"},
                bi("下一页", "Next")) if page < doc["pages"] else ""]
    return el("nav", {"class": "pager", "aria-labelledby": "page-of"},  # named by its shown words only
              join(*[join(x, " ") for x in links if x]))


def workshop_body(doc: dict) -> Html:
    now = doc["grade"]
    return join(
        el("p", {"class": "note"}, bi("等级由市场监管部门评定并发布（分级定榜）。",
                                      "The grade is set and published by the market regulator.")),
        el("p", {"class": "card", "id": "grade-now"}, el("strong", None, doc["name"]), " · ",
           doc["district_name"], " · ", grade_badge(now["grade"]), " ",
           bi(f"{now['effective']} 起生效", f"since {now['effective']}")),
        el("h2", None, bi("升降榜记录", "History")), history_table(doc["history"]),
        pager(f"/public/workshops/{doc['workshop']}", doc))


def district_body(doc: dict) -> Html:
    if not doc["workshops"]:
        return el("p", {"class": "empty"}, bi("本辖区尚无发布的等级", "No grade published in this district yet"))
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("作坊", "Workshop"), ("等级", "Grade"), ("生效日期", "Effective"), ("最近变动", "Last change"))])
    body = [el("tr", {"data-workshop": w["workshop"]},
               el("td", None, el("a", {"href": f"/public/workshops/{w['workshop']}"}, w["name"])),
               el("td", cell_label("等级", "Grade"), grade_badge(w["grade"])),
               el("td", cell_label("生效日期", "Effective"), w["effective"]),
               el("td", cell_label("最近变动", "Last change"), ARROW[w["direction"]], " ",
                  bi(w["direction_zh"], w["direction_en"])))
            for w in doc["workshops"]]
    return join(el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "district-grades"},
                                                   el("thead", None, head), el("tbody", None, body))),
                pager(f"/public/districts/{doc['district']}", doc))


def grade_form(workshop: str, csrf: str, today: str, lang: str) -> Html:
    options = [el("option", {"value": g}, f"{MEDAL[g]} {pick(lang, *GRADE_WORDS[g][:2])}") for g in GRADES]
    return el("form", {"class": "card note-form", "method": "post", "action": f"/workshops/{workshop}/grade",
                       "id": "form-grade"},
              csrf_input(csrf),
              el("label", {"for": "grade-grade"}, bi("等级", "Grade"),
                 el("select", {"id": "grade-grade", "name": "grade", "required": True}, options)),
              el("label", {"for": "grade-effective"}, bi("生效日期", "Effective date"),
                 el("input", {"type": "date", "id": "grade-effective", "name": "effective", "required": True,
                              "max": today, "value": today})),
              el("label", {"for": "grade-reason"}, bi("定榜理由（将公开）", "Reason (published)"),
                 el("textarea", {"id": "grade-reason", "name": "reason", "maxlength": grades.MAX_REASON,
                                 "required": True, "rows": 3})),
              el("button", {"type": "submit", "id": "grade-submit"}, bi("发布等级", "Publish the grade")))


class GradePages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [
            Route("/public/districts/{id:slug}", self.public_district, methods=["GET"]),
            Route("/public/workshops/{id:slug}", self.public_workshop, methods=["GET"]),
            Route("/workshops/{id:slug}/grade", self.page, methods=["GET"]),
            Route("/workshops/{id:slug}/grade", self.set_grade, methods=["POST"]),
        ]

    async def _public(self, request: Request, title: tuple[str, str], build) -> Response:  # type: ignore[no-untyped-def]
        def work() -> Shown:
            with db.read(self.frame.engine) as conn:
                try:
                    return Shown(title, build(conn))
                except CloudError as exc:
                    return error_shown(exc)
        try:
            shown = await run_in_threadpool(work)
        except CloudError as exc:
            shown = error_shown(exc)
        return self.frame.respond(request, shown, None, None)

    async def public_district(self, request: Request) -> Response:
        return await self._public(request, ("辖区分级定榜", "District grades"), lambda conn: district_body(
            grades.public_district(conn, request.path_params["id"], grades.page_number(request.query_params, strict=False))))

    async def public_workshop(self, request: Request) -> Response:
        return await self._public(request, ("作坊等级", "Workshop grade"), lambda conn: workshop_body(
            grades.public_history(conn, request.path_params["id"], grades.page_number(request.query_params, strict=False))))

    def shown(self, workshop_id: str, lang: str, error: str | None = None) -> Build:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            shop = conn.execute(select_workshop(who, workshop_id)).first()
            if shop is None:
                raise NotFound("没有这个作坊", f"no workshop {workshop_id!r}")
            try:
                body = workshop_body(grades.public_history(conn, workshop_id))
            except NotFound:
                body = el("p", {"class": "empty", "id": "grade-none"},
                          bi("监管部门尚未发布本作坊的等级", "No grade published for this workshop yet"))
            form = (grade_form(workshop_id, s.csrf, grades.today(self.frame.clock()), lang)
                    if who.role in ("inspector", "admin") else "")
            public = el("p", None, el("a", {"href": f"/public/workshops/{workshop_id}"},
                                      bi("公开页面", "Public page")))
            slug = conn.execute(select(public_pages.c.slug).where(public_pages.c.workshop_id == workshop_id)).scalar()
            if slug is not None:  # the workshop's page on the cloud, the display's QR code (docs/public-page.md)
                public = join(public, el("p", None, el("a", {"href": f"/p/{slug}", "id": "workshop-page"},
                                                       bi("作坊云端公开页（扫码页面）", "The workshop's public page "
                                                                                  "(the QR code's)"))))
            return Shown((f"等级 · {shop.name}", f"Grade · {shop.id}"), join(error_box(error), body, form, public),
                         "/workshops")
        return build

    async def page(self, request: Request) -> Response:
        return await self.frame.show(request, self.shown(request.path_params["id"], lang_of(request.cookies)))

    async def set_grade(self, request: Request) -> Response:
        workshop_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            grades.set_grade(conn, who, workshop_id, {"grade": form.get("grade"), "effective": form.get("effective"),
                                                      "reason": form.get("reason")}, self.frame.clock())
            return f"/workshops/{workshop_id}/grade"
        lang = lang_of(request.cookies)
        return await self.frame.change(request, step, lambda message: self.shown(workshop_id, lang, message))


def select_workshop(who: Principal, workshop_id: str) -> Select:
    return select(workshops.c.id, workshops.c.name).where(workshops.c.id == workshop_id, workshop_clause(who))
