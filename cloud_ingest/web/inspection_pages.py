"""On-site inspections (现场检查) on the pages: made to be filled in on a phone in the workshop.

``/inspections``: the visits in scope, newest first (inspectors and admins get each workshop's "new visit"
link). ``/workshops/{id}/inspections``: one workshop's visits; ``…/inspections/new``: the form (a multipart
POST to ``/workshops/{id}/inspections``): day, inspectors present, every checklist item as three large
choices (符合 / 不符合 / 不适用, each a word and a symbol), its note and, for a 不符合, the deadline (blank: the
default of its severity), photos, findings, the representative's name and the sign-off box. The form is the
draft: what it sends is stored signed, at once (``review.inspections``). ``/inspections/{id}``: the visit,
printable, with its PDF (``/inspections/{id}/pdf``) and photos (``/inspections/photos/{id}``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid} and {id:slug}
from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, CloudError, Unprocessable
from cloud_ingest.reports.inspection_pdf import inspection_pdf
from cloud_ingest.review import checklist, inspections, photos
from cloud_ingest.store import db
from cloud_ingest.web.frame import HEADERS, Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, lang_of, pick, when
from cloud_ingest.web.ledger_pages import STATE as LEDGER_STATE
from cloud_ingest.web.ledger_pages import due_ms, read_answer
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box, error_shown

EDITORS = ("inspector", "admin")
RESULT = {"pass": ("符合", "complies", "✓"), "fail": ("不符合", "does not comply", "✗"),
          "na": ("不适用", "not applicable", "–")}


def result_badge(result: str | None) -> Html:
    if result is None:
        return Html("—")
    zh, en, sym = RESULT[result]
    return el("span", {"class": f"badge result-{result}", "data-result": result},
              el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en))


def visits_table(visits: list[dict]) -> Html:
    if not visits:
        return el("p", {"class": "empty", "id": "no-visits"}, bi("暂无检查记录", "No visits yet"))
    rows = [el("tr", {"data-visit": v["id"]},
               el("td", cell_label("日期", "day"), el("a", {"href": f"/inspections/{v['id']}"}, v["day"])),
               el("td", cell_label("作坊", "workshop"), v["workshop_name"]),
               el("td", cell_label("检查人员", "inspectors"), "、".join(v["inspectors"])),
               el("td", cell_label("结果", "results"),
                  [join(result_badge(k), f" {v['counts'][k]} ") for k in ("fail", "pass", "na")]))
            for v in visits]
    head = el("tr", None, [el("th", None, bi(*w)) for w in (("日期", "Day"), ("作坊", "Workshop"),
                                                             ("检查人员", "Inspectors"), ("结果", "Results"))])
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "visits"}, el("thead", None, head),
                                              el("tbody", None, rows)))


def _item_field(item: checklist.Item, values: dict[str, Any]) -> Html:
    key = item.key
    chosen = values.get(f"r-{key}")
    choices = [el("label", {"class": f"choice choice-{r}"},
                  el("input", {"type": "radio", "name": f"r-{key}", "value": r, "required": True,
                               "id": f"r-{key}-{r}", "checked": chosen == r}),
                  el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en))
               for r, (zh, en, sym) in RESULT.items()]
    days = checklist.DUE_DAYS[item.severity]
    return el("fieldset", {"class": "check-item", "data-item": key},
              el("legend", None, el("span", {"class": "section"}, item.section), " ", bi(item.zh, item.en)),
              el("div", {"class": "choices"}, choices),
              el("label", None, bi("说明（不符合时必填）", "Note (required for a failure)"),
                 el("textarea", {"name": f"n-{key}", "id": f"n-{key}", "rows": 2, "maxlength": inspections.MAX_NOTE},
                    values.get(f"n-{key}", ""))),
              el("label", None, bi(f"整改期限（不符合时；留空为 {days} 天）", f"Deadline (failures; blank: {days} days)"),
                 el("input", {"type": "date", "name": f"d-{key}", "id": f"d-{key}", "value": values.get(f"d-{key}")})))


def form_page(workshop: str, name: str, who: Principal, csrf: str, today: str, values: dict[str, Any],
              error: str | None) -> Html:
    v = values
    return join(error_box(error), el("form", {
        "class": "card note-form inspection-form", "method": "post", "action": f"/workshops/{workshop}/inspections",
        "enctype": "multipart/form-data", "id": "form-inspection"},
        csrf_input(csrf),
        el("p", None, bi("作坊", "Workshop"), "：", el("strong", None, name), f"（{workshop}）",
           " · ", bi(f"检查表 {checklist.CURRENT}", f"checklist {checklist.CURRENT}")),
        el("label", None, bi("检查日期", "Day"), el("input", {"type": "date", "name": "day", "id": "day",
                                                         "required": True, "max": today, "value": v.get("day", today)})),
        el("label", None, bi("检查人员（用“、”或逗号分隔）", "Inspectors present (separated by 、 or commas)"),
           el("input", {"type": "text", "name": "inspectors", "id": "inspectors", "required": True,
                        "value": v.get("inspectors", who.username or "")})),
        el("h2", None, bi("检查项目", "Checklist")),
        [_item_field(i, v) for i in checklist.items(checklist.CURRENT)],
        el("label", None, bi(f"照片（至多 {photos.MAX_PHOTOS} 张，JPEG/PNG/WebP）", f"Photos (up to {photos.MAX_PHOTOS})"),
           el("input", {"type": "file", "name": "photo", "id": "photos", "multiple": True,
                        "accept": ",".join(photos.TYPES)})),
        el("label", None, bi("检查结论", "Findings"),
           el("textarea", {"name": "findings", "id": "findings", "rows": 3, "maxlength": inspections.MAX_FINDINGS},
              v.get("findings", ""))),
        el("label", None, bi("作坊代表姓名（签字人）", "Workshop representative (who signs)"),
           el("input", {"type": "text", "name": "representative", "id": "representative", "required": True,
                        "maxlength": inspections.MAX_NAME, "value": v.get("representative", "")})),
        el("label", {"class": "check sign"}, el("input", {"type": "checkbox", "name": "sign", "value": "1",
                                                          "id": "sign", "required": True}),
           bi("我确认以上检查结果并签署；签署后不可修改", "I confirm the results above and sign; a signed visit cannot be changed")),
        el("button", {"type": "submit", "id": "inspection-submit"}, bi("签署并保存", "Sign and save"))))


def visit_page(v: dict, lang: str = "zh") -> Html:
    facts = [(("作坊", "Workshop"), join(v["workshop_name"], f"（{v['workshop']}）")), (("检查日期", "Day"), v["day"]),
             (("检查人员", "Inspectors"), "、".join(v["inspectors"])), (("检查表", "Checklist"), v["checklist"]),
             (("检查员签署", "Signed by"), join(v["signed_by"], " · ", when(v["signed_at"]))),
             (("作坊代表", "Representative"), v["representative"])]
    rows = []
    for i in v["items"]:
        led = join(" ", el("a", {"href": f"/ledger/{i['ledger_item']}"}, bi("问题", "item"), f" #{i['ledger_item']}"),
                   " ", bi(*LEDGER_STATE[i["ledger_state"]][:2]) if i["ledger_state"] else "") \
            if i["ledger_item"] else ""
        rows.append(el("tr", {"data-item": i["item"]},
                       el("td", cell_label("依据", "section"), i["section"]),
                       el("td", cell_label("项目", "item"), bi(i["zh"], i["en"])),
                       el("td", cell_label("结果", "result"), result_badge(i["result"]), led),
                       el("td", cell_label("说明", "note"), i["note"] or "")))
    head = el("tr", None, [el("th", None, bi(*w)) for w in (("依据", "Section"), ("项目", "Item"), ("结果", "Result"),
                                                             ("说明", "Note"))])
    pics = el("div", {"class": "photos"}, [
        el("figure", {"data-photo": p["id"]}, el("img", {"src": f"/inspections/photos/{p['id']}",
                                                         "alt": pick(lang, f"检查照片 #{p['id']}",
                                                                        f"photo #{p['id']}")}))
        for p in v["photos"]]) if v["photos"] else ""
    return join(el("article", {"class": "card visit", "data-visit": v["id"]},
                   el("dl", {"class": "facts"}, [join(el("dt", None, bi(*k)), el("dd", None, x)) for k, x in facts])),
                el("h2", None, bi("检查项目", "Checklist")),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "items"}, el("thead", None, head),
                                                  el("tbody", None, rows))),
                el("h2", None, bi("检查结论", "Findings")), el("p", {"id": "findings"}, v["findings"] or "—"), pics,
                el("p", {"class": "downloads"}, el("a", {"href": f"/inspections/{v['id']}/pdf", "id": "visit-pdf"},
                                                   bi("打印 PDF（含签字栏）", "Print PDF (with signature lines)"))))


def body_of(form: dict[str, Any], workshop: str) -> dict[str, Any]:
    """The form as the API's body (``inspections.NewVisit.from_body`` judges it)."""
    if form.get("sign") != "1":
        raise Unprocessable("sign: 请勾选签署确认", "sign: tick the sign-off box")
    names = [n.strip() for n in form.get("inspectors", "").replace("，", ",").replace("、", ",").split(",")]
    items = []
    for item in checklist.items(checklist.CURRENT):
        entry: dict[str, Any] = {"item": item.key, "result": form.get(f"r-{item.key}")}
        if form.get(f"n-{item.key}", "").strip():
            entry["note"] = form[f"n-{item.key}"]
        due = due_ms(form.get(f"d-{item.key}", "")) if entry["result"] == "fail" else None
        if due is not None:
            entry["due"] = due
        items.append(entry)
    return {"workshop": workshop, "day": form.get("day", ""), "inspectors": [n for n in names if n], "items": items,
            "findings": form.get("findings") or None, "representative": form.get("representative", "")}


class InspectionPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/inspections", self.listing, methods=["GET"]),
                Route("/workshops/{id:slug}/inspections", self.of_workshop, methods=["GET"]),
                Route("/workshops/{id:slug}/inspections/new", self.new, methods=["GET"]),
                Route("/workshops/{id:slug}/inspections", self.record, methods=["POST"]),
                Route("/inspections/{id:rowid}", self.visit, methods=["GET"]),
                Route("/inspections/{id:rowid}/pdf", self.pdf, methods=["GET"]),
                Route("/inspections/photos/{id:rowid}", self.photo, methods=["GET"])]

    async def listing(self, request: Request) -> Response:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            links = el("p", None, el("a", {"href": "/spot-checks", "id": "to-spot-checks"},
                                     bi("抽查（新登记作坊 5%）", "Spot checks (5% of new workshops)"))) \
                if who.role in EDITORS else ""
            return Shown(("现场检查", "On-site inspections"),
                         join(links, visits_table(inspections.list_visits(conn, who))), "/inspections")
        return await self.frame.show(request, build)

    async def of_workshop(self, request: Request) -> Response:
        ws = request.path_params["id"]

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            name = inspections.workshop_name(conn, who, ws)
            new = el("p", None, el("a", {"href": f"/workshops/{ws}/inspections/new", "id": "new-visit",
                                         "class": "button"}, bi("新建现场检查", "New on-site inspection"))) \
                if who.role in EDITORS else ""
            return Shown((f"现场检查 · {name}", f"On-site inspections · {name}"),
                         join(new, visits_table(inspections.list_visits(conn, who, ws))), "/inspections")
        return await self.frame.show(request, build)

    def form_shown(self, ws: str, values: dict[str, Any], error: str | None = None) -> Callable:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            name = inspections.workshop_name(conn, who, ws)
            who.require(*EDITORS)
            return Shown(("新建现场检查", "New on-site inspection"),
                         form_page(ws, name, who, s.csrf, inspections.today(self.frame.clock()), values, error),
                         "/inspections")
        return build

    async def new(self, request: Request) -> Response:
        return await self.frame.show(request, self.form_shown(request.path_params["id"], {}))

    async def record(self, request: Request) -> Response:
        ws = request.path_params["id"]
        kept: dict[str, Any] = {}

        def step(conn: Connection, who: Principal, form: dict[str, Any]) -> str:
            kept.update({k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"})
            inspections.workshop_name(conn, who, ws)  # 404 outside the scope, before the photos
            who.require(*EDITORS)
            now = self.frame.clock()
            if len(form["photo"]) > photos.MAX_PHOTOS:
                raise BadRequest("photo", f"至多 {photos.MAX_PHOTOS} 张", f"at most {photos.MAX_PHOTOS} photos")
            new = inspections.NewVisit.from_body(body_of(form, ws), now)
            pics = tuple(photos.check(data, None, f"照片 {n + 1} / photo {n + 1}") for n, data in enumerate(form["photo"]))
            done = inspections.record(conn, who, replace(new, photos=pics), now)
            return f"/inspections/{done['id']}"
        return await self.frame.change(request, step, lambda message: self.form_shown(ws, kept, message), read_answer)

    async def visit(self, request: Request) -> Response:
        vid = request.path_params["id"]

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            v = inspections.get(conn, who, vid, self.frame.clock())
            return Shown((f"现场检查 #{vid} · {v['workshop_name']}", f"On-site inspection #{vid}"),
                         visit_page(v, lang_of(request.cookies)),
                         "/inspections")
        return await self.frame.show(request, build)

    async def _binary(self, request: Request, fn: Callable[[Connection, Principal], tuple[str, bytes, dict]]
                      ) -> Response:
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)

        def work() -> tuple[str, bytes, dict] | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                return None if who is None else fn(conn, who)
        try:
            found = await run_in_threadpool(work)
        except CloudError as exc:
            return self.frame.respond(request, error_shown(exc), None, session)
        if found is None:
            return self.frame.to_login(request)
        return Response(found[1], media_type=found[0], headers={**HEADERS, **found[2]})

    async def pdf(self, request: Request) -> Response:
        vid = request.path_params["id"]
        return await self._binary(request, lambda conn, who: (
            "application/pdf", inspection_pdf(inspections.get(conn, who, vid, self.frame.clock()), self.frame.clock()),
            {"Content-Disposition": f'attachment; filename="inspection-{vid}.pdf"'}))

    async def photo(self, request: Request) -> Response:
        return await self._binary(request, lambda conn, who: (
            *inspections.photo(conn, who, request.path_params["id"]),
            {"Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"}))
