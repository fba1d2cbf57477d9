"""辖区总览 / District overview (``/overview``): per district, its workshops with grade, deadline progress,
open and overdue ledger items, alarm rates and freshness (``review.overview``), sortable by a header link
(``?sort=grade``, ``?sort=-overdue``: no script), each row a card on a phone. Chinese first.
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest
from cloud_ingest.review import overview
from cloud_ingest.store.schema import GRADES
from cloud_ingest.web.frame import Frame
from cloud_ingest.web.freshness_views import freshness_badge
from cloud_ingest.web.grade_pages import grade_badge
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import badge, cell_label, when
from cloud_ingest.web.session import Session
from cloud_ingest.web.setup_pages import PROGRESS
from cloud_ingest.web.views import Shown, error_box
from sebiao_common.grade_statement import GRADE_WORDS

COLUMNS = (("name", "作坊", "Workshop"), ("last_data", "最后上报", "Last data"), ("grade", "等级", "Grade"),
           ("progress", "色标进度", "Deadline progress"), ("open", "未销号问题", "Open items"),
           ("overdue", "逾期问题", "Overdue items"), ("alarms_7d", "7 天告警", "Alarms, 7 days"),
           ("alarms_30d", "30 天告警", "Alarms, 30 days"), ("last_visit", "最近现场检查", "Last visit"))


def _sort_link(key: str, zh: str, en: str, sort: str, desc: bool) -> Html:
    """A link that sorts by ``key``; on the current key it turns the order round (▲ ascending, ▼ descending)."""
    current = key == sort
    target = f"-{key}" if current and not desc else key
    mark = ("▼" if desc else "▲") if current else ""
    return el("a", {"href": f"/overview?sort={target}", "class": "sort", "data-sort": key,
                    "aria-current": "true" if current else None},
              bi(zh, en), el("span", {"aria-hidden": "true"}, f" {mark}") if mark else "")


def _head(sort: str, desc: bool) -> Html:
    return el("tr", None, [el("th", {"aria-sort": ("descending" if desc else "ascending") if key == sort else None},
                              _sort_link(key, zh, en, sort, desc)) for key, zh, en in COLUMNS])


def sort_bar(sort: str, desc: bool) -> Html:
    """The same links above the tables: a phone shows each row as a card, without the table's header."""
    return el("nav", {"class": "sort-bar", "aria-labelledby": "sort-by"},  # named by its shown words only
              el("span", {"id": "sort-by"}, bi("排序", "Sort by")), "：",
              join(*[join(" · " if i else "", _sort_link(key, zh, en, sort, desc))
                     for i, (key, zh, en) in enumerate(COLUMNS)]))


def _progress(p: dict | None) -> Html:
    if not p:
        return badge("progress", "unknown", PROGRESS)
    return join(f"{p['marked']}/{p['tools']} ", bi("已标识", "marked"), " ", badge("progress", p["state"], PROGRESS))


def _alarms(a: dict) -> Html:
    return el("span", {"data-raised": a["raised"], "data-per-day": a["per_day"]},
              f"{a['raised']} 次 · {a['per_day']:.2f} 次/天 ", el("span", {"class": "en"}, f"({a['per_day']:.2f}/day)"))


def _count(n: int, bad: bool) -> Html:
    return el("span", {"class": f"state {'bad' if bad and n else 'ok'}", "data-count": n},
              el("span", {"aria-hidden": "true"}, "⚠ " if bad and n else ""), str(n))


def _row(r: dict) -> Html:
    return el("tr", {"data-workshop": r["id"], "data-fresh": r["freshness"]["state"]},
              el("td", cell_label("作坊", "Workshop"),
                 el("a", {"href": f"/workshops/{r['id']}"}, r["name"]), " ", el("span", {"class": "muted"}, r["id"])),
              el("td", {**cell_label("最后上报", "Last data"), "class": "last-data"}, freshness_badge(r["freshness"])),
              el("td", {**cell_label("等级", "Grade"), "class": "grade"},
                 grade_badge(r["grade"]["grade"]) if r["grade"] else el("span", {"class": "muted"},
                                                                        bi("未定级", "not graded"))),
              el("td", {**cell_label("色标进度", "Deadline progress"), "class": "progress"}, _progress(r["progress"])),
              el("td", {**cell_label("未销号问题", "Open items"), "class": "open"},
                 el("a", {"href": f"/ledger?workshop={r['id']}"}, _count(r["ledger"]["open"], False))),
              el("td", {**cell_label("逾期问题", "Overdue items"), "class": "overdue"},
                 _count(r["ledger"]["overdue"], True)),
              el("td", {**cell_label("7 天告警", "Alarms, 7 days"), "class": "alarms-7d"}, _alarms(r["alarms"]["7d"])),
              el("td", {**cell_label("30 天告警", "Alarms, 30 days"), "class": "alarms-30d"},
                 _alarms(r["alarms"]["30d"])),
              el("td", {**cell_label("最近现场检查", "Last visit"), "class": "last-visit",
                        "data-last-visit": r.get("last_visit") or ""},
                 el("a", {"href": f"/workshops/{r['id']}/inspections"}, r["last_visit"]) if r.get("last_visit")
                 else el("span", {"class": "muted"}, bi("未检查", "none"))))


def _spot(c: dict) -> Html:
    """The district's spot-checked workshops: visited, not yet, overdue (⚠ and its word, not colour alone)."""
    warn = "⚠ " if c["overdue"] else ""
    return el("span", {"data-spot-overdue": c["overdue"]},
              bi(f"已检查 {c['visited']} · 待检查 {c['not_yet']} · {warn}逾期 {c['overdue']}",
                 f"visited {c['visited']} · not yet {c['not_yet']} · {warn}overdue {c['overdue']}"))


def _totals(d: dict) -> Html:
    t = d["totals"]
    grades = "，".join(f"{GRADE_WORDS[g][0]} {t['grades'][g]}" for g in GRADES if t["grades"][g])
    rate = "；".join(f"{days} 天 {t['alarms'][f'{days}d']['per_workshop_per_day'] or 0:.2f}"
                    for days in overview.WINDOWS)
    facts = ((("作坊", "Workshops"), str(t["workshops"])),
             (("等级", "Grades"), f"{grades or '—'}（未定级 {t['ungraded']}）"),
             (("按期完成色标", "Deadline met"), f"{t['deadline_done']}/{t['workshops']}"),
             (("未销号 / 逾期问题", "Open / overdue items"), f"{t['ledger_open']} / {t['ledger_overdue']}"),
             (("每坊每天告警", "Alarms per workshop per day"), rate),
             (("数据中断", "Data interrupted"), f"{t['silent']}（从未上报 {t['never']}）"),
             *((((("抽查", "Spot checks"), _spot(t["spot_checks"])),) if t.get("spot_checks") else ())))
    return el("dl", {"class": "facts card totals", "data-district-totals": d["id"], "data-silent": t["silent"],
                     "data-overdue": t["ledger_overdue"]},
              [join(el("dt", None, bi(*k)), el("dd", None, v)) for k, v in facts])


def overview_page(doc: dict, sort: str, desc: bool, error: str | None = None) -> Html:
    if not doc["districts"]:
        return el("p", {"class": "empty"}, bi("没有可查看的作坊", "No workshop in your scope"))
    note = el("p", {"class": "note"}, bi("截至", "As of"), " ", when(doc["generated_at"]), " · ",
              bi(f"超过 {doc['silent_after_minutes']} 分钟未收到数据即为数据中断",
                 f"data interrupted after {doc['silent_after_minutes']} min without data"), " · ",
              bi("点击排序链接或表头排序", "sort by a link or a column's header"))
    return join(error_box(error), note, sort_bar(sort, desc), [
        el("section", {"class": "district", "data-district": d["id"]},
           el("h2", None, d["name"], " ", el("span", {"class": "muted"}, f"({d['id']})")), _totals(d),
           el("div", {"class": "scroll"}, el("table", {"class": "grid overview", "id": f"overview-{d['id']}"},
                                             el("thead", None, _head(sort, desc)),
                                             el("tbody", None, [_row(r) for r in overview.sort_rows(
                                                 d["workshops"], sort, desc)]))))
        for d in doc["districts"]])


class OverviewPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/overview", self.page, methods=["GET"])]

    async def page(self, request: Request) -> Response:
        raw = request.query_params.get("sort") or "name"

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            doc = overview.overview(conn, who, self.frame.clock(), self.frame.silent_ms)
            try:
                sort, desc = overview.sort_key(raw)
            except BadRequest as exc:
                return Shown(("辖区总览", "District overview"), overview_page(doc, "name", False, str(exc)),
                             "/overview", exc.status)
            return Shown(("辖区总览", "District overview"), overview_page(doc, sort, desc), "/overview")
        return await self.frame.show(request, build)
