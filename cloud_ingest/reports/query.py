"""A report's request: ``from``, ``to`` (days in the workshop's local time, ``to`` included),
``format`` (json, csv or pdf) and ``tz`` (default Asia/Shanghai), as the JSON API's
``GET /api/v1/workshops/{id}/report`` and the report pages take them.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

from cloud_ingest.errors import BadRequest
from cloud_ingest.reports.reports import DEFAULT_TZ, local_period

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
