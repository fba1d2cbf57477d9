"""A workshop's report for a period (分级定榜的依据): uses, washes, misuse, times to acknowledge, uptime,
disinfection cycles.

``build_report`` reads the rows (scoped: a workshop outside the caller's scope
is not found) and hands them to the pure functions of ``figures``;
``report_json`` and ``report_csv`` render the result (the PDF is
``pdf.report_pdf``). The figures' definitions are in ``figures`` and in
``docs/cloud-ingest.md``. Stations' kinds and zones come from the ``stations``
table; those guessed from the id (the gateway did not say) are listed in a
note of the report.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, and_, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, NotFound
from cloud_ingest.reports import disinfection
from cloud_ingest.reports.disinfection import METHOD_WORDS, WASH_DWELL_MS, CycleLine, Washes, method_text
from cloud_ingest.reports.figures import (
    MISUSE_TYPES,
    OCCURRENCES,
    EventCount,
    Spread,
    StationInfo,
    StatusRow,
    Uptime,
    ZoneCounts,
    count_uses,
    per_100,
    spread,
    uptime,
)
from cloud_ingest.reports.ledger_view import AlarmLine, alarm_lines
from cloud_ingest.reports.setup_rules import STATE_WORDS, Progress
from cloud_ingest.reports.setups import WorkshopSetup, counted_silenced, progress_json, workshop_setup
from cloud_ingest.reports.text import (
    CYCLES_TEXT,
    INFERRED_NOTE,
    NO_CYCLES,
    TOOL_COLOUR_NOTE,
    alarm_type_text,
    joined,
    neutral,
    percent,
    seconds,
    station_text,
    wash_rule_text,
    zone_text,
)
from cloud_ingest.reports.text import Words as W
from cloud_ingest.store import station_statuses
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    districts,
    events,
    inspector_notes,
    stations,
    workshops,
)
from sebiao_common.domain import COLORS

DEFAULT_TZ = "Asia/Shanghai"  # the workshops' local time unless the request names another
MAX_DAYS = 366


@dataclass(frozen=True)
class MisuseLine:
    type: str
    count: int  # occurrences (raised + repeated) in the period
    per_100_uses: float | None

    def __post_init__(self) -> None:
        if self.type not in MISUSE_TYPES or self.count < 0:
            raise ValueError(f"not a misuse line: {self.type} {self.count}")


@dataclass(frozen=True)
class AckFigures:
    """Alarms raised in the period, and how long until the workshop and an inspector acknowledged them."""

    raised: int
    workshop: Spread  # the gateway's ``acknowledged`` transition
    inspector: Spread  # the inspector's first review step (ack or clear)

    def __post_init__(self) -> None:
        if not (self.workshop.count <= self.raised and self.inspector.count <= self.raised):
            raise ValueError("more acknowledgements than alarms")


@dataclass(frozen=True)
class Report:
    workshop_id: str
    workshop_name: str
    district_id: str
    district_name: str
    start_ms: int  # inclusive
    end_ms: int  # exclusive
    tz: str
    generated_at: int
    zones: tuple[ZoneCounts, ...]
    misuse: tuple[MisuseLine, ...]
    acks: AckFigures
    stations: tuple[Uptime, ...]
    overall: Uptime
    station_info: tuple[StationInfo, ...]  # every station the figures speak of, by id
    wash_check: Washes = Washes()  # the stays at sinks, counted and not (``zones`` holds the counted washes)
    cycles: tuple[CycleLine, ...] = ()  # the disinfection cycles, per station and method
    wash_dwell_ms: int = WASH_DWELL_MS
    silenced: int = 0  # alarms silenced by an exception not accepted (备案), counted in ``misuse``
    setup_version: int | None = None  # the newest setup the cloud holds
    pending_versions: tuple[int, ...] = ()  # setup versions whose relaxations wait for an acceptance
    progress: Progress | None = None  # the seed deadline's, from the newest setup
    alarm_lines: tuple[AlarmLine, ...] = ()  # the alarms raised, with their rectification's ledger item
    alarms_total: int = 0  # alarms raised in the period (``alarm_lines`` lists at most ledger_view.MAX_LINES)

    def __post_init__(self) -> None:
        if self.end_ms <= self.start_ms:
            raise ValueError("a report needs start < end")
        ZoneInfo(self.tz)
        if ({u.station for u in self.stations} | {c.station for c in self.cycles}) - {i.id for i in self.station_info}:
            raise ValueError("a station without its kind and zone")

    def info(self, station: str) -> StationInfo:
        return next(i for i in self.station_info if i.id == station)

    @property
    def inferred(self) -> tuple[str, ...]:
        """The stations whose kind or zone was guessed from the id (the gateway did not say)."""
        return tuple(i.id for i in self.station_info if i.inferred)

    @property
    def uses(self) -> int:
        return sum(z.uses for z in self.zones)

    @property
    def washes(self) -> int:
        return sum(z.washes for z in self.zones)

    @property
    def misuse_total(self) -> int:
        return sum(m.count for m in self.misuse)

    @property
    def misuse_per_100(self) -> float | None:
        return per_100(self.misuse_total, self.uses)

    @property
    def from_date(self) -> str:
        return _local(self.start_ms, self.tz).date().isoformat()

    @property
    def to_date(self) -> str:  # inclusive: the day of the period's last millisecond
        return _local(self.end_ms - 1, self.tz).date().isoformat()


def _local(ms: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest("tz", "未知时区", f"unknown time zone {tz!r} (e.g. Asia/Shanghai)") from exc


def local_period(first: date, last: date, tz: str) -> tuple[int, int]:
    """[start, end) in ms: from local midnight of ``first`` to local midnight after ``last`` (inclusive)."""
    if last < first:
        raise BadRequest("to", "不能早于开始日期", "must not be before 'from'")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest("to", f"期间最长 {MAX_DAYS} 天", f"the period is at most {MAX_DAYS} days")
    z = zone(tz)
    start = datetime.combine(first, time(), z)
    end = datetime.combine(last + timedelta(days=1), time(), z)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def build_report(conn: Connection, who: Principal, workshop_id: str, start_ms: int, end_ms: int, *,
                 now: int | None = None, tz: str = DEFAULT_TZ) -> Report:
    """The report; uptime counts only time up to ``now`` (a period may reach into the future)."""
    ws = conn.execute(select(workshops.c.id, workshops.c.name, districts.c.id.label("district_id"),
                             districts.c.name.label("district_name"))
                      .join(districts, districts.c.id == workshops.c.district_id)
                      .where(workshops.c.id == workshop_id, workshop_clause(who))).first()
    if ws is None:
        raise NotFound("作坊不存在", f"workshop {workshop_id} does not exist")
    counts = _event_counts(conn, workshop_id, start_ms, end_ms)
    known_until = end_ms if now is None else max(start_ms, min(end_ms, now))
    stations, overall = uptime(_status_rows(conn, workshop_id, start_ms, known_until), start_ms, known_until)
    lines = disinfection.cycle_lines(conn, workshop_id, start_ms, end_ms)
    info = _station_info(conn, workshop_id, {c.station for c in counts} | {u.station for u in stations}
                         | {c.station for c in lines})
    setup = workshop_setup(conn, who, workshop_id, end_ms if now is None else now)
    colours, dwell_ms = _wash_terms(setup)
    zones, washed = _washes(conn, workshop_id, start_ms, end_ms, count_uses(counts, info), colours, dwell_ms)
    uses = sum(z.uses for z in zones)
    found = _misuse_counts(conn, workshop_id, start_ms, end_ms)
    silenced = counted_silenced(conn, workshop_id, start_ms, end_ms)  # they count until accepted
    found = {t: found.get(t, 0) + silenced.get(t, 0) for t in MISUSE_TYPES}
    misuse = tuple(MisuseLine(t, found.get(t, 0), per_100(found.get(t, 0), uses)) for t in MISUSE_TYPES)
    listed, raised = alarm_lines(conn, workshop_id, start_ms, end_ms, end_ms if now is None else now)
    return Report(ws.id, ws.name, ws.district_id, ws.district_name, start_ms, end_ms, tz,
                  end_ms if now is None else now, zones, misuse, _acks(conn, workshop_id, start_ms, end_ms),
                  stations, overall, tuple(info[s] for s in sorted(info)), washed, lines, dwell_ms,
                  silenced=sum(silenced.get(t, 0) for t in MISUSE_TYPES),
                  setup_version=setup.current.version if setup.current else None,
                  pending_versions=tuple(v.version for v in setup.pending), progress=setup.progress,
                  alarm_lines=listed, alarms_total=raised)


def _wash_terms(setup: WorkshopSetup) -> tuple[dict[str, str], int]:
    """Each tool's colour and the wash dwell, as the workshop's newest setup gives them (the gateway sends it:
    ``setups``); before any setup arrived, the tools' id letters and the gateway's default dwell."""
    if setup.current is None:
        return {}, WASH_DWELL_MS
    held = setup.current.setup
    colours = {t["id"]: t["color"] for t in held.get("tools", ()) if isinstance(t, dict) and "id" in t}
    dwell = held.get("rules", {}).get("wash_min_seconds")
    return colours, WASH_DWELL_MS if not isinstance(dwell, int) else dwell * 1000


def _washes(conn: Connection, ws: str, start: int, end: int, zones: tuple[ZoneCounts, ...],
            colours: dict[str, str], dwell_ms: int) -> tuple[tuple[ZoneCounts, ...], Washes]:
    """The zones with their washes as ``disinfection.count_washes`` counts them (a stay of the dwell at a sink
    of the tool's colour), not every placing at a sink; zones with neither uses nor washes are left out."""
    rows = disinfection.tool_events(conn, ws, start, end)
    info = _station_info(conn, ws, {r.station for r in rows})
    washed = disinfection.count_washes(rows, {s: i for s, i in info.items() if i.sink and not i.disinfect},
                                       start, end, dwell_ms, colours)
    uses = {z.zone: z.uses for z in zones}
    keep = [z for z in (*COLORS, None) if uses.get(z) or washed.by_zone.get(z)]
    return tuple(ZoneCounts(z, uses.get(z, 0), washed.by_zone.get(z, 0)) for z in keep), washed


def _station_info(conn: Connection, ws: str, ids: set[str]) -> dict[str, StationInfo]:
    """Kind and zone of these stations: the gateway's (``stations``), else guessed from the id."""
    told = {r.station: (r.kind, r.zone) for r in conn.execute(
        select(stations.c.station, stations.c.kind, stations.c.zone).where(stations.c.workshop_id == ws))}
    return {s: StationInfo.of(s, *told.get(s, (None, None))) for s in ids}


def _event_counts(conn: Connection, ws: str, start: int, end: int) -> list[EventCount]:
    rows = conn.execute(select(events.c.station, events.c.action, func.count().label("n"))
                        .where(events.c.workshop_id == ws, events.c.ts >= start, events.c.ts < end,
                               events.c.tool.is_not(None))
                        .group_by(events.c.station, events.c.action))
    return [EventCount(r.station, r.action, r.n) for r in rows]


def _misuse_counts(conn: Connection, ws: str, start: int, end: int) -> dict[str, int]:
    rows = conn.execute(select(alarms.c.type, func.count().label("n"))
                        .select_from(alarm_transitions.join(alarms, and_(
                            alarms.c.workshop_id == alarm_transitions.c.workshop_id,
                            alarms.c.gateway_id == alarm_transitions.c.gateway_alarm_id)))
                        .where(alarm_transitions.c.workshop_id == ws, alarm_transitions.c.action.in_(OCCURRENCES),
                               alarm_transitions.c.at >= start, alarm_transitions.c.at < end,
                               alarms.c.type.in_(MISUSE_TYPES))
                        .group_by(alarms.c.type))
    return {r.type: r.n for r in rows}


def _acks(conn: Connection, ws: str, start: int, end: int) -> AckFigures:
    raised = (select(alarms.c.id, alarms.c.gateway_id, alarms.c.raised_at)
              .where(alarms.c.workshop_id == ws, alarms.c.raised_at >= start, alarms.c.raised_at < end).subquery())
    n = conn.execute(select(func.count()).select_from(raised)).scalar_one()
    workshop_acks = conn.execute(
        select(raised.c.raised_at, func.min(alarm_transitions.c.at).label("at"))
        .join(alarm_transitions, and_(alarm_transitions.c.workshop_id == ws,
                                      alarm_transitions.c.gateway_alarm_id == raised.c.gateway_id,
                                      alarm_transitions.c.action == "acknowledged"))
        .group_by(raised.c.id, raised.c.raised_at))
    inspector_acks = conn.execute(
        select(raised.c.raised_at, func.min(inspector_notes.c.at).label("at"))
        .join(inspector_notes, and_(inspector_notes.c.alarm_id == raised.c.id,
                                    inspector_notes.c.action.in_(("ack", "clear"))))
        .group_by(raised.c.id, raised.c.raised_at))
    # gateway and cloud clocks may differ by a little: a review "before" the raise counts as immediate
    return AckFigures(n, spread(max(0, r.at - r.raised_at) for r in workshop_acks),
                      spread(max(0, r.at - r.raised_at) for r in inspector_acks))


def _status_rows(conn: Connection, ws: str, start: int, end: int) -> list[StatusRow]:
    """Every status in [start, end) and each station's newest before ``start`` (its state at the start)."""
    return [StatusRow(*r) for r in station_statuses.span_rows(conn, ws, start, end)]


# -- rendering ---------------------------------------------------------------------------------------


def report_json(r: Report) -> dict:
    return {
        "workshop": {"id": r.workshop_id, "name": r.workshop_name},
        "district": {"id": r.district_id, "name": r.district_name},
        "period": {"from": r.from_date, "to": r.to_date, "tz": r.tz, "start_ms": r.start_ms, "end_ms": r.end_ms},
        "generated_at": r.generated_at,
        "uses": r.uses, "washes": r.washes,
        "zones": [{"zone": z.zone, "uses": z.uses, "washes": z.washes} for z in r.zones],
        "misuse": {"total": r.misuse_total, "per_100_uses": r.misuse_per_100,
                   "by_type": [{"type": m.type, "count": m.count, "per_100_uses": m.per_100_uses}
                               for m in r.misuse]},
        "acknowledge": {"raised": r.acks.raised, "workshop": _spread_json(r.acks.workshop),
                        "inspector": _spread_json(r.acks.inspector)},
        "uptime": {"overall": _uptime_json(r.overall),
                   "stations": [{"station": u.station, **_station_json(r.info(u.station)), **_uptime_json(u)}
                                for u in r.stations]},
        "setup": {"version": r.setup_version, "pending_versions": list(r.pending_versions),
                  "silenced_counted": r.silenced},
        "progress": progress_json(r.progress),
        "notes": [{"note": INFERRED_NOTE, "stations": list(r.inferred)}] if r.inferred else [],
        "wash_rule": _wash_json(r), "disinfection": _cycles_json(r),
        "alarms": {"total": r.alarms_total, "listed": [a.json() for a in r.alarm_lines]},
    }


def _wash_json(r: Report) -> dict:
    """What a wash is, and the stays at sinks that were not counted as one."""
    w = r.wash_check
    return {"min_dwell_s": r.wash_dwell_ms // 1000, "text": wash_rule_text(r.wash_dwell_ms), "counted": w.counted,
            "not_counted": {"too_short": w.short, "other_colour": w.other_colour, "colour_unknown": w.unknown_colour},
            "tools_colour_unknown": list(w.unknown_tools)}


def _cycles_json(r: Report) -> dict:
    return {"passed": sum(c.passed for c in r.cycles), "total": sum(c.total for c in r.cycles),
            "text": CYCLES_TEXT,
            "by_station": [{"station": c.station, **_station_json(r.info(c.station)), "method": c.method,
                            "passed": c.passed, "total": c.total} for c in r.cycles]}


def _station_json(i: StationInfo) -> dict:
    return {"kind": "disinfect" if i.disinfect else "sink" if i.sink else "rack", "zone": i.zone,
            "inferred": i.inferred}


def _spread_json(s: Spread) -> dict:
    return {"count": s.count, "median_ms": s.median_ms, "p90_ms": s.p90_ms}


def _uptime_json(u: Uptime) -> dict:
    return {"online_ms": u.online_ms, "known_ms": u.known_ms, "fraction": u.fraction}


CSV_HEADER = (W("指标", "figure"), W("对象", "subject"), W("数值", "value"), W("单位", "unit"))
TIMES, SECONDS, PERCENT = W("次", "times"), W("秒", "s"), W("%", "percent")
PER_100 = W("次/百次使用", "per 100 uses")
TOTAL = W("合计", "total")
NOTE = W("说明", "note")


def report_rows(r: Report) -> list[tuple[str, str, str, str]]:
    """The report as (figure, subject, value, unit) rows: the CSV's body and the PDF's tables. The words are
    ``text.Words`` (both languages as text; the page shows one), the names and numbers plain."""
    uses, washes, misuse, per_100 = W("使用次数", "uses"), W("清洗次数", "washes"), W("误用告警", "misuse alarms"), \
        W("每百次使用误用", "misuse per 100 uses")
    uptime = W("读卡站在线率", "station uptime")
    rows = [(W("作坊", "workshop"), r.workshop_id, r.workshop_name, ""),
            (W("区", "district"), r.district_id, r.district_name, ""),
            (W("期间", "period"), f"{r.from_date} — {r.to_date}", r.tz, W("含首尾日期", "both days included"))]
    for z in r.zones:
        rows.append((uses, zone_text(z.zone), str(z.uses), TIMES))
    rows.append((uses, TOTAL, str(r.uses), TIMES))
    for z in r.zones:
        rows.append((washes, zone_text(z.zone), str(z.washes), TIMES))
    rows.append((washes, TOTAL, str(r.washes), TIMES))
    rows.append((WASH_RULE, wash_rule_text(r.wash_dwell_ms), str(r.wash_dwell_ms // 1000), SECONDS))
    for m in r.misuse:
        rows.append((misuse, alarm_type_text(m.type), str(m.count), TIMES))
        rows.append((per_100, alarm_type_text(m.type), _num(m.per_100_uses), PER_100))
    rows.append((misuse, TOTAL, str(r.misuse_total), TIMES))
    rows.append((per_100, TOTAL, _num(r.misuse_per_100), PER_100))
    rows.append((W("期间告警", "alarms raised"), TOTAL, str(r.acks.raised), TIMES))
    for who, s in ((W("作坊确认", "workshop ack"), r.acks.workshop), (W("检查员审核", "inspector review"), r.acks.inspector)):
        rows.append((who, W("已确认告警", "alarms acknowledged"), str(s.count), TIMES))
        rows.append((who, W("用时中位数", "median time"), seconds(s.median_ms), SECONDS))
        rows.append((who, W("用时 P90", "90th percentile time"), seconds(s.p90_ms), SECONDS))
    for u in r.stations:
        rows.append((uptime, station_text(r.info(u.station)), percent(u.fraction), PERCENT))
    rows.append((uptime, TOTAL, percent(r.overall.fraction), PERCENT))
    # alarms an exception silenced at the gateway, counted in misuse above until an inspector accepts it
    rows.append((W("例外压下未备案", "silenced"), W("已计入误用", "in misuse"), str(r.silenced), TIMES))
    pending = ", ".join(str(v) for v in r.pending_versions) or "—"
    rows.append((W("配置版本", "setup version"), W(f"待备案：{pending}", f"to accept: {pending}",
                                                "待备案 / to accept: " + pending), str(r.setup_version or "—"), ""))
    if r.progress is not None:  # the seed's deadline, 2026-11-30
        p, marking = r.progress, W("色标进度", "marking")
        rows.append((marking, W(*STATE_WORDS[p.state]), f"{p.marked}/{p.tools}", W("已标识或更换", "marked")))
        rows.append((marking, W("已装 NFC 标签", "tagged"), f"{p.tagged}/{p.tools}", ""))
    rows += _disinfection_rows(r)
    if r.inferred:
        rows.append((NOTE, INFERRED_NOTE, ", ".join(r.inferred), ""))
    return rows


WASH_RULE = W("清洗的计数规则", "what counts as a wash")
NOT_WASHED = W("未计为清洗的停留", "stays at a sink not counted as washes")
CYCLES = W("消毒周期 合格/全部", "disinfection cycles passed/all")
PASSED_OF = W("合格/全部", "passed/all")


def _disinfection_rows(r: Report) -> list[tuple[str, str, str, str]]:
    """The stays at sinks the wash rule left out, and the cycles per station and method."""
    w, dwell = r.wash_check, r.wash_dwell_ms // 1000
    rows = [(NOT_WASHED, W(f"停留不足 {dwell} 秒", f"shorter than {dwell} s"), str(w.short), TIMES),
            (NOT_WASHED, W("在他色清洗池", "at a sink of another colour"), str(w.other_colour), TIMES),
            (NOT_WASHED, W("器具颜色未知", "the tool's colour is unknown"), str(w.unknown_colour), TIMES)]
    if w.unknown_tools:
        rows.append((NOTE, TOOL_COLOUR_NOTE, ", ".join(w.unknown_tools), ""))
    for c in r.cycles:
        method = W(*METHOD_WORDS[c.method], method_text(c.method))
        rows.append((CYCLES, joined(" · ", station_text(r.info(c.station)), method), f"{c.passed}/{c.total}",
                     PASSED_OF))
    passed, total = sum(c.passed for c in r.cycles), sum(c.total for c in r.cycles)
    rows.append((CYCLES, TOTAL if r.cycles else NO_CYCLES, f"{passed}/{total}", PASSED_OF))
    return rows


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def report_csv(r: Report) -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese right), bilingual headers, one figure a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows([neutral(c) for c in row] for row in report_rows(r))  # names are the users' text
    return out.getvalue().encode("utf-8-sig")


def filename(r: Report, ext: str) -> str:
    return f"sebiao-report-{r.workshop_id}-{r.from_date}-{r.to_date}.{ext}"
