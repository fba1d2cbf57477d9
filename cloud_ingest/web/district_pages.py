"""The workshop summary (概要) above a report, and the district report (区报告) on the pages: a form
(district, from, to), the ranked table of its workshops and the CSV and PDF downloads, served through
the page session by the same functions as ``GET /api/v1/districts/{id}/report``. Only admins and the
district's inspectors reach the district report; an owner is refused as by the API."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, CloudError
from cloud_ingest.reports.district import (
    FIGURE_TEXT,
    FIGURES,
    DistrictReport,
    district_csv,
    district_filename,
    district_report,
    district_rows,
)
from cloud_ingest.reports.district_pdf import district_pdf
from cloud_ingest.reports.query import FORMATS, report_query
from cloud_ingest.reports.summary import trend_parts
from cloud_ingest.store import db
from cloud_ingest.store.schema import districts
from cloud_ingest.web.frame import Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, day_text
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, error_box, error_shown
from sebiao_common.clock import DAY_MS
from sebiao_common.grade_statement import GRADE_WORDS

DOWNLOADS = ("csv", "pdf")


def _grade(grade: str | None) -> Html:
    """The district table's grade in the reader's language (its CSV and PDF keep ``GRADE_TEXT``'s both)."""
    return bi(*GRADE_WORDS[grade]) if grade in GRADE_WORDS else bi("未分级", "not graded")


def _trend(figure: dict) -> Html:
    arrow, zh, en = trend_parts(figure["trend"], figure["better"])
    return join(arrow, " ", bi(zh, en))


def summary_view(s: dict) -> Html:
    """The summary's figures: this period, the one before, the trend in words, the district's quartiles."""
    head = el("tr", None, el("th", None, bi("指标", "Figure")),
              el("th", None, bi(f"本期 {s['period']['from']} — {s['period']['to']}", "This period")),
              el("th", None, bi(f"上期 {s['previous']['from']} — {s['previous']['to']}", "Previous period")),
              el("th", None, bi("趋势", "Trend")),
              el("th", None, bi(f"全区（{s['district']['name']}）中位数与四分位", "District median and quartiles")))
    rows = []
    for f in s["figures"]:
        d = f["district"]
        district = "—" if d is None else f"{d['median_text']}（{d['q1_text']} – {d['q3_text']}，n = {d['n']}）"
        rows.append(el("tr", {"data-figure": f["figure"], "data-trend": f["trend"] or "none",
                              "data-better": "" if f["better"] is None else str(f["better"]).lower()},
                       el("td", None, el("strong", None, bi(f["zh"], f["en"]))),
                       el("td", {"class": "num", **cell_label("本期", "This period")}, f["text"]),
                       el("td", {"class": "num", **cell_label("上期", "Previous")}, f["previous_text"]),
                       el("td", {"class": "trend", **cell_label("趋势", "Trend")}, _trend(f)),
                       el("td", cell_label("全区中位数（四分位）", "District median (quartiles)"), district)))
    return el("section", {"class": "card", "id": "summary"},
              el("h2", None, bi("概要", "Summary")),
              el("div", {"class": "scroll"}, el("table", {"class": "grid"}, el("thead", None, head),
                                                 el("tbody", None, rows))))


def district_form(choices: list[tuple[str, str]], chosen: dict[str, str]) -> Html:
    return el("form", {"class": "filters card", "method": "get", "action": "/reports/district", "id": "district-form"},
              el("label", None, bi("区", "District"),
                 el("select", {"name": "district", "id": "d-district", "required": True},
                    [el("option", {"value": i, "selected": i == chosen.get("district")}, f"{n} ({i})")
                     for i, n in choices])),
              el("label", None, bi("从", "From"), el("input", {"type": "date", "name": "from", "id": "d-from",
                                                               "required": True, "value": chosen.get("from", "")})),
              el("label", None, bi("到（含）", "To (incl.)"),
                 el("input", {"type": "date", "name": "to", "id": "d-to", "required": True,
                              "value": chosen.get("to", "")})),
              el("button", {"type": "submit"}, bi("生成区报告", "Show the district report")))


def district_view(d: DistrictReport, chosen: dict[str, str]) -> Html:
    links = [el("a", {"href": "/reports/district/download?" + urlencode({**chosen, "format": fmt}),
                      "class": "download", "id": f"download-district-{fmt}", "download": True},
                bi(f"下载 {fmt.upper()}", f"Download {fmt.upper()}")) for fmt in DOWNLOADS]
    head = el("tr", None, el("th", None, bi("名次", "Rank")), el("th", None, bi("作坊", "Workshop")),
              el("th", None, bi("分级", "Grade")),
              [el("th", None, bi(*FIGURE_TEXT[k])) for k in FIGURES],
              el("th", None, bi("未销号", "Open items")), el("th", None, bi("逾期", "Overdue")))
    labels = [FIGURE_TEXT[k] for k in FIGURES] + [("未销号", "Open items"), ("逾期", "Overdue")]
    rows = [el("tr", {"data-workshop": row[1]}, el("td", {"class": "num", **cell_label("名次", "Rank")}, row[0]),
               el("td", None, el("strong", None, f"{row[2]} ({row[1]})")),
               el("td", cell_label("分级", "Grade"), _grade(line.grade)),
               [el("td", {"class": "num", **cell_label(*label)}, c) for label, c in zip(labels, row[4:])])
            for row, line in zip(district_rows(d), d.lines)]
    return join(el("p", {"class": "downloads"}, links[0], " · ", links[1]),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "district-report"},
                                                   el("thead", None, head), el("tbody", None, rows))),
                el("p", {"class": "note"}, bi("排名：先按分级，再按每百次使用误用、逾期问题、读卡站在线率。",
                                             "Ranked by grade, then misuse per 100 uses, overdue items, uptime.")))


def _choices(conn: Connection, who: Principal) -> list[tuple[str, str]]:
    q = select(districts.c.id, districts.c.name).order_by(districts.c.id)
    if not who.everywhere:
        q = q.where(districts.c.id.in_(sorted(who.districts)))
    return [(r.id, r.name) for r in conn.execute(q)]


class DistrictPages:
    """The district report's routes, over ``frame``."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/reports/district", self.form, methods=["GET"]),
                Route("/reports/district/download", self.download, methods=["GET"])]

    def _chosen(self, request: Request) -> dict[str, str]:
        q, today = request.query_params, self.frame.clock()
        return {"district": q.get("district", ""), "from": q.get("from") or day_text(today - 29 * DAY_MS),
                "to": q.get("to") or day_text(today)}

    async def form(self, request: Request) -> Response:
        chosen = self._chosen(request)

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            who.require("admin", "inspector")
            body, status = [district_form(_choices(conn, who), chosen)], 200
            if "district" in request.query_params:
                try:
                    start, end, tz, _ = report_query({"from": chosen["from"], "to": chosen["to"]})
                    body.append(district_view(district_report(conn, who, chosen["district"], start, end,
                                                              now=self.frame.clock(), tz=tz), chosen))
                except BadRequest as exc:
                    body, status = [*body, error_box(str(exc))], exc.status
            return Shown(("区报告", "District report"), join(body), "/reports", status)
        return await self.frame.show(request, build)

    async def download(self, request: Request) -> Response:
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)
        query = {k: v for k, v in request.query_params.items() if k != "district"}

        def work() -> tuple[DistrictReport, str] | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                if who is None:
                    return None
                start, end, tz, fmt = report_query(query)
                if fmt not in DOWNLOADS:
                    raise BadRequest("format", "必须是 csv 或 pdf", "must be csv or pdf")
                return district_report(conn, who.require("admin", "inspector"),
                                       request.query_params.get("district", ""), start, end,
                                       now=self.frame.clock(), tz=tz), fmt
        try:
            done = await run_in_threadpool(work)
        except CloudError as exc:
            shown = error_shown(exc)
            return await self.frame.show(request, lambda conn, who, s: shown)
        if done is None:
            return self.frame.to_login(request)
        d, fmt = done
        body = await run_in_threadpool(district_csv if fmt == "csv" else district_pdf, d)
        return Response(body, media_type=FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{district_filename(d, fmt)}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})
