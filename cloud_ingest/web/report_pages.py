"""Reports (报告) on the pages: a form (workshop, from, to), the report's figures as a table in the reader's
language, and the CSV and PDF downloads (both languages, as the report is filed) served through the page
session by the same functions as the JSON API's ``GET /api/v1/workshops/{id}/report``."""

from __future__ import annotations

from functools import partial
from typing import Callable
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, CloudError
from cloud_ingest.reports.pdf import report_pdf
from cloud_ingest.reports.query import FORMATS, report_query
from cloud_ingest.reports.reports import (
    CSV_HEADER,
    Report,
    build_report,
    filename,
    report_csv,
    report_rows,
)
from cloud_ingest.reports.summary import workshop_summary
from cloud_ingest.reports.text import CYCLES_TEXT, Words
from cloud_ingest.review import review
from cloud_ingest.store import db
from cloud_ingest.web.district_pages import summary_view
from cloud_ingest.web.frame import Frame
from cloud_ingest.web.html import Html, bi, el, esc, join
from cloud_ingest.web.labels import day_text
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, error_box, error_shown
from sebiao_common.clock import DAY_MS

DOWNLOADS = ("csv", "pdf")


def report_form(workshops: list[dict], chosen: dict[str, str]) -> Html:
    return el("form", {"class": "filters card", "method": "get", "action": "/reports", "id": "report-form"},
              el("label", None, bi("作坊", "Workshop"),
                 el("select", {"name": "workshop", "id": "r-workshop", "required": True},
                    [el("option", {"value": w["id"], "selected": w["id"] == chosen.get("workshop")},
                        f"{w['name']} ({w['id']})") for w in workshops])),
              el("label", None, bi("从", "From"), el("input", {"type": "date", "name": "from", "id": "r-from",
                                                               "required": True, "value": chosen.get("from", "")})),
              el("label", None, bi("到（含）", "To (incl.)"),
                 el("input", {"type": "date", "name": "to", "id": "r-to", "required": True,
                              "value": chosen.get("to", "")})),
              el("button", {"type": "submit"}, bi("生成报告", "Show the report")))


def report_view(r: Report, chosen: dict[str, str]) -> Html:
    links = [el("a", {"href": "/reports/download?" + urlencode({**chosen, "format": fmt}), "class": "download",
                      "id": f"download-{fmt}", "download": True}, bi(f"下载 {fmt.upper()}", f"Download {fmt.upper()}"))
             for fmt in DOWNLOADS]
    head = el("tr", None, [el("th", None, shown(h)) for h in CSV_HEADER])
    rows = [el("tr", None, [el("td", None, shown(cell)) for cell in row]) for row in report_rows(r)]
    return join(el("p", {"class": "downloads"}, links[0], " · ", links[1]),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "report"}, el("thead", None, head),
                                                   el("tbody", None, rows))),
                el("p", {"class": "note", "id": "report-counts"}, shown(CYCLES_TEXT)))


def shown(cell: str) -> Html:
    """A cell of the report in the reader's language: its ``Words`` as ``bi`` (the CSV and the PDF print both);
    names and numbers as they are."""
    return bi(cell.zh, cell.en) if isinstance(cell, Words) else esc(cell)


class ReportPages:
    """The report routes, over ``frame``."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/reports", self.form, methods=["GET"]),
                Route("/reports/download", self.download, methods=["GET"])]

    def _chosen(self, request: Request) -> dict[str, str]:
        q = request.query_params
        today = self.frame.clock()
        return {"workshop": q.get("workshop", ""), "from": q.get("from") or day_text(today - 29 * DAY_MS),
                "to": q.get("to") or day_text(today)}

    async def form(self, request: Request) -> Response:
        chosen = self._chosen(request)
        asked = "workshop" in request.query_params

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            title = ("报告", "Reports")
            workshops = review.list_workshops(conn, who)
            body = [report_form(workshops, chosen)]
            if who.role in ("admin", "inspector"):
                body.append(el("p", None, el("a", {"href": "/reports/district", "id": "to-district"},
                                             bi("区报告：全区作坊排名", "District report: every workshop ranked"))))
            status = 200
            if asked:
                try:
                    start, end, tz, _ = report_query({"from": chosen["from"], "to": chosen["to"]})
                    body.append(summary_view(workshop_summary(conn, who, chosen["workshop"], start, end,
                                                              now=self.frame.clock(), tz=tz)))
                    body.append(report_view(build_report(conn, who, chosen["workshop"], start, end,
                                                         now=self.frame.clock(), tz=tz), chosen))
                except BadRequest as exc:
                    body.append(error_box(str(exc)))
                    status = exc.status
            return Shown(title, join(body), "/reports", status)
        return await self.frame.show(request, build)

    async def download(self, request: Request) -> Response:
        """The file itself; refused downloads answer the error page (404 outside the user's scope)."""
        session = self.frame.sessions.read(request)
        if session is None:
            return self.frame.to_login(request)
        query = {k: v for k, v in request.query_params.items() if k != "workshop"}
        workshop = request.query_params.get("workshop", "")

        def work() -> tuple[Principal, Report, str, dict | None] | None:
            with db.read(self.frame.engine) as conn:
                who = self.frame.sessions.principal(conn, session)
                if who is None:
                    return None
                start, end, tz, fmt = report_query(query)
                if fmt not in DOWNLOADS:
                    raise BadRequest("format", "必须是 csv 或 pdf", "must be csv or pdf")
                r = build_report(conn, who, workshop, start, end, now=self.frame.clock(), tz=tz)
                summary = workshop_summary(conn, who, workshop, start, end, now=self.frame.clock(), tz=tz) \
                    if fmt == "pdf" else None
                return who, r, fmt, summary
        try:
            done = await run_in_threadpool(work)
        except CloudError as exc:
            shown = error_shown(exc)
            return await self.frame.show(request, lambda conn, who, s: shown)
        if done is None:
            return self.frame.to_login(request)
        _, report, fmt, summary = done
        render: Callable[[Report], bytes] = report_csv if fmt == "csv" else partial(report_pdf, summary=summary)
        body = await run_in_threadpool(render, report)
        return Response(body, media_type=FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{filename(report, fmt)}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})
