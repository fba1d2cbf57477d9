"""Remote rectification (整改) on the pages: the section under an alarm, the list, and the step forms.

The inspector asks on the alarm's page and accepts or returns there; the
owner sees its open requests on ``/rectifications`` and answers on the alarm's
page, with photos: the answer is its ledger item's (``ledger_pages.answer_form``
and ``answer_step``: the same checks, storage and evidence), and each
rectification shows its item's photos. Each form calls one function of ``cloud_ingest.review.rectification`` with the
session user's ``Principal``; the roles, states and scope are that module's.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest
from cloud_ingest.review import ledger, rectification, review, triage
from cloud_ingest.web import data
from cloud_ingest.web.frame import Build, Frame, read_form
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, day_start_ms, lang_of, pick, when
from cloud_ingest.web.ledger_pages import answer_form, answer_step, items_table, photo_strip, read_answer
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, error_box, note_form
from sebiao_common.clock import DAY_MS

RECT_STATE = {
    "requested": ("待作坊答复", "waiting for the workshop", "○"),
    "answered": ("待检查员审核", "waiting for the inspector", "◐"),
    "returned": ("已退回，待重新答复", "returned, waiting for a new answer", "↺"),
    "accepted": ("已通过", "accepted", "✓"),
}
RECT_ACTION = {"request": ("发起整改", "requested"), "answer": ("作坊答复", "answered"),
               "accept": ("通过", "accepted"), "return": ("退回", "returned")}
# the lane of the alarm's timeline each step belongs to: the workshop's word or the inspector's
STEP_LANE = {"request": "inspector", "answer": "workshop", "accept": "inspector", "return": "inspector"}


def rect_badge(state: str) -> Html:
    zh, en, symbol = RECT_STATE.get(state, (state, state, "?"))
    return el("span", {"class": f"badge rect-{state}", "data-rect-state": state},
              el("span", {"class": "sym", "aria-hidden": "true"}, symbol), bi(zh, en))


def timeline_steps(rects: list[dict]) -> list[tuple[int, str, Html]]:
    """The rectifications' steps as entries of the alarm's timeline."""
    out = []
    for r in rects:
        for s in r["steps"]:
            zh, en = RECT_ACTION.get(s["action"], (s["action"], s["action"]))
            out.append((s["at"], STEP_LANE.get(s["action"], "inspector"),
                        join(el("strong", None, bi(f"整改 #{r['id']}", f"Rectification #{r['id']}")), " ", bi(zh, en), " · ", s["by"],
                             el("q", {"class": "comment"}, s["text"]) if s["text"] else "")))
    return out


def with_photos(conn: Connection, rects: list[dict]) -> list[dict]:
    """The rectifications (seen in the caller's scope), each with its answers' photos: those of its ledger item."""
    return [{**r, "photos": ledger.item_photos(conn, r["item"]) if r.get("item") else []} for r in rects]


def section(a: dict, rects: list[dict], who: Principal, csrf: str, lang: str = "zh") -> Html:
    """The alarm page's rectification section: each rectification with its steps and photos (``with_photos``),
    and the forms this user may use."""
    parts: list[Html] = [el("h2", None, bi("整改", "Rectification"))]
    if not rects:
        parts.append(el("p", {"class": "empty"}, bi("尚未要求整改。", "No rectification asked for yet.")))
    for r in rects:
        parts.append(_one(r, who, csrf, a["review"]["state"], lang))
    if who.role in ("inspector", "admin") and not any(r["state"] in rectification.OPEN_STATES for r in rects):
        due = el("label", {"for": "request-due"}, bi("整改期限（可选）", "Due (optional)"),
                 el("input", {"type": "date", "id": "request-due", "name": "due"}))
        parts.append(note_form("request", f"/alarms/{a['id']}/rectification", csrf,
                               ("要求整改", "Request rectification"),
                               ("整改要求（必填）", "What to rectify (required)"),
                               required=True, extra=due))
    return el("section", {"id": "rectification"}, parts)


def _one(r: dict, who: Principal, csrf: str, review_state: str = "cleared", lang: str = "zh") -> Html:
    steps = el("ol", {"class": "steps"}, [
        el("li", {"data-step": s["action"]}, when(s["at"]), " ", bi(*RECT_ACTION.get(s["action"], (s["action"],) * 2)),
           " · ", s["by"], el("q", {"class": "comment"}, s["text"]) if s["text"] else "")
        for s in r["steps"]])
    forms: list[Html] = []
    if who.role == "owner" and r["state"] in ("requested", "returned"):  # the ledger item's form, photos too
        forms.append(answer_form(f"/rectifications/{r['id']}/answer", csrf))
    if who.role in ("inspector", "admin") and r["state"] == "answered":
        close = el("label", {"class": "check", "for": "accept-close"},
                   el("input", {"type": "checkbox", "id": "accept-close", "name": "close_review", "value": "1",
                                "checked": True}), " ", bi("同时审结本告警", "Also close this alarm's review"))
        forms.append(note_form("accept", f"/rectifications/{r['id']}/accept", csrf, ("通过", "Accept"),
                               ("审核意见（可选）", "Note (optional)"), required=False,
                               extra=close if review_state != "cleared" else Html("")))
        forms.append(note_form("return", f"/rectifications/{r['id']}/return", csrf, ("退回", "Send back"),
                               ("退回理由（必填）", "Why it goes back (required)"), required=True))
    return el("article", {"class": "card rect", "id": f"rect-{r['id']}", "data-rect": r["id"],
                          "data-state": r["state"]},
              el("p", None, el("strong", None, bi(f"整改 #{r['id']}", f"Rectification #{r['id']}")), " ",
                 rect_badge(r["state"]),
                 " ", bi("期限", "due"), " ", when(r["due"]) if r["due"] else "—",
                 join(" · ", el("a", {"href": f"/ledger/{r['item']}", "class": "ledger-link"},
                                bi(f"问题台账 #{r['item']}", f"ledger item #{r['item']}"))) if r.get("item") else ""),
              steps, photo_strip(r.get("photos") or [], lang), el("div", {"class": "forms-row"}, forms) if forms else "")


def list_page(rows: list[dict], who: Principal, state: str, error: str | None, items: list[dict] | None = None,
              names: Mapping[str, str] | None = None, lang: str = "zh") -> Html:
    """``items``: an owner's ledger items waiting for its answer (``triage.owner_items_waiting``), shown with its
    rectifications under "待您答复", where an owner lands after logging in; ``names``: the workshops' names."""
    waiting = ("requested", "returned") if who.role == "owner" else ("answered",)
    mine = [r for r in rows if r["state"] in waiting]
    title = (("待您答复的整改", "Requests waiting for your answer") if who.role == "owner"
             else ("待您审核的答复", "Answers waiting for your review"))
    form = el("form", {"class": "filters card", "method": "get", "action": "/rectifications"},
              el("label", None, bi("状态", "State"),
                 el("select", {"name": "state", "id": "f-state"}, el("option", {"value": ""}, pick(lang, "全部", "all")),
                    [el("option", {"value": k, "selected": k == state}, pick(lang, v[0], v[1]))
                     for k, v in RECT_STATE.items()])),
              el("button", {"type": "submit"}, bi("筛选", "Filter")))
    owner_items = join(el("h2", None, bi("待您答复的问题（问题台账）", "Ledger items waiting for your answer")),
                       items_table(items or [], "waiting")) if who.role == "owner" else ""
    return join(error_box(error), el("h2", None, bi(*title)), _table(mine, "waiting", names), owner_items,
                el("h2", None, bi("全部整改", "All rectifications")), form, _table(rows, "all", names))


def _table(rows: list[dict], name: str, names: Mapping[str, str] | None = None) -> Html:
    if not rows:
        return el("p", {"class": "empty", "id": f"rects-{name}"}, bi("没有", "None"))
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("整改", "Rectification"), ("作坊", "Workshop"), ("状态", "State"), ("要求", "Request"),
        ("发起", "Requested"), ("期限", "Due"), ("", ""))])
    body = [el("tr", {"data-rect": r["id"]},
               el("td", None, f"#{r['id']}"), el("td", {**cell_label("作坊", "Workshop")},
                                      (names or {}).get(r["workshop"], r["workshop"]), " ",
                                      el("span", {"class": "muted"}, r["workshop"])),
               el("td", {**cell_label("状态", "State")}, rect_badge(r["state"])),
               el("td", {**cell_label("要求", "Request")}, r["note"]),
               el("td", {**cell_label("发起", "Requested")}, when(r["requested_at"]), " · ", r["requested_by"]),
               el("td", {**cell_label("期限", "Due")}, when(r["due"]) if r["due"] else "—"),
               el("td", None, el("a", {"href": f"/alarms/{r['alarm']}#rect-{r['id']}", "class": "open"},
                                 bi("打开告警", "Open the alarm"))))
            for r in rows]
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": f"rects-{name}"},
                                              el("thead", None, head), el("tbody", None, body)))


def accept_and_close(conn: Connection, who: Principal, rect_id: int, note: str | None, now: int,
                     close_review: bool = False) -> dict:
    """Accepts the answer; with ``close_review``, closes the inspector's review of its alarm in the same
    transaction (the accept's note, or words saying the rectification was accepted, as the review's note)."""
    done = rectification.accept(conn, who, rect_id, note, now)
    if close_review and review.get_alarm(conn, who, done["alarm"])["review"]["state"] != "cleared":
        review.clear(conn, who, done["alarm"], (note or "").strip() or f"整改 #{rect_id} 已通过 / rectification "
                     f"#{rect_id} accepted", now)
    return done


def due_ms(text: str) -> int | None:
    """A due date (China Standard Time) → the end of that day, ms; blank → none."""
    return day_start_ms(text, "due") + DAY_MS - 1 if text.strip() else None


class RectificationPages:
    """The rectification routes, over ``frame``; ``alarm_shown(alarm_id, error, lang)`` builds the alarm's page
    (``routes.Pages.alarm_shown``), shown again when a step on it is refused."""

    def __init__(self, frame: Frame, alarm_shown: Callable[[int, str | None, str], Build]) -> None:
        self.frame, self.alarm_shown = frame, alarm_shown

    def routes(self) -> list[Route]:
        return [
            Route("/rectifications", self.listing, methods=["GET"]),
            Route("/alarms/{id:rowid}/rectification", self.request, methods=["POST"]),
            Route("/rectifications/{id:rowid}/answer", self.answer, methods=["POST"]),
            Route("/rectifications/{id:rowid}/accept", self.accept, methods=["POST"]),
            Route("/rectifications/{id:rowid}/return", self.send_back, methods=["POST"]),
        ]

    async def listing(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        lang = lang_of(request.cookies)

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            title = ("整改", "Rectification")
            try:
                rows = rectification.list_rectifications(conn, who, state or None)
            except BadRequest as exc:
                return Shown(title, list_page([], who, state, str(exc), lang=lang), "/rectifications", exc.status)
            items = triage.owner_items_waiting(conn, who, self.frame.clock()) if who.role == "owner" else None
            title = ("待您答复", "Waiting for your answer") if who.role == "owner" else title
            names = {w["id"]: w["name"] for w in review.list_workshops(conn, who)}
            return Shown(title, list_page(rows, who, state, None, items, names, lang), "/rectifications")
        return await self.frame.show(request, build)

    async def request(self, request: Request) -> Response:
        alarm_id, lang = request.path_params["id"], lang_of(request.cookies)

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            data.require_alarm(conn, who, alarm_id)
            rectification.request(conn, who, alarm_id, form.get("note"), due_ms(form.get("due", "")),
                                  self.frame.clock())
            return f"/alarms/{alarm_id}#rectification"
        return await self.frame.change(request, step, lambda message: self.alarm_shown(alarm_id, message, lang))

    async def answer(self, request: Request) -> Response:
        """The owner's answer from the alarm's page: the ledger item's answer (``ledger_pages.answer_step``: the
        same photo checks, storage and evidence), back to the alarm's page; an urlencoded ``note`` (the form
        before photos) is still taken as the text."""
        rect_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, Any]) -> str:
            r = rectification.get(conn, who, rect_id)  # 404 outside the scope, before the photos
            answer_step(conn, who, r["item"], {**form, "text": form["text"] if "text" in form else form.get("note")},
                        self.frame.clock())
            return f"/alarms/{r['alarm']}#rect-{rect_id}"
        return await self.frame.change(request, step, self._again(rect_id, lang_of(request.cookies)),
                                       read_answer_form)

    async def accept(self, request: Request) -> Response:
        return await self._step(request, accept_and_close)

    async def send_back(self, request: Request) -> Response:
        return await self._step(request, rectification.send_back)

    async def _step(self, request: Request, fn: Callable[..., dict]) -> Response:
        rect_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            rectification.get(conn, who, rect_id)  # 404 outside the scope, before the role is judged
            if fn is accept_and_close:
                done = accept_and_close(conn, who, rect_id, form.get("note"), self.frame.clock(),
                                        form.get("close_review") == "1")
            else:
                done = fn(conn, who, rect_id, form.get("note"), self.frame.clock())
            return f"/alarms/{done['alarm']}#rect-{rect_id}"
        return await self.frame.change(request, step, self._again(rect_id, lang_of(request.cookies)))

    def _again(self, rect_id: int, lang: str) -> Callable[[str], Build]:
        """The rectification's alarm page again, with why the step was refused."""
        def again(message: str) -> Build:
            def build(conn: Connection, who: Principal, s: Session) -> Shown:
                alarm_id = rectification.get(conn, who, rect_id)["alarm"]
                return self.alarm_shown(alarm_id, message, lang)(conn, who, s)
            return build
        return again


async def read_answer_form(request: Request) -> dict[str, Any]:
    """The answer's form: multipart with its photos (``ledger_pages.answer_form``), else urlencoded."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_answer(request)
    return await read_form(request)
