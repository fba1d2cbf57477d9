"""A workshop's summary (概要): the report's six figures (``district.FIGURES``) for the period, the same
figures for the period just before it (as long, ending where it starts), the trend between them in words
and arrows (colour is never the only signal), and the district's quartiles of each figure for the period.

The trend of a figure: ``up``, ``down`` or ``same`` (equal to 4 decimals), None when either value is
missing; ``better`` says whether the change is an improvement (fewer misuses and alarms, higher shares).
The district's figures are the quartiles (inclusive method) over its workshops that have the figure,
this one included. An owner sees them only when at least ``MIN_PEERS`` workshops have the figure: with
fewer, a quartile would tell another workshop's own figure.
"""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import Connection

from cloud_ingest.access.auth import Principal
from cloud_ingest.reports.district import (
    FIGURE_TEXT,
    FIGURES,
    LOWER_IS_BETTER,
    district_reports,
    figure_text,
    figures_of,
)
from cloud_ingest.reports.reports import build_report

MIN_PEERS = 5
TREND_WORDS = {"up": ("↑", "上升", "up"), "down": ("↓", "下降", "down"), "same": ("→", "持平", "unchanged")}


def trend(now: float | None, before: float | None, lower_is_better: bool) -> tuple[str | None, bool | None]:
    """(``up``/``down``/``same``, better?) of a figure from ``before`` to ``now``; (None, None) without both."""
    if now is None or before is None:
        return None, None
    if round(now, 4) == round(before, 4):
        return "same", None
    direction = "up" if now > before else "down"
    return direction, (direction == "down") == lower_is_better


def trend_text(direction: str | None, better: bool | None) -> str:
    """``↑ 上升，变好 / up, better``; ``— 无可比 / no comparison`` without one of the values."""
    arrow, zh, en = trend_parts(direction, better)
    return f"{arrow} {zh} / {en}"


def trend_parts(direction: str | None, better: bool | None) -> tuple[str, str, str]:
    """``trend_text`` as its arrow, its Chinese and its English (a page shows the reader's language)."""
    if direction is None:
        return "—", "无可比", "no comparison"
    arrow, zh, en = TREND_WORDS[direction]
    if better is None:
        return arrow, zh, en
    return arrow, f"{zh}，{'变好' if better else '变差'}", f"{en}, {'better' if better else 'worse'}"


def quartiles(key: str, values: list[float]) -> dict[str, Any] | None:
    """n, q1, median, q3 of ``values`` and each as people read it (``district.figure_text``)."""
    if not values:
        return None
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"n": len(values), "q1": q1, "median": median, "q3": q3, "q1_text": figure_text(key, q1),
            "median_text": figure_text(key, median), "q3_text": figure_text(key, q3)}


def workshop_summary(conn: Connection, who: Principal, workshop_id: str, start: int, end: int, *, now: int,
                     tz: str) -> dict:
    """The summary as JSON; a workshop outside the caller's scope is not found (``build_report``)."""
    r = build_report(conn, who, workshop_id, start, end, now=now, tz=tz)
    before = build_report(conn, who, workshop_id, start - (end - start), start, now=now, tz=tz)
    mine, previous = figures_of(r), figures_of(before)
    peers = [figures_of(p) for p in district_reports(conn, r.district_id, start, end, now, tz)]
    figures = []
    for key in FIGURES:
        direction, better = trend(mine[key], previous[key], key in LOWER_IS_BETTER)
        values = [p[key] for p in peers if p[key] is not None]
        shown = who.role != "owner" or len(values) >= MIN_PEERS
        figures.append({"figure": key, "zh": FIGURE_TEXT[key][0], "en": FIGURE_TEXT[key][1],
                        "value": mine[key], "previous": previous[key], "trend": direction, "better": better,
                        "trend_text": trend_text(direction, better), "text": figure_text(key, mine[key]),
                        "previous_text": figure_text(key, previous[key]),
                        "district": quartiles(key, values) if shown else None})
    return {"workshop": {"id": r.workshop_id, "name": r.workshop_name},
            "district": {"id": r.district_id, "name": r.district_name, "workshops": len(peers)},
            "period": {"from": r.from_date, "to": r.to_date, "tz": tz, "start_ms": start, "end_ms": end},
            "previous": {"from": before.from_date, "to": before.to_date, "start_ms": before.start_ms,
                         "end_ms": before.end_ms},
            "generated_at": now, "figures": figures}
