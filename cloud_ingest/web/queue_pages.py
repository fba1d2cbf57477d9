"""The alarm queue as an inspector's triage: what needs this inspector first, names instead of ids,
pages, bulk actions, a CSV export, and the reader's language switch.

``/alarms`` without a filter shows an inspector (or admin) what needs them
(``triage.TriageFilter.needs_me``: critical and major, not reviewed yet), most
severe first and oldest first within a severity; ``view=all`` or any filter
(the old ones, and ``workshop``, ``q``, ``page``) shows every alarm in the
scope that matches. Owners always see all of their workshop's alarms.
``/alarms.csv`` is the same selection as a file (every page, at most
``MAX_CSV`` rows), each cell that a spreadsheet would read as a formula
neutralised. ``/alarms/bulk`` acknowledges or comments on the alarms ticked
(CSRF and origin checked by ``frame.Frame.change``; every alarm checked
against the user's scope, and one outside it refuses the whole batch with
404, changing nothing). ``/lang`` sets the reader's language
(``labels.LANG_COOKIE``) and goes back to the page it came from.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime
from typing import Mapping
from urllib.parse import parse_qs, urlencode

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, CloudError, PayloadTooLarge
from cloud_ingest.review import review, triage
from cloud_ingest.review.triage import TriageFilter
from cloud_ingest.store import db
from cloud_ingest.store.schema import alarms
from cloud_ingest.web import data
from cloud_ingest.web.frame import HEADERS, MAX_FORM, Build, Frame, fixed, secure
from cloud_ingest.web.freshness_views import freshness_badge
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import (
    ALARM_TYPE,
    CST,
    LANG_COOKIE,
    LANGS,
    REVIEW,
    SEVERITY,
    WORKSHOP_STATE,
    badge,
    cell_label,
    day_start_ms,
    day_text,
    lang_of,
    name_of,
    option_names,
    pick,
    when,
    words,
)
from cloud_ingest.web.rectification_pages import rect_badge
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, error_box, error_page, error_shown
from sebiao_common.clock import DAY_MS
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

FILTER_KEYS = ("severity", "type", "state", "review", "district", "workshop", "q", "from", "to")
MAX_CSV = 10_000
MAX_BULK = 200
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (CSV injection)
LANG_MAX_AGE = 400 * 86_400  # a browser keeps a cookie at most 400 days


def needs_triage(query: Mapping[str, str], who: Principal) -> bool:
    """The default view of an inspector or admin: no filter given and not ``view=all``."""
    return (who.role in ("inspector", "admin") and query.get("view") != "all"
            and not any(query.get(k) for k in FILTER_KEYS))


def queue_filter(query: Mapping[str, str], triage_view: bool) -> TriageFilter:
    """The queue's query (dates in China Standard Time, ``to`` inclusive) → ``TriageFilter``."""
    per_page, page = _whole(query, "limit", 100), _whole(query, "page", 1)
    if triage_view:
        return TriageFilter.needs_me(page, per_page)
    since = day_start_ms(query["from"], "from") if query.get("from") else None
    until = day_start_ms(query["to"], "to") + DAY_MS if query.get("to") else None
    return TriageFilter(severities=(query["severity"],) if query.get("severity") else (),
                        type=query.get("type") or None, state=query.get("state") or None,
                        review=query.get("review") or None, district=query.get("district") or None,
                        workshop=query.get("workshop") or None, search=(query.get("q") or "").strip() or None,
                        since=since, until=until, page=page, per_page=per_page)


def _whole(query: Mapping[str, str], key: str, default: int) -> int:
    value = query.get(key) or str(default)
    if not value.isdigit() or len(value) > 9:
        raise BadRequest(key, "必须是整数", "must be a whole number")
    return int(value)


def neutral(cell: object) -> str:
    """A CSV cell a spreadsheet shows as text: one that starts like a formula gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text


# -- the page ------------------------------------------------------------------------------------


def queue_page(query: Mapping[str, str], found: triage.Page | None, triage_view: bool, who: Principal,
               workshops: list[dict], districts: Mapping[str, str], csrf: str, lang: str, now: int,
               error: str | None, fresh: Mapping[str, dict] | None = None) -> Html:
    """``fresh``: each workshop's 最后上报 / 数据中断 (``reports.freshness``), shown beside its name."""
    rows = [{**a, "freshness": (fresh or {}).get(a["workshop"])} for a in (found.rows if found else [])]
    total = found.total if found else 0
    mine = who.role in ("inspector", "admin")
    tabs = el("p", {"class": "tabs", "id": "views"},
              el("a", {"href": "/alarms", "id": "view-triage", "aria-current": "page" if triage_view else None},
                 bi("待我处理", "Needs me")),
              el("a", {"href": "/alarms?view=all", "id": "view-all",
                       "aria-current": None if triage_view else "page"}, bi("全部告警", "All alarms"))) if mine else ""
    what = (bi("需要您处理：严重和重要、尚未审核的告警，按严重程度、等待时间排序（最久的在前）",
               "Needs you: critical and major alarms nobody has reviewed, most severe first, longest waiting first")
            if triage_view else bi("按严重程度、等待时间排序（最久的在前）",
                                   "Most severe first, then longest waiting first"))
    summary = el("p", {"class": "note", "id": "count", "data-total": total},
                 f"{total} ", bi("条告警", "alarms"), " · ", what)
    table = (el("div", {"class": "scroll"}, _table(rows, mine, lang, now)) if rows else
             el("p", {"class": "empty"}, bi("没有符合条件的告警", "No alarm matches")))
    body = join(_bulk_bar(csrf, _back(query)) if mine and rows else "", table)
    listing = el("form", {"id": "bulk", "method": "post", "action": "/alarms/bulk"}, body) if mine and rows else body
    csv_link = el("a", {"href": "/alarms.csv" + _query(query, {}), "id": "download-csv", "download": True},
                  bi("导出 CSV", "Export CSV"))
    return join(tabs, _filter_box(query, workshops, districts, lang, triage_view), error_box(error), summary,
                listing, _pager(query, found, lang) if found else "", el("p", {"class": "downloads"}, csv_link))


def _back(query: Mapping[str, str]) -> str:
    return "/alarms" + _query(query, {})


def _query(query: Mapping[str, str], change: Mapping[str, str]) -> str:
    merged = {k: v for k, v in {**query, **change}.items() if v}
    return "?" + urlencode(merged) if merged else ""


def _select(name: str, label: tuple[str, str], options: list[tuple[str, str]], chosen: str, lang: str) -> Html:
    return el("label", None, bi(*label),
              el("select", {"name": name, "id": f"f-{name}"},
                 el("option", {"value": ""}, pick(lang, "全部", "all")),
                 [el("option", {"value": key, "selected": key == chosen}, text) for key, text in options]))


def _filter_box(q: Mapping[str, str], workshops: list[dict], districts: Mapping[str, str], lang: str,
                triage_view: bool) -> Html:
    """The filters behind one tap (``<details>``, no script); open when a filter is set."""
    active = [k for k in FILTER_KEYS if q.get(k)]
    form = el("form", {"class": "filters card", "method": "get", "action": "/alarms", "id": "filters"},
              el("input", {"type": "hidden", "name": "view", "value": "all"}),
              el("label", {"class": "search"}, bi("搜索", "Search"),
                 el("input", {"type": "search", "name": "q", "id": "f-q", "value": q.get("q", ""), "maxlength": 100,
                              "placeholder": pick(lang, "告警、器具、读卡站或作坊", "alarm, tool, station or workshop")})),
              _select("workshop", ("作坊", "Workshop"), [(w["id"], w["name"]) for w in workshops],
                      q.get("workshop", ""), lang),
              _select("severity", ("严重程度", "Severity"), option_names(SEVERITY, lang), q.get("severity", ""), lang),
              _select("type", ("类型", "Type"), option_names(ALARM_TYPE, lang), q.get("type", ""), lang),
              _select("state", ("作坊状态", "Workshop state"), option_names(WORKSHOP_STATE, lang), q.get("state", ""),
                      lang),
              _select("review", ("审核", "Review"), option_names(REVIEW, lang), q.get("review", ""), lang),
              _select("district", ("辖区", "District"), sorted(districts.items()), q.get("district", ""), lang),
              el("label", None, bi("从", "From"), el("input", {"type": "date", "name": "from", "id": "f-from",
                                                               "value": q.get("from", "")})),
              el("label", None, bi("到（含）", "To (incl.)"), el("input", {"type": "date", "name": "to", "id": "f-to",
                                                                        "value": q.get("to", "")})),
              el("label", None, bi("每页", "Per page"),
                 el("select", {"name": "limit", "id": "f-limit"},
                    [el("option", {"value": n, "selected": n == q.get("limit", "100")}, n)
                     for n in ("20", "50", "100", "200", "500")])),
              el("button", {"type": "submit"}, bi("筛选", "Filter")),
              el("a", {"href": "/alarms"}, bi("清除筛选", "Reset")))
    label = bi("筛选与搜索", "Filter and search")
    shown = el("span", {"class": "muted", "id": "filters-on"}, f" ({len(active)})") if active else ""
    return el("details", {"class": "filter-box", "id": "filter-box", "open": bool(active) and not triage_view},
              el("summary", {"id": "filter-toggle"}, label, shown), form)


def _bulk_bar(csrf: str, back: str) -> Html:
    return el("div", {"class": "bulk-bar card", "id": "bulk-bar"},
              el("input", {"type": "hidden", "name": "csrf", "value": csrf}),
              el("input", {"type": "hidden", "name": "back", "value": back}),
              el("label", {"for": "bulk-note"}, bi("对勾选的告警：批量确认（意见可选）或批量意见（必填）",
                    "For the ticked alarms: acknowledge (note optional) or comment (text required)")),
              el("textarea", {"id": "bulk-note", "name": "note", "maxlength": 2000, "rows": 2}),
              el("button", {"type": "submit", "name": "action", "value": "ack", "id": "bulk-ack"},
                 bi("批量确认", "Acknowledge")),
              el("button", {"type": "submit", "name": "action", "value": "comment", "id": "bulk-comment"},
                 bi("批量意见", "Comment")))


def _waited(now: int, ts: int) -> Html:
    hours = max(0, now - ts) // 3_600_000
    zh, en = (f"{hours // 24} 天", f"{hours // 24} d") if hours >= 24 else (f"{hours} 小时", f"{hours} h")
    return el("span", {"class": "waited", "data-waited-h": hours}, bi(f"已等待 {zh}", f"waiting {en}"))


def rect_state(r: dict | None) -> Html:
    if r is None:
        return el("span", {"class": "muted", "data-rect-state": "none"}, bi("未要求整改", "none asked"))
    link = el("a", {"href": f"/ledger/{r['item']}", "class": "ledger-link"},
              bi(f"台账 #{r['item']}", f"ledger #{r['item']}")) if r.get("item") else ""
    return join(rect_badge(r["state"]), " ", link)


def _table(rows: list[dict], mine: bool, lang: str, now: int) -> Html:
    heads = (("", ""), ("编号", "No."), ("严重程度", "Severity"), ("告警", "Alarm"), ("作坊", "Workshop"),
             ("器具 / 读卡站", "Tool / station"), ("时间", "Time"), ("状态", "State"), ("整改 / 台账", "Rectification"),
             ("", ""))
    head = el("tr", None, [el("th", None, bi(zh, en) if zh else "") for zh, en in (heads if mine else heads[1:])])
    body = [el("tr", {"data-alarm": a["id"], "class": f"sev-row sev-{a['severity']}", "data-severity": a["severity"],
                      "data-ts": a["ts"]},
               el("td", {"class": "pick"}, el("input", {"type": "checkbox", "name": "alarm", "value": a["id"],
                                                        "id": f"pick-{a['id']}",
                                                        "aria-label": pick(lang, f"选择告警 {a['number']}",
                                                                           f"select alarm {a['number']}")}))
               if mine else "",
               el("td", {**cell_label("编号", "No."), "class": "number"}, a["number"]),
               el("td", None, badge("sev", a["severity"], SEVERITY)),
               el("td", {**cell_label("告警", "Alarm"), "class": "alarm-text"},
                  bi(a["text"]["zh"], a["text"]["en"]), el("br", None),
                  el("span", {"class": "muted type"}, words(a["type"], ALARM_TYPE))),
               el("td", {**cell_label("作坊", "Workshop"), "class": "workshop-name",
                         "data-workshop": a["workshop"]}, a["workshop_name"], " ", freshness_badge(a["freshness"])),
               el("td", {**cell_label("器具 / 读卡站", "Tool / station")},
                  el("span", {"class": "tool-name"}, name_of(a["tool_name"], a["tool"])), " @ ",
                  el("span", {"class": "station-name"}, name_of(a["station_name"], a["station"]))),
               el("td", {**cell_label("时间", "Time")}, when(a["ts"]), el("br", None), _waited(now, a["ts"])),
               el("td", {**cell_label("状态", "State")}, badge("state", a["state"], WORKSHOP_STATE), " ",
                  badge("review", a["review"]["state"], REVIEW)),
               el("td", {**cell_label("整改 / 台账", "Rectification"), "class": "rect-cell"},
                  rect_state(a["rectification"])),
               el("td", None, el("a", {"href": f"/alarms/{a['id']}", "class": "open"}, bi("详情", "Open"))))
            for a in rows]
    return el("table", {"class": "grid queue"}, el("thead", None, head), el("tbody", None, body))


def _pager(query: Mapping[str, str], found: triage.Page, lang: str = "zh") -> Html:
    if found.pages <= 1:
        return Html("")
    prev = el("a", {"href": "/alarms" + _query(query, {"page": str(found.page - 1)}), "rel": "prev",
                    "id": "page-prev"}, bi("上一页", "Previous")) if found.page > 1 else ""
    nxt = el("a", {"href": "/alarms" + _query(query, {"page": str(found.page + 1)}), "rel": "next",
                   "id": "page-next"}, bi("下一页", "Next")) if found.page < found.pages else ""
    return el("nav", {"class": "pager", "id": "pages", "data-page": found.page, "data-pages": found.pages,
                      "aria-label": pick(lang, "分页", "pages")},
              prev, " ", bi(f"第 {found.page} / {found.pages} 页", f"page {found.page} of {found.pages}"), " ", nxt)


# -- the routes ------------------------------------------------------------------------------------


class QueuePages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/alarms", self.listing, methods=["GET"]),
                Route("/alarms.csv", self.export, methods=["GET"]),
                Route("/alarms/bulk", self.bulk, methods=["POST"]),
                Route("/lang", self.language, methods=["GET"])]

    async def listing(self, request: Request) -> Response:
        query = dict(request.query_params)
        lang = lang_of(request.cookies)

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            names = data.district_names(conn, who)
            shops = review.list_workshops(conn, who)
            triage_view = needs_triage(query, who)
            title = ("待我处理的告警", "Alarms that need me") if triage_view else ("告警队列", "Alarm queue")
            try:
                found = triage.queue(conn, who, queue_filter(query, triage_view))
            except BadRequest as exc:
                return Shown(title, queue_page(query, None, triage_view, who, shops, names, s.csrf, lang,
                                               self.frame.clock(), str(exc)), "/alarms", exc.status)
            return Shown(title, queue_page(query, found, triage_view, who, shops, names, s.csrf, lang,
                                           self.frame.clock(), None, self.frame.freshness(conn, who)), "/alarms")
        return await self.frame.show(request, build)

    async def export(self, request: Request) -> Response:
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)
        query = dict(request.query_params)

        def work() -> bytes | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                if who is None:
                    return None
                f = queue_filter({**query, "limit": "1000"}, needs_triage(query, who))
                rows: list[dict] = []
                while len(rows) < MAX_CSV:
                    found = triage.queue(conn, who, f)
                    rows.extend(found.rows)
                    if found.page >= found.pages:
                        break
                    f = replace(f, page=f.page + 1)
                return alarms_csv(rows[:MAX_CSV])
        try:
            body = await run_in_threadpool(work)
        except CloudError as exc:
            shown = error_shown(exc)
            return await self.frame.show(request, lambda conn, who, s: shown)
        if body is None:
            return self.frame.to_login(request)
        name = f"sebiao-alarms-{day_text(self.frame.clock())}.csv"
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})

    async def bulk(self, request: Request) -> Response:
        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            ids = [int(x) for x in form.get("alarm", "").split(",") if x.isdigit()]
            action, note = form.get("action"), (form.get("note") or "").strip() or None
            if action not in ("ack", "comment"):
                raise BadRequest("action", "必须是 ack 或 comment", "must be ack or comment")
            if not ids:
                raise BadRequest("alarm", "请至少选择一条告警", "tick at least one alarm")
            if len(ids) > MAX_BULK:
                raise BadRequest("alarm", f"一次至多 {MAX_BULK} 条", f"at most {MAX_BULK} alarms at once")
            now = self.frame.clock()
            for alarm_id in ids:  # each in the user's scope, or the whole batch is refused (404, nothing kept)
                data.require_alarm(conn, who, alarm_id)
            for alarm_id in ids:
                if action == "comment":
                    triage.comment(conn, who, alarm_id, note, now)
                elif conn.execute(select(alarms.c.review).where(alarms.c.id == alarm_id)).scalar_one() == "open":
                    review.acknowledge(conn, who, alarm_id, note, now)  # one already reviewed is left as it is
            back = form.get("back", "")
            return back if back.startswith("/alarms") and not back.startswith("/alarms/") else "/alarms"

        def again(message: str) -> Build:  # refused as a whole: the reason, and the way back to the queue
            return fixed(Shown(("无法完成", "Refused"), error_page(message), "/alarms"))
        return await self.frame.change(request, step, again, read_multi)

    async def language(self, request: Request) -> Response:
        """Sets the reader's language and goes back (``next``: a path of this site only)."""
        lang = request.query_params.get("to", "")
        target = request.query_params.get("next", "/")
        if not (target.startswith("/") and not target.startswith("//") and "\\" not in target):
            target = "/"
        response = RedirectResponse(target, status_code=303, headers=HEADERS)
        if lang in LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=LANG_MAX_AGE, path="/", httponly=True, samesite="lax",
                                secure=secure(request))
        return response


async def read_multi(request: Request) -> dict[str, str]:
    """An urlencoded form whose ``alarm`` field repeats (one per ticked alarm): those values joined by commas;
    every other field its first value."""
    try:
        raw = await read_body(request, MAX_FORM)
    except BodyTooLarge as exc:
        raise PayloadTooLarge("表单过大", f"the form is over {MAX_FORM} bytes") from exc
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: ",".join(v) if k == "alarm" else v[0] for k, v in fields.items()}


def alarms_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a BOM (spreadsheets then read the Chinese right); every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["编号 / number", "云端编号 / cloud id", "严重程度 / severity", "类型 / type", "告警 / alarm",
                     "alarm (en)", "作坊 / workshop", "作坊名称 / workshop name", "辖区 / district", "器具 / tool",
                     "器具名称 / tool name", "读卡站 / station", "读卡站名称 / station name", "时间 / time (CST)",
                     "作坊状态 / workshop state", "审核 / review", "整改 / rectification", "台账 / ledger item"])
    for a in rows:
        rect = a["rectification"] or {}
        writer.writerow([neutral(c) for c in (
            a["number"], a["id"], a["severity"], a["type"], a["text"]["zh"], a["text"]["en"], a["workshop"],
            a["workshop_name"], a["district"], a["tool"], (a["tool_name"] or {}).get("zh"), a["station"],
            (a["station_name"] or {}).get("zh"), when_text(a["ts"]), a["state"], a["review"]["state"],
            rect.get("state"), rect.get("item"))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def when_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).strftime("%Y-%m-%d %H:%M:%S")
