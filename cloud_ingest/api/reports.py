"""HTTP routes of the reports and the district figures.

``GET /api/v1/workshops/{id}/report?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|pdf&tz=Asia/Shanghai``:
the dates are days in the workshop's local time (``tz``, default
Asia/Shanghai), ``to`` included, at most 366 days. ``GET /api/v1/districts``:
the districts in scope with their workshops' figures added up.
``GET /api/v1/workshops/{id}/summary?from=…&to=…&tz=…``: the report's six figures with the previous period's,
the trend and the district's quartiles (``reports.summary``). ``GET /api/v1/districts/{id}/report?from=…&to=…
&format=json|csv|pdf&tz=…``: every workshop of the district ranked (``reports.district``), for admins and the
district's inspectors only.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cloud_ingest.api.base import ApiBase
from cloud_ingest.errors import BadRequest, CloudError
from cloud_ingest.reports import compliance
from cloud_ingest.reports.district import district_csv, district_filename, district_json, district_report
from cloud_ingest.reports.district_pdf import district_pdf
from cloud_ingest.reports.pdf import report_pdf
from cloud_ingest.reports.query import FORMATS, report_query
from cloud_ingest.reports.reports import build_report, filename, report_csv, report_json
from cloud_ingest.reports.summary import workshop_summary
from cloud_ingest.store import db


def routes(api: ApiBase) -> list[Route]:
    async def report(request: Request) -> Response:
        def work() -> Response:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                start, end, tz, fmt = report_query(request.query_params)
                r = build_report(conn, who, request.path_params["id"], start, end, now=api.clock(), tz=tz)
                summary = workshop_summary(conn, who, r.workshop_id, start, end, now=api.clock(), tz=tz) \
                    if fmt == "pdf" else None
            if fmt == "json":
                return JSONResponse(report_json(r))
            body = report_csv(r) if fmt == "csv" else report_pdf(r, summary=summary)
            return Response(body, media_type=FORMATS[fmt],
                            headers={"Content-Disposition": f'attachment; filename="{filename(r, fmt)}"'})
        try:
            return await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    async def districts(request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(api.engine) as conn:
                return compliance.list_districts(conn, api.who(request, conn), api.clock())
        return await api.call(work)

    async def summary(request: Request) -> JSONResponse:
        def work() -> dict:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector", "owner")
                start, end, tz, fmt = report_query(request.query_params)
                if fmt != "json":
                    raise BadRequest("format", "概要只有 json", "a summary is json only")
                return workshop_summary(conn, who, request.path_params["id"], start, end, now=api.clock(), tz=tz)
        return await api.call(work)

    async def district(request: Request) -> Response:
        def work() -> Response:
            with db.read(api.engine) as conn:
                who = api.who(request, conn).require("admin", "inspector")
                start, end, tz, fmt = report_query(request.query_params)
                d = district_report(conn, who, request.path_params["id"], start, end, now=api.clock(), tz=tz)
            if fmt == "json":
                return JSONResponse(district_json(d))
            body = district_csv(d) if fmt == "csv" else district_pdf(d)
            return Response(body, media_type=FORMATS[fmt], headers={
                "Content-Disposition": f'attachment; filename="{district_filename(d, fmt)}"',
                "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
        try:
            return await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    return [Route("/api/v1/workshops/{id}/report", report, methods=["GET"]),
            Route("/api/v1/workshops/{id}/summary", summary, methods=["GET"]),
            Route("/api/v1/districts/{id}/report", district, methods=["GET"]),
            Route("/api/v1/districts", districts, methods=["GET"])]
