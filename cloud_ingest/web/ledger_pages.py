"""The issue ledger (挂账销号) and the improvement plans (一坊一策) on the pages.

``/ledger``: the overdue items counted per district and per workshop, the
items in scope (filter: state, overdue, workshop) and, for inspectors and
admins, the form that enters a finding. ``/ledger/{id}``: one item with its
steps and photos; the owner answers there (text and photos, a multipart
form), the inspector closes (销号) or sends back. ``/workshops/{id}/plan``:
the plan with its progress, goals and items; its forms for the district's
inspectors; its PDF. Each form calls one function of ``review.ledger`` or
``review.plans`` with the session user's ``Principal``; roles, states and
scope are theirs.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Callable

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid} and {id:slug}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, CloudError, PayloadTooLarge
from cloud_ingest.review import ledger, photos
from cloud_ingest.store import db
from cloud_ingest.store.schema import workshops
from cloud_ingest.web.frame import HEADERS, Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import SEVERITY, badge, cell_label, day_start_ms, lang_of, option_names, pick, when
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box, error_shown
from sebiao_common.clock import DAY_MS
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

STATE = {"open": ("待作坊答复", "waiting for the workshop", "○"), "answered": ("待检查员审核", "waiting for review", "◐"),
         "returned": ("已退回", "sent back", "↺"), "closed": ("已销号", "closed", "✓")}
ACTION = {"open": ("登记", "entered"), "answer": ("作坊答复", "answered"), "close": ("销号", "closed"),
          "return": ("退回", "sent back")}
EDITORS = ("inspector", "admin")


def _state(item: dict) -> Html:
    late = el("span", {"class": "badge ledger-overdue", "data-overdue": "1"}, el("span", {"class": "sym"}, "⚠"),
              bi("逾期", "overdue")) if item["overdue"] else ""
    return join(badge("ledger", item["state"], STATE), " ", late)


def _source(item: dict) -> Html:
    zh, en = ledger.SOURCE_ZH.get(item["source"], (item["source"],) * 2)
    ref = el("a", {"href": f"/alarms/{item['alarm']}"}, f"#{item['alarm']}") if item["alarm"] else item["ref"] or ""
    return join(bi(zh, en), " ", ref)


def _category(key: str | None) -> Html:
    return bi(*ledger.CATEGORY_ZH[key]) if key in ledger.CATEGORY_ZH else Html("—")


def items_table(items: list[dict], name: str) -> Html:
    if not items:
        return el("p", {"class": "empty", "id": f"items-{name}"}, bi("没有", "None"))
    cols = (("编号", "No."), ("作坊", "Workshop"), ("来源", "Source"), ("类别", "Category"), ("问题", "Finding"),
            ("期限", "Due"), ("责任人", "Responsible"), ("状态", "State"))
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in cols])
    body = [el("tr", {"data-item": i["id"], "class": f"sev-row sev-{i['severity']}"},
               el("td", None, el("a", {"href": f"/ledger/{i['id']}"}, f"#{i['id']}"), " ",
                  badge("sev", i["severity"], SEVERITY)),
               el("td", cell_label("作坊", "Workshop"), i["workshop_name"]),
               el("td", cell_label("来源", "Source"), _source(i)),
               el("td", cell_label("类别", "Category"), _category(i["category"])),
               el("td", cell_label("问题", "Finding"), i["text"]),
               el("td", cell_label("期限", "Due"), when(i["due"]) if i["due"] else "—"),
               el("td", cell_label("责任人", "Responsible"), i["responsible"] or "—"),
               el("td", cell_label("状态", "State"), _state(i)))
            for i in items]
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": f"items-{name}"},
                                              el("thead", None, head), el("tbody", None, body)))


def _overdue(o: dict) -> Html:
    if not o["total"]:
        return el("p", {"class": "empty", "id": "overdue"}, bi("没有逾期未销号的问题", "No overdue item"))
    return el("section", {"class": "card", "id": "overdue"},
              el("p", None, el("strong", None, f"{o['total']} "), bi("项逾期未销号", "overdue items")),
              el("ul", {"class": "overdue-districts"}, [
                  el("li", {"data-district": d["district"]}, d["name"], f"：{d['count']}") for d in o["districts"]]),
              el("ul", {"class": "overdue-workshops"}, [
                  el("li", {"data-workshop": w["workshop"]},
                     el("a", {"href": f"/ledger?workshop={w['workshop']}&overdue=1"}, w["name"]), f"：{w['count']} · ",
                     el("a", {"href": f"/workshops/{w['workshop']}/plan"}, bi("一坊一策", "plan")))
                  for w in o["workshops"]]))


def _options(pairs: list[tuple[str, str]], chosen: str = "") -> list[Html]:
    return [el("option", {"value": k, "selected": k == chosen}, text) for k, text in pairs]


def _field(label: tuple[str, str], control: Html) -> Html:
    return el("label", None, bi(*label), control)


def open_form(shops: list[tuple[str, str]], csrf: str, lang: str = "zh") -> Html:
    return el("form", {"class": "card note-form", "method": "post", "action": "/ledger", "id": "form-open"},
              csrf_input(csrf), el("h2", None, bi("登记问题（挂账）", "Enter a finding")),
              _field(("作坊", "Workshop"), el("select", {"name": "workshop", "id": "open-workshop", "required": True},
                                             _options(shops))),
              _field(("来源", "Source"), el("select", {"name": "source", "id": "open-source"}, _options(
                  [(k, pick(lang, zh, en)) for k, (zh, en) in ledger.SOURCE_ZH.items() if k != "alarm"],
                  "inspection"))),
              _field(("检查或报告编号", "Inspection or report reference"),
                     el("input", {"name": "ref", "id": "open-ref", "maxlength": ledger.MAX_REF})),
              _field(("问题描述（必填）", "Finding (required)"),
                     el("textarea", {"name": "text", "id": "open-text", "required": True, "maxlength": 2000,
                                     "rows": 3})),
              _field(("类别", "Category"), el("select", {"name": "category", "id": "open-category"},
                                             _options([("", pick(lang, "—", "— none"))] + [
                                                 (k, pick(lang, zh, en)) for k, (zh, en) in ledger.CATEGORY_ZH.items()]))),
              _field(("严重程度", "Severity"), el("select", {"name": "severity", "id": "open-severity"}, _options(
                  option_names(SEVERITY, lang), "major"))),
              _field(("责任人", "Responsible person"),
                     el("input", {"name": "responsible", "id": "open-responsible", "maxlength": ledger.MAX_PERSON})),
              _field(("整改期限", "Due"), el("input", {"type": "date", "name": "due", "id": "open-due"})),
              el("button", {"type": "submit", "id": "open-submit"}, bi("登记", "Enter")))


def list_page(items: list[dict], o: dict, who: Principal, csrf: str, query: dict[str, str],
              shops: list[tuple[str, str]], error: str | None, lang: str = "zh") -> Html:
    form = el("form", {"class": "filters card", "method": "get", "action": "/ledger"},
              el("label", None, bi("状态", "State"), el("select", {"name": "state", "id": "f-state"},
                                                        _options([("", pick(lang, "全部", "all"))]
                                                                 + option_names(STATE, lang), query.get("state", "")))),
              el("label", None, bi("仅逾期", "Overdue only"),
                 el("input", {"type": "checkbox", "name": "overdue", "value": "1", "id": "f-overdue",
                              "checked": query.get("overdue") == "1"})),
              el("input", {"type": "hidden", "name": "workshop", "value": query.get("workshop", "")})
              if query.get("workshop") else "",
              el("button", {"type": "submit"}, bi("筛选", "Filter")))
    return join(error_box(error), el("h2", None, bi("逾期未销号", "Overdue")), _overdue(o),
                el("h2", None, bi("问题台账", "Ledger items")), form, items_table(items, "all"),
                open_form(shops, csrf, lang) if who.role in EDITORS and shops else "")


def photo_strip(pics: list[dict], lang: str = "zh") -> Html:
    """An answer's photos (``ledger.item_photos``) as thumbnails, each served by ``/ledger/photos/{id}``."""
    if not pics:
        return Html("")
    return el("div", {"class": "photos"}, [
        el("figure", {"data-photo": p["id"]},
           el("img", {"src": f"/ledger/photos/{p['id']}", "alt": pick(lang, f"整改照片 #{p['id']}", f"photo #{p['id']}"),
                      "loading": "lazy"}),
           el("figcaption", None, when(p["at"]), " · ", p["by"])) for p in pics])


def answer_form(action: str, csrf: str) -> Html:
    """The owner's answer: its text and up to ``photos.MAX_PHOTOS`` photos, a multipart form that ``read_answer``
    reads and ``answer_step`` takes (the ledger item's page and its alarm's page post the same form)."""
    return el("form", {"class": "card note-form", "method": "post", "action": action,
                       "enctype": "multipart/form-data", "id": "form-answer"},
              csrf_input(csrf),
              _field(("整改措施（必填）", "What was done (required)"),
                     el("textarea", {"name": "text", "id": "answer-text", "required": True, "maxlength": 2000,
                                     "rows": 3})),
              _field((f"照片（至多 {photos.MAX_PHOTOS} 张，JPEG/PNG/WebP）",
                      f"Photos (up to {photos.MAX_PHOTOS}, JPEG/PNG/WebP)"),
                     el("input", {"type": "file", "name": "photo", "id": "answer-photos", "multiple": True,
                                  "accept": ",".join(photos.TYPES)})),
              el("button", {"type": "submit", "id": "answer-submit"}, bi("提交答复", "Send the answer")))


def answer_step(conn: Connection, who: Principal, item_id: int, form: dict[str, Any], now: int) -> dict:
    """The owner's answer from ``answer_form``: the item in scope (404 outside it, before the photos are looked
    at), each photo checked by its bytes, then ``ledger.answer`` stores them with the step's evidence entry."""
    ledger.get(conn, who, item_id, now)
    pics = [photos.check(data, None, f"照片 {n + 1} / photo {n + 1}") for n, data in enumerate(form.get("photo", []))]
    if len(pics) > photos.MAX_PHOTOS:
        raise BadRequest("photo", f"至多 {photos.MAX_PHOTOS} 张", f"at most {photos.MAX_PHOTOS} photos")
    return ledger.answer(conn, who, item_id, form.get("text"), pics, now)


def item_page(i: dict, who: Principal, csrf: str, error: str | None, lang: str = "zh") -> Html:
    facts = [(("作坊", "Workshop"), join(i["workshop_name"], " · ",
                                         el("a", {"href": f"/workshops/{i['workshop']}/plan"}, bi("一坊一策", "plan")))),
             (("来源", "Source"), _source(i)), (("类别", "Category"), _category(i["category"])),
             (("严重程度", "Severity"), badge("sev", i["severity"], SEVERITY)),
             (("期限", "Due"), when(i["due"]) if i["due"] else "—"), (("责任人", "Responsible"), i["responsible"] or "—"),
             (("状态", "State"), _state(i))]
    steps = el("ol", {"class": "steps"}, [
        el("li", {"data-step": s["action"]}, when(s["at"]), " ", bi(*ACTION.get(s["action"], (s["action"],) * 2)),
           " · ", s["by"], el("q", {"class": "comment"}, s["text"]) if s["text"] else "") for s in i["steps"]])
    pics = photo_strip(i["photos"], lang)
    forms: list[Html] = []
    if who.role == "owner" and i["state"] in ("open", "returned"):
        forms.append(answer_form(f"/ledger/{i['id']}/answer", csrf))
    if who.role in EDITORS and i["state"] == "answered":
        for name, button, label, required in (("close", ("销号", "Close"), ("审核意见（可选）", "Note (optional)"), False),
                                              ("return", ("退回", "Send back"), ("退回理由（必填）", "Why (required)"),
                                               True)):
            forms.append(el("form", {"class": "card note-form", "method": "post",
                                     "action": f"/ledger/{i['id']}/{name}", "id": f"form-{name}"},
                            csrf_input(csrf), _field(label, el("textarea", {"name": "note", "id": f"{name}-note",
                                                                            "required": required, "maxlength": 2000,
                                                                            "rows": 2})),
                            el("button", {"type": "submit", "id": f"{name}-submit"}, bi(*button))))
    return join(error_box(error),
                el("article", {"class": "card ledger-item", "data-item": i["id"], "data-state": i["state"]},
                   el("p", {"class": "headline"}, el("strong", None, i["text"])),
                   el("dl", {"class": "facts"}, [join(el("dt", None, bi(*k)), el("dd", None, v)) for k, v in facts])),
                el("h2", None, bi("经过", "Steps")), steps, pics, el("div", {"class": "forms-row"}, forms))


def due_ms(text: str) -> int | None:
    """A due date (China Standard Time) → the end of that day, ms; blank → none."""
    return day_start_ms(text, "due") + DAY_MS - 1 if text.strip() else None


def read_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart form (the answer's): text fields as strings, the files under ``photo`` as bytes."""
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("", "表单须为 multipart/form-data", "the form must be multipart/form-data")
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not msg.is_multipart():
        raise BadRequest("", "无法读取表单", "the multipart form cannot be read")
    out: dict[str, Any] = {"photo": []}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "photo":
            if data:  # an empty file input sends an empty part
                out["photo"].append(data)
        elif isinstance(name, str):
            out[name] = data.decode("utf-8", "replace")
    return out


async def read_answer(request: Request) -> dict[str, Any]:
    try:
        raw = await read_body(request, photos.MAX_PHOTOS * photos.MAX_PHOTO + 64 * 1024)
    except BodyTooLarge as exc:
        raise PayloadTooLarge("照片过大", f"the form is over {exc.limit} bytes") from exc
    return read_multipart(raw, request.headers.get("content-type", ""))


def shops_in_scope(conn: Connection, who: Principal) -> list[tuple[str, str]]:
    return [(r.id, f"{r.name}（{r.id}）") for r in conn.execute(
        select(workshops.c.id, workshops.c.name).where(workshop_clause(who)).order_by(workshops.c.id))]


class LedgerPages:
    """The ledger's routes, over ``frame``."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [
            Route("/ledger", self.listing, methods=["GET"]),
            Route("/ledger", self.open, methods=["POST"]),
            Route("/ledger/{id:rowid}", self.item, methods=["GET"]),
            Route("/ledger/{id:rowid}/answer", self.answer, methods=["POST"]),
            Route("/ledger/{id:rowid}/close", self.close, methods=["POST"]),
            Route("/ledger/{id:rowid}/return", self.send_back, methods=["POST"]),
            Route("/ledger/photos/{id:rowid}", self.photo, methods=["GET"]),
        ]

    def listing_shown(self, query: dict[str, str], lang: str, error: str | None = None) -> Callable:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            now, title = self.frame.clock(), ("问题台账 · 挂账销号", "Issue ledger")
            o, shops = ledger.overdue(conn, who, now), shops_in_scope(conn, who)
            try:
                f = ledger.ItemFilter.from_query(query)
            except BadRequest as exc:
                return Shown(title, list_page([], o, who, s.csrf, query, shops, str(exc), lang), "/ledger", exc.status)
            return Shown(title, list_page(ledger.list_items(conn, who, f, now), o, who, s.csrf, query, shops, error,
                                         lang),
                         "/ledger", 200)
        return build

    async def listing(self, request: Request) -> Response:
        query = {k: v for k, v in request.query_params.items() if v != ""}
        return await self.frame.show(request, self.listing_shown(query, lang_of(request.cookies)))

    async def open(self, request: Request) -> Response:
        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            now = self.frame.clock()
            body: dict[str, Any] = {k: form[k] for k in ("workshop", "source", "ref", "text", "responsible")
                                    if form.get(k, "").strip()}
            body.update({k: form[k] for k in ("category", "severity") if form.get(k)})
            due = due_ms(form.get("due", ""))
            if due is not None:
                body["due"] = due
            body.setdefault("text", "")
            done = ledger.open_item(conn, who, ledger.NewItem.from_body(body, now), now)
            return f"/ledger/{done['id']}"
        lang = lang_of(request.cookies)
        return await self.frame.change(request, step, lambda message: self.listing_shown({}, lang, message))

    def item_shown(self, item_id: int, lang: str, error: str | None = None) -> Callable:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            i = ledger.get(conn, who, item_id, self.frame.clock())
            return Shown((f"问题 #{item_id}", f"Ledger item #{item_id}"), item_page(i, who, s.csrf, error, lang),
                         "/ledger")
        return build

    async def item(self, request: Request) -> Response:
        return await self.frame.show(request, self.item_shown(request.path_params["id"], lang_of(request.cookies)))

    async def answer(self, request: Request) -> Response:
        item_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, Any]) -> str:
            answer_step(conn, who, item_id, form, self.frame.clock())
            return f"/ledger/{item_id}"
        lang = lang_of(request.cookies)
        return await self.frame.change(request, step, lambda message: self.item_shown(item_id, lang, message),
                                       read_answer)

    async def close(self, request: Request) -> Response:
        return await self._step(request, ledger.close)

    async def send_back(self, request: Request) -> Response:
        return await self._step(request, ledger.send_back)

    async def _step(self, request: Request, fn: Callable[..., dict]) -> Response:
        item_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            ledger.get(conn, who, item_id, self.frame.clock())  # 404 outside the scope, before the role is judged
            fn(conn, who, item_id, form.get("note"), self.frame.clock())
            return f"/ledger/{item_id}"
        lang = lang_of(request.cookies)
        return await self.frame.change(request, step, lambda message: self.item_shown(item_id, lang, message))

    async def photo(self, request: Request) -> Response:
        """The photo for the session's user only (404 outside its scope), as the image its bytes showed."""
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)

        def work() -> tuple[str, bytes] | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                return None if who is None else ledger.photo(conn, who, request.path_params["id"])
        try:
            found = await run_in_threadpool(work)
        except CloudError as exc:
            return self.frame.respond(request, error_shown(exc), None, session)
        if found is None:
            return self.frame.to_login(request)
        return Response(found[1], media_type=found[0], headers={
            **HEADERS, "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"})
