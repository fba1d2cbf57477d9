"""The inspector's triage queue: what needs this inspector first, with names instead of ids.

``queue`` reads one page of the alarms in the principal's scope, filtered
(``TriageFilter``), most severe first and, within a severity, oldest first:
what has waited longest gets looked at first. ``TriageFilter.needs_me`` is the
default an inspector lands on: critical and major alarms nobody has reviewed
yet. Each row is ``review.alarm_json`` (with its ``number``: the gateway's alarm
id with its workshop, the number the owner sees on the console, made unique
across workshops) plus the added fields ``workshop_name``, ``tool_name`` and
``station_name`` (from the workshop's newest setup: colour name, shape and
kind, never the colour alone) and ``rectification`` (the newest one with its
ledger item, or None).

``comment`` adds an inspector's note that changes no state (the bulk action's
comment); the acknowledgement is ``review.acknowledge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import Connection, case, func, or_, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, NotFound
from cloud_ingest.review import ledger, rectification, review
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import alarms, inspector_notes, ledger_items, rectifications, setups, workshops
from sebiao_common import strict_json
from sebiao_common.alarms import SEVERITIES
from sebiao_common.domain import COLORS, KINDS, StationKind

NEEDS_ME = ("critical", "major")  # what an inspector must look at; minor and warning wait for the workshop
MAX_SEARCH = 100
MAX_PAGE = 100_000
SEVERITY_RANK = {s: i for i, s in enumerate(("critical", "major", "minor", "warning"))}


@dataclass(frozen=True, kw_only=True)
class TriageFilter:
    severities: tuple[str, ...] = ()  # empty: every severity
    type: str | None = None
    state: str | None = None
    review: str | None = None
    district: str | None = None
    workshop: str | None = None
    search: str | None = None  # in the alarm's text, its tool, station and workshop (id or name)
    since: int | None = None
    until: int | None = None
    page: int = 1
    per_page: int = 100

    def __post_init__(self) -> None:
        for s in self.severities:
            if s not in SEVERITIES:
                raise BadRequest("severity", f"必须是以下之一：{', '.join(SEVERITIES)}",
                                 f"must be one of: {', '.join(SEVERITIES)}")
        # type, state, review and the limits are judged as the JSON API judges them
        review.AlarmFilter(type=self.type, state=self.state, review=self.review, limit=self.per_page)
        if not 1 <= self.page <= MAX_PAGE:  # a page past the database's offsets is an error, not a 500
            raise BadRequest("page", f"必须在 1 到 {MAX_PAGE} 之间", f"must be between 1 and {MAX_PAGE}")
        if self.search is not None and len(self.search) > MAX_SEARCH:
            raise BadRequest("q", f"至多 {MAX_SEARCH} 字符", f"at most {MAX_SEARCH} characters")

    @classmethod
    def needs_me(cls, page: int = 1, per_page: int = 100) -> "TriageFilter":
        return cls(severities=NEEDS_ME, review="open", page=page, per_page=per_page)


@dataclass(frozen=True, kw_only=True)
class Page:
    rows: list[dict]
    total: int  # all that match, over every page
    page: int
    pages: int


def _matching(who: Principal, f: TriageFilter):  # type: ignore[no-untyped-def]
    q = (select(alarms, workshops.c.district_id, workshops.c.name.label("workshop_name"))
         .join(workshops, workshops.c.id == alarms.c.workshop_id).where(workshop_clause(who)))
    if f.severities:
        q = q.where(alarms.c.severity.in_(f.severities))
    for column, value in ((alarms.c.type, f.type), (alarms.c.state, f.state), (alarms.c.review, f.review),
                          (workshops.c.district_id, f.district), (workshops.c.id, f.workshop)):
        if value is not None:  # a filter, never a widening: the scope clause above still holds
            q = q.where(column == value)
    if f.since is not None:
        q = q.where(alarms.c.ts >= f.since)
    if f.until is not None:
        q = q.where(alarms.c.ts < f.until)
    if f.search:
        q = q.where(or_(*(c.icontains(f.search, autoescape=True) for c in (
            alarms.c.text_zh, alarms.c.text_en, alarms.c.tool, alarms.c.station, workshops.c.id, workshops.c.name))))
    return q


def count(conn: Connection, who: Principal, f: TriageFilter) -> int:
    return conn.execute(select(func.count()).select_from(_matching(who, f).subquery())).scalar_one()


def queue(conn: Connection, who: Principal, f: TriageFilter) -> Page:
    total = count(conn, who, f)
    pages = max(1, -(-total // f.per_page))
    rank = case(SEVERITY_RANK, value=alarms.c.severity, else_=len(SEVERITY_RANK))
    rows = conn.execute(_matching(who, f).order_by(rank, alarms.c.ts, alarms.c.id)
                        .limit(f.per_page).offset((f.page - 1) * f.per_page)).all()
    return Page(rows=named(conn, rows), total=total, page=f.page, pages=pages)


def named(conn: Connection, rows: Iterable[Any]) -> list[dict]:
    """``review.alarm_json`` of each row with the added fields (``workshop_name`` from the row)."""
    rows = list(rows)
    books = setup_names(conn, {r.workshop_id for r in rows})
    rects = newest_rectifications(conn, [r.id for r in rows])
    out = []
    for r in rows:
        tools, stations = books.get(r.workshop_id, ({}, {}))
        out.append({**review.alarm_json(r), "workshop_name": r.workshop_name,
                    "tool_name": tools.get(r.tool) or tool_name(r.tool, None),
                    "station_name": stations.get(r.station) or station_name(r.station, None),
                    "rectification": rects.get(r.id)})
    return out


def describe(conn: Connection, a: dict) -> dict:
    """The added fields of one alarm (``review.get_alarm``'s dict), and ``tool_names`` and ``station_names``
    (id → name) of its workshop's setup, for the tools and stations of its evidence."""
    name = conn.execute(select(workshops.c.name).where(workshops.c.id == a["workshop"])).scalar_one()
    tools, stations = setup_names(conn, {a["workshop"]}).get(a["workshop"], ({}, {}))
    return {"workshop_name": name,
            "tool_name": tools.get(a["tool"]) or tool_name(a["tool"], None),
            "station_name": stations.get(a["station"]) or station_name(a["station"], None),
            "tool_names": tools, "station_names": stations}


# -- names from the setup ------------------------------------------------------------------


def tool_name(tool_id: str | None, spec: dict | None) -> dict | None:
    """``{"zh": "● 红色刀具 KN-R-01", "en": "● red knife KN-R-01"}``: the colour's symbol (its shape), its name
    and the tool's kind; without a setup that names the tool, only its id."""
    if not tool_id:
        return None
    colour, kind = COLORS.get((spec or {}).get("color") or ""), KINDS.get((spec or {}).get("kind") or "")
    if colour is None and kind is None:
        return {"zh": tool_id, "en": tool_id}
    sym = f"{colour.symbol} " if colour else ""
    return {"zh": f"{sym}{colour.zh if colour else ''}{kind.zh if kind else ''} {tool_id}",
            "en": f"{sym}{colour.en + ' ' if colour else ''}{kind.en if kind else 'tool'} {tool_id}"}


def station_name(station_id: str | None, spec: dict | None) -> dict | None:
    """The station's own name when the setup gives one, else its zone's colour and its kind; always its id."""
    if not station_id:
        return None
    spec = spec or {}
    colour = COLORS.get(spec.get("zone") or "")
    try:
        kind: StationKind | None = StationKind(spec.get("kind"))
    except ValueError:
        kind = None
    if spec.get("name"):
        zh = en = str(spec["name"])
    elif colour or kind:
        zh = f"{colour.zh if colour else ''}{kind.zh if kind else '读卡站'}"
        en = f"{colour.en + ' ' if colour else ''}{kind.value if kind else 'station'}"
    else:
        return {"zh": station_id, "en": station_id}
    sym = f"{colour.symbol} " if colour else ""
    return {"zh": f"{sym}{zh} {station_id}", "en": f"{sym}{en} {station_id}"}


def setup_names(conn: Connection, workshop_ids: set[str]) -> dict[str, tuple[dict, dict]]:
    """workshop → (tool id → name, station id → name), from each workshop's newest setup version."""
    if not workshop_ids:
        return {}
    newest = (select(setups.c.workshop_id, func.max(setups.c.version).label("v"))
              .where(setups.c.workshop_id.in_(sorted(workshop_ids))).group_by(setups.c.workshop_id).subquery())
    out: dict[str, tuple[dict, dict]] = {}
    for row in conn.execute(select(setups.c.workshop_id, setups.c.setup).join(
            newest, (newest.c.workshop_id == setups.c.workshop_id) & (newest.c.v == setups.c.version))):
        try:
            setup = strict_json.loads(row.setup)
        except ValueError:  # stored after its hash was checked: never expected, but a name is not worth a 500
            continue
        tools = {t["id"]: tool_name(t["id"], t) for t in setup.get("tools") or [] if isinstance(t, dict) and t.get("id")}
        stations = {s["id"]: station_name(s["id"], s) for s in setup.get("stations") or []
                    if isinstance(s, dict) and s.get("id")}
        out[row.workshop_id] = (tools, stations)
    return out


def newest_rectifications(conn: Connection, alarm_ids: list[int]) -> dict[int, dict]:
    """alarm → its newest rectification ``{"id", "state", "item", "due"}`` (the ledger item is its own)."""
    if not alarm_ids:
        return {}
    rows = conn.execute(select(rectifications.c.id, rectifications.c.alarm_id, rectifications.c.state,
                               rectifications.c.due_at, ledger_items.c.id.label("item"))
                        .outerjoin(ledger_items, ledger_items.c.rectification_id == rectifications.c.id)
                        .where(rectifications.c.alarm_id.in_(alarm_ids)).order_by(rectifications.c.id)).all()
    return {r.alarm_id: {"id": r.id, "state": r.state, "item": r.item, "due": r.due_at} for r in rows}


# -- the counts of the navigation --------------------------------------------------------------


OWNER_WAITING = ("open", "returned")  # the ledger's states that wait for the workshop's answer


def owner_items_waiting(conn: Connection, who: Principal, now: int) -> list[dict]:
    """The ledger items (not an alarm's: those are its rectifications) waiting for the workshop's answer."""
    return [i for state in OWNER_WAITING
            for i in ledger.list_items(conn, who, ledger.ItemFilter(state=state, limit=1000), now)
            if i["rectification"] is None]


def nav_counts(conn: Connection, who: Principal, now: int) -> dict[str, int]:
    """What waits for this user: an inspector's (or admin's) alarms of ``needs_me``; an owner's
    rectifications and ledger items waiting for its answer ("待您答复", on ``/rectifications``)."""
    if who.role in ("inspector", "admin"):
        return {"/alarms": count(conn, who, TriageFilter.needs_me())}
    if who.role == "owner":
        waiting = [r for r in rectification.list_rectifications(conn, who, limit=1000)
                   if r["state"] in ("requested", "returned")]
        return {"/rectifications": len(waiting) + len(owner_items_waiting(conn, who, now))}
    return {}


# -- the bulk comment ---------------------------------------------------------------------------


def comment(conn: Connection, who: Principal, alarm_id: int, note: str | None, now: int) -> None:
    """An inspector's note on the alarm that changes no state, chained as evidence like an acknowledgement."""
    who.require("inspector", "admin")
    if not note:
        raise BadRequest("note", "意见不能为空", "a comment needs its text")
    if len(note) > review.MAX_NOTE:
        raise BadRequest("note", f"至多 {review.MAX_NOTE} 字符", f"at most {review.MAX_NOTE} characters")
    row = conn.execute(select(alarms.c.id, alarms.c.workshop_id).join(workshops, workshops.c.id == alarms.c.workshop_id)
                       .where(workshop_clause(who), alarms.c.id == alarm_id)).first()
    if row is None:
        raise NotFound("告警不存在", f"alarm {alarm_id} does not exist")
    stored = conn.execute(inspector_notes.insert().values(alarm_id=alarm_id, user_id=who.user_id, action="comment",
                                                          note=note, at=now).returning(*inspector_notes.c)).one()
    evidence.append(conn, now, "inspector_comment", row.workshop_id, alarm_id,
                    {"by": who.username, "role": who.role, "note": note,
                     "row": coverage.fact(inspector_notes, stored._mapping)})
