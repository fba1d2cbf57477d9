"""HTTP routes of the reports and the district figures.

``GET /api/v1/workshops/{id}/report?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|pdf&tz=Asia/Shanghai``:
the dates are days in the workshop's local time (``tz``, default
Asia/Shanghai), ``to`` included, at most 366 days. ``GET /api/v1/districts``:
the districts in scope with their workshops' figures added up.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cloud_ingest.errors import BadRequest, CloudError
from cloud_ingest.reports import compliance
from cloud_ingest.reports.pdf import report_pdf
from cloud_ingest.reports.reports import (
    DEFAULT_TZ,
    build_report,
    filename,
    local_period,
    report_csv,
    report_json,
)
from cloud_ingest.store import db

if TYPE_CHECKING:
    from cloud_ingest.http_api import Api

FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}
KNOWN = ("from", "to", "format", "tz")


def _date(query: Mapping[str, str], key: str) -> date:
    value = query.get(key)
    if not value:
        raise BadRequest(key, "缺少日期（YYYY-MM-DD）", "a date is required (YYYY-MM-DD)")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(key, "日期格式应为 YYYY-MM-DD", f"{value!r} is not a date YYYY-MM-DD") from exc


def report_query(query: Mapping[str, str]) -> tuple[int, int, str, str]:
    """(start_ms, end_ms, tz, format) from the query, or BadRequest naming the parameter."""
    for key in query:
        if key not in KNOWN:
            raise BadRequest(key, "未知参数", f"unknown parameter (known: {', '.join(KNOWN)})")
    fmt = query.get("format", "json")
    if fmt not in FORMATS:
        raise BadRequest("format", "必须是 json、csv 或 pdf", "must be json, csv or pdf")
    tz = query.get("tz", DEFAULT_TZ)
    start, end = local_period(_date(query, "from"), _date(query, "to"), tz)
    return start, end, tz, fmt


def routes(api: "Api") -> list[Route]:
    async def report(request: Request) -> Response:
        def work() -> Response:
            with db.read(api.engine) as conn:
                who = api._who(request, conn).require("admin", "inspector", "owner")
                start, end, tz, fmt = report_query(request.query_params)
                r = build_report(conn, who, request.path_params["id"], start, end, now=api.clock(), tz=tz)
            if fmt == "json":
                return JSONResponse(report_json(r))
            body = report_csv(r) if fmt == "csv" else report_pdf(r)
            return Response(body, media_type=FORMATS[fmt],
                            headers={"Content-Disposition": f'attachment; filename="{filename(r, fmt)}"'})
        try:
            return await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    async def districts(request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(api.engine) as conn:
                return compliance.list_districts(conn, api._who(request, conn), api.clock())
        return await api._call(work)

    return [Route("/api/v1/workshops/{id}/report", report, methods=["GET"]),
            Route("/api/v1/districts", districts, methods=["GET"])]
