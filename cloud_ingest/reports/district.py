"""A district's report (区报告): every workshop of one district over a period, their figures, grades and
open/overdue ledger items, ranked; and the six figures a summary compares (``summary``).

The figures of a workshop are its report's (``reports.build_report``), summed up as six numbers:

- ``misuse_per_100``: misuse occurrences per 100 uses (lower is better);
- ``wash``: the stays at sinks that counted as washes (the dwell at a sink of the tool's colour) out of
  all stays at sinks;
- ``disinfection``: the disinfection cycles that passed out of all;
- ``coverage``: station uptime, online time out of the time with a known status;
- ``alarms``: alarms raised in the period (lower is better);
- ``rectified``: of those alarms' rectifications (ledger items), the share closed (销号).

A figure without a denominator is None (no rate can be given) and ranks last. The ranking: the regulator's
grade first (金榜 gold … 橙榜 orange, ungraded last), then misuse per 100 uses, overdue items, coverage.
Only admins and the inspectors of the district may read it; a district outside the caller's scope is
not found (as one that does not exist). Each workshop's report is built on its own (a district holds tens
of workshops, a report is asked for now and then).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import NotFound
from cloud_ingest.reports.ledger_view import LedgerCounts, ledger_counts
from cloud_ingest.reports.reports import Report, build_report
from cloud_ingest.reports.text import neutral
from cloud_ingest.store.schema import GRADES, districts, workshop_grades, workshops

FIGURES = ("misuse_per_100", "wash", "disinfection", "coverage", "alarms", "rectified")
LOWER_IS_BETTER = frozenset({"misuse_per_100", "alarms"})
FRACTIONS = frozenset({"wash", "disinfection", "coverage", "rectified"})  # shown as percent
FIGURE_TEXT = {
    "misuse_per_100": ("每百次使用误用", "misuse per 100 uses"),
    "wash": ("清洗合规率", "wash compliance"),
    "disinfection": ("消毒合格率", "disinfection cycles passed"),
    "coverage": ("读卡站在线率", "station uptime (coverage)"),
    "alarms": ("期间告警", "alarms raised"),
    "rectified": ("整改已销号", "rectifications closed"),
}
GRADE_TEXT = {"gold": "金榜 gold", "silver": "银榜 silver", "bronze": "铜榜 bronze", "orange": "橙榜 orange"}


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def figures_of(r: Report) -> dict[str, float | None]:
    """The six figures of one workshop's report."""
    w = r.wash_check
    items = [a for a in r.alarm_lines if a.item is not None]
    return {"misuse_per_100": r.misuse_per_100,
            "wash": _share(w.counted, w.counted + w.short + w.other_colour + w.unknown_colour),
            "disinfection": _share(sum(c.passed for c in r.cycles), sum(c.total for c in r.cycles)),
            "coverage": r.overall.fraction, "alarms": float(r.alarms_total),
            "rectified": _share(sum(a.state == "closed" for a in items), len(items))}


@dataclass(frozen=True)
class DistrictLine:
    rank: int
    workshop_id: str
    workshop_name: str
    grade: str | None
    figures: Mapping[str, float | None]
    ledger: LedgerCounts

    def json(self) -> dict:
        return {"rank": self.rank, "workshop": {"id": self.workshop_id, "name": self.workshop_name},
                "grade": self.grade, "figures": dict(self.figures),
                "ledger": {"open": self.ledger.open, "overdue": self.ledger.overdue}}


@dataclass(frozen=True)
class DistrictReport:
    district_id: str
    district_name: str
    from_date: str
    to_date: str
    tz: str
    start_ms: int
    end_ms: int
    generated_at: int
    lines: tuple[DistrictLine, ...]


def district_in_scope(conn: Connection, who: Principal, district_id: str) -> str:
    """The district's name, for admins and the district's inspectors; others are refused."""
    who.require("admin", "inspector")
    name = conn.execute(select(districts.c.name).where(districts.c.id == district_id)).scalar_one_or_none()
    if name is None or not (who.everywhere or district_id in who.districts):
        raise NotFound("区不存在", f"district {district_id} does not exist")
    return name


def district_reports(conn: Connection, district_id: str, start: int, end: int, now: int, tz: str
                     ) -> list[Report]:
    """Every workshop's report of the district (by id), read as the district's admin reads them."""
    scope = Principal("admin", districts=frozenset({district_id}))
    ids = conn.execute(select(workshops.c.id).where(workshops.c.district_id == district_id)
                       .order_by(workshops.c.id)).scalars().all()
    return [build_report(conn, scope, ws, start, end, now=now, tz=tz) for ws in ids]


def newest_grades(conn: Connection, ids: list[str]) -> dict[str, str]:
    newest = (select(func.max(workshop_grades.c.id)).where(workshop_grades.c.workshop_id.in_(ids))
              .group_by(workshop_grades.c.workshop_id))
    return {r.workshop_id: r.grade for r in conn.execute(
        select(workshop_grades.c.workshop_id, workshop_grades.c.grade).where(workshop_grades.c.id.in_(newest)))}


def _rank_key(grade: str | None, f: Mapping[str, float | None], ledger: LedgerCounts, ws: str) -> tuple:
    misuse, coverage = f["misuse_per_100"], f["coverage"]
    return (GRADES.index(grade) if grade in GRADES else len(GRADES), misuse is None, misuse or 0.0,
            ledger.overdue, coverage is None, -(coverage or 0.0), ws)


def district_report(conn: Connection, who: Principal, district_id: str, start: int, end: int, *, now: int,
                    tz: str) -> DistrictReport:
    name = district_in_scope(conn, who, district_id)
    reports = district_reports(conn, district_id, start, end, now, tz)
    ids = [r.workshop_id for r in reports]
    grades, counts = newest_grades(conn, ids), ledger_counts(conn, ids, now)
    rows = [(r, figures_of(r), counts.get(r.workshop_id, LedgerCounts())) for r in reports]
    rows.sort(key=lambda x: _rank_key(grades.get(x[0].workshop_id), x[1], x[2], x[0].workshop_id))
    lines = tuple(DistrictLine(i, r.workshop_id, r.workshop_name, grades.get(r.workshop_id), f, c)
                  for i, (r, f, c) in enumerate(rows, 1))
    from_date, to_date = (reports[0].from_date, reports[0].to_date) if reports else _days(start, end, tz)
    return DistrictReport(district_id, name, from_date, to_date, tz, start, end, now, lines)


def _days(start: int, end: int, tz: str) -> tuple[str, str]:
    """The period's first and last local day (a district without workshops has no report to take them from)."""
    z = ZoneInfo(tz)
    return (datetime.fromtimestamp(start / 1000, z).date().isoformat(),
            datetime.fromtimestamp((end - 1) / 1000, z).date().isoformat())


def district_json(d: DistrictReport) -> dict:
    return {"district": {"id": d.district_id, "name": d.district_name},
            "period": {"from": d.from_date, "to": d.to_date, "tz": d.tz, "start_ms": d.start_ms, "end_ms": d.end_ms},
            "generated_at": d.generated_at, "figures": list(FIGURES),
            "workshops": [line.json() for line in d.lines]}


def figure_text(key: str, value: float | None) -> str:
    """A figure for people: percent with two decimals for shares, the number otherwise, ``—`` for none."""
    if value is None:
        return "—"
    if key in FRACTIONS:
        return f"{100 * value:.2f}%"
    return f"{value:.0f}" if key == "alarms" else f"{value:.2f}"


HEADER = ("名次 / rank", "作坊编号 / workshop id", "作坊 / workshop", "分级 / grade",
          *(f"{zh} / {en}" for zh, en in (FIGURE_TEXT[k] for k in FIGURES)),
          "未销号问题 / open items", "逾期问题 / overdue items")


def district_rows(d: DistrictReport) -> list[tuple[str, ...]]:
    return [(str(line.rank), line.workshop_id, line.workshop_name,
             GRADE_TEXT.get(line.grade or "", "未分级 / not graded"),
             *(figure_text(k, line.figures[k]) for k in FIGURES), str(line.ledger.open), str(line.ledger.overdue))
            for line in d.lines]


def district_csv(d: DistrictReport) -> bytes:
    """UTF-8 with a BOM; every cell that a spreadsheet would take for a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([neutral(c) for c in row] for row in district_rows(d))
    return out.getvalue().encode("utf-8-sig")


def district_filename(d: DistrictReport, ext: str) -> str:
    return f"sebiao-district-{d.district_id}-{d.from_date}-{d.to_date}.{ext}"
