"""A workshop's setup versions as the inspector sees them: each version, what changed, what it relaxes, whether
an inspector accepted it (备案), and the seed deadline's progress; scoped like every read.

A version's relaxations are judged against the newest *accepted* version before it (the seed's rules
before any: ``setup_rules.relaxations``); a version that relaxes nothing needs no acceptance. A silenced
alarm (``silenced_alarms``) counts in the figures unless an acceptance covers it (``counted_silenced``): its
exception is in a version an inspector accepted, or, silenced by a relaxed requirement, its setup version
was accepted (or a later one with the same rules). The owner's config keeps applying at the gateway; the
regulator's figures do not take the relaxation until it is filed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import NotFound
from cloud_ingest.reports.setup_rules import (
    SEED_RULES,
    Change,
    Progress,
    Relaxation,
    diff,
    progress,
    relaxations,
)
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import districts, setup_acceptances, setups, silenced_alarms, users, workshops
from sebiao_common import strict_json

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the deadline is a day in the workshops' time


@dataclass(frozen=True, kw_only=True)
class Acceptance:
    by: str
    at: int
    note: str


@dataclass(frozen=True, kw_only=True)
class Version:
    version: int
    at: int  # when the gateway first ran with it
    received_at: int
    hash: str
    setup: dict[str, Any]
    changes: tuple[Change, ...]  # against the version before it (none for the first)
    relaxations: tuple[Relaxation, ...]  # against the newest accepted version before it (or the seed's rules)
    accepted: Acceptance | None

    @property
    def pending(self) -> bool:
        """Relaxes something and no inspector has accepted it yet."""
        return bool(self.relaxations) and self.accepted is None


@dataclass(frozen=True, kw_only=True)
class WorkshopSetup:
    workshop_id: str
    workshop_name: str
    district_id: str
    district_name: str
    versions: tuple[Version, ...]  # oldest first
    progress: Progress | None  # of the newest version; None before any arrived
    silenced: int = 0  # silenced alarms counted (their exception not accepted)

    @property
    def current(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def pending(self) -> tuple[Version, ...]:
        return tuple(v for v in self.versions if v.pending)


def today(now: int) -> date:
    return datetime.fromtimestamp(now / 1000, LOCAL_TZ).date()


def _workshops(conn: Connection, who: Principal, workshop_id: str | None = None) -> list[Any]:
    q = (select(workshops.c.id, workshops.c.name, districts.c.id.label("district_id"),
                districts.c.name.label("district_name"))
         .join(districts, districts.c.id == workshops.c.district_id).where(workshop_clause(who))
         .order_by(districts.c.id, workshops.c.id))
    if workshop_id is not None:
        q = q.where(workshops.c.id == workshop_id)
    return list(conn.execute(q))


def workshop_setup(conn: Connection, who: Principal, workshop_id: str, now: int) -> WorkshopSetup:
    """One workshop's setup history (404 outside the caller's scope)."""
    rows = _workshops(conn, who, workshop_id)
    if not rows:
        raise NotFound("作坊不存在", f"workshop {workshop_id} does not exist")
    return _setup(conn, rows[0], now)


def all_setups(conn: Connection, who: Principal, now: int) -> list[WorkshopSetup]:
    """Every workshop in the caller's scope, by district and id."""
    return [_setup(conn, ws, now) for ws in _workshops(conn, who)]


def _setup(conn: Connection, ws: Any, now: int) -> WorkshopSetup:
    accepted = {r.version: Acceptance(by=r.username, at=r.at, note=r.note) for r in conn.execute(
        select(setup_acceptances.c.version, setup_acceptances.c.at, setup_acceptances.c.note, users.c.username)
        .join(users, users.c.id == setup_acceptances.c.user_id).where(setup_acceptances.c.workshop_id == ws.id))}
    versions: list[Version] = []
    baseline: dict[str, Any] | None = None  # the newest accepted setup so far
    before: dict[str, Any] | None = None
    for r in conn.execute(select(setups).where(setups.c.workshop_id == ws.id).order_by(setups.c.version)):
        setup = strict_json.loads(r.setup)
        versions.append(Version(version=r.version, at=r.at, received_at=r.received_at, hash=r.hash, setup=setup,
                                changes=tuple(diff(before, setup)) if before is not None else (),
                                relaxations=tuple(relaxations(baseline, setup)), accepted=accepted.get(r.version)))
        if r.version in accepted:
            baseline = setup
        before = setup
    return WorkshopSetup(workshop_id=ws.id, workshop_name=ws.name, district_id=ws.district_id,
                         district_name=ws.district_name, versions=tuple(versions),
                         progress=progress(versions[-1].setup, today(now)) if versions else None,
                         silenced=sum(counted_silenced(conn, ws.id, 0, 1 << 62).values()))


class _Accepted:
    """What a workshop's inspectors accepted: the exceptions of every accepted version, and which versions'
    rules were accepted, by the version or by a later accepted one with the same rules."""

    def __init__(self, versions: dict[int, dict[str, Any]], accepted: set[int]) -> None:
        self.rules = {v: {k: x for k, x in (s.get("rules") or {}).items() if k != "exceptions"}
                      for v, s in versions.items()}
        self.accepted = accepted
        self.exceptions = {canonical_json(e) for v in accepted if v in versions
                           for e in (versions[v].get("rules") or {}).get("exceptions") or []}

    def covers(self, why: str, setup_version: int | None) -> bool:
        """Whether what silenced an alarm (``silenced_alarms.exception``) is accepted: its exception is in an
        accepted version; a relaxed requirement, when its version's rules were accepted."""
        doc = strict_json.loads(why)
        if not (isinstance(doc, dict) and set(doc) == {"relaxed"}):
            return why in self.exceptions
        mine = self.rules.get(setup_version) if setup_version is not None else None
        return mine is not None and any(v >= (setup_version or 0) and self.rules.get(v) == mine
                                        for v in self.accepted)


def _accepted_in(conn: Connection, workshop_ids: Any) -> dict[str, _Accepted]:
    """Per workshop of ``workshop_ids`` (a list or a select of ids): what its inspectors accepted."""
    accepted: dict[str, set[int]] = {}
    for r in conn.execute(select(setup_acceptances.c.workshop_id, setup_acceptances.c.version)
                          .where(setup_acceptances.c.workshop_id.in_(workshop_ids))):
        accepted.setdefault(r.workshop_id, set()).add(r.version)
    versions: dict[str, dict[int, dict[str, Any]]] = {}
    for r in conn.execute(select(setups.c.workshop_id, setups.c.version, setups.c.setup)
                          .where(setups.c.workshop_id.in_(workshop_ids))):
        versions.setdefault(r.workshop_id, {})[r.version] = strict_json.loads(r.setup)
    return {ws: _Accepted(versions.get(ws, {}), accepted.get(ws, set())) for ws in set(versions) | set(accepted)}


def _counted(conn: Connection, where: Any, by: Any) -> dict[str, int]:
    """Silenced alarms matching ``where``, grouped by ``by`` (a column), that no acceptance covers."""
    rows = conn.execute(select(by.label("key"), silenced_alarms.c.workshop_id, silenced_alarms.c.exception,
                               silenced_alarms.c.setup_version, func.count().label("n")).where(*where)
                        .group_by(by, silenced_alarms.c.workshop_id, silenced_alarms.c.exception,
                                  silenced_alarms.c.setup_version)).all()
    if not rows:
        return {}
    accepted = _accepted_in(conn, sorted({r.workshop_id for r in rows}))
    none = _Accepted({}, set())
    out: dict[str, int] = {}
    for r in rows:
        if not accepted.get(r.workshop_id, none).covers(r.exception, r.setup_version):
            out[r.key] = out.get(r.key, 0) + r.n
    return out


def counted_silenced(conn: Connection, workshop_id: str, start: int, end: int) -> dict[str, int]:
    """Silenced alarms in [start, end) by type that no acceptance covers: they count as alarms."""
    return _counted(conn, (silenced_alarms.c.workshop_id == workshop_id, silenced_alarms.c.ts >= start,
                           silenced_alarms.c.ts < end), silenced_alarms.c.type)


def counted_silenced_many(conn: Connection, scope: Any, start: int, end: int,
                          types: tuple[str, ...]) -> dict[str, int]:
    """Per workshop of ``scope`` (a select of workshop ids): silenced alarms of ``types`` in [start, end) that no
    acceptance covers; a few queries for all the workshops."""
    return _counted(conn, (silenced_alarms.c.workshop_id.in_(scope), silenced_alarms.c.ts >= start,
                           silenced_alarms.c.ts < end, silenced_alarms.c.type.in_(types)),
                    silenced_alarms.c.workshop_id)


def silenced_list(conn: Connection, workshop_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest silenced alarms, each marked ``counted`` while no acceptance covers it; ``exception`` is the
    recorded exception, or None and ``relaxed`` for a relaxed requirement."""
    accepted = _accepted_in(conn, [workshop_id]).get(workshop_id, _Accepted({}, set()))
    rows = conn.execute(select(silenced_alarms).where(silenced_alarms.c.workshop_id == workshop_id)
                        .order_by(silenced_alarms.c.ts.desc(), silenced_alarms.c.id.desc()).limit(limit))
    out = []
    for r in rows:
        why = strict_json.loads(r.exception)
        out.append({"id": r.id, "type": r.type, "severity": r.severity, "tool": r.tool, "station": r.station,
                    "ts": r.ts, "text": {"zh": r.text_zh, "en": r.text_en},
                    "exception": None if "relaxed" in why else why, "relaxed": why.get("relaxed"),
                    "setup_version": r.setup_version, "counted": not accepted.covers(r.exception, r.setup_version)})
    return out


def accepted_rules(conn: Connection, workshop_id: str) -> dict[str, Any]:
    """The rules of the workshop's newest accepted setup version, or the seed's before any was accepted."""
    row = conn.execute(select(setups.c.version, setups.c.setup).join(setup_acceptances, (
        setup_acceptances.c.workshop_id == setups.c.workshop_id) & (setup_acceptances.c.version == setups.c.version))
        .where(setups.c.workshop_id == workshop_id).order_by(setups.c.version.desc()).limit(1)).first()
    if row is None:
        return {"version": None, "rules": SEED_RULES}
    return {"version": row.version, "rules": strict_json.loads(row.setup).get("rules") or {}}


# -- JSON ------------------------------------------------------------------------------------------------------


def progress_json(p: Progress | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"tools": p.tools, "marked": p.marked, "tagged": p.tagged, "to_replace": p.to_replace,
            "marked_late": p.marked_late, "state": p.state, "deadline": "2026-11-30"}


def version_json(v: Version, whole: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": v.version, "at": v.at, "received_at": v.received_at, "hash": v.hash,
        "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in v.changes],
        "relaxations": [{"path": r.path, "before": r.before, "after": r.after, "text": {"zh": r.zh, "en": r.en}}
                        for r in v.relaxations],
        "pending": v.pending,
        "accepted": None if v.accepted is None else {"by": v.accepted.by, "at": v.accepted.at,
                                                     "note": v.accepted.note}}
    if whole:
        out["setup"] = v.setup
    return out


def setup_json(s: WorkshopSetup, history: bool = True) -> dict[str, Any]:
    current = s.current
    return {"workshop": {"id": s.workshop_id, "name": s.workshop_name},
            "district": {"id": s.district_id, "name": s.district_name},
            "current": None if current is None else version_json(current, whole=True),
            "pending": [v.version for v in s.pending],
            "silenced_counted": s.silenced,
            "progress": progress_json(s.progress),
            **({"versions": [version_json(v) for v in reversed(s.versions)]} if history else {})}


def district_progress(rows: list[WorkshopSetup]) -> list[dict[str, Any]]:
    """Per district: workshops, how many done, and the tools marked and tagged of all, added up."""
    out: dict[str, dict[str, Any]] = {}
    for s in rows:
        d = out.setdefault(s.district_id, {"district": {"id": s.district_id, "name": s.district_name},
                                           "workshops": 0, "done": 0, "behind": [], "tools": 0, "marked": 0,
                                           "tagged": 0})
        d["workshops"] += 1
        p = s.progress
        if p is not None:
            d["tools"] += p.tools
            d["marked"] += p.marked
            d["tagged"] += p.tagged
        if p is not None and p.state in ("done", "late"):
            d["done"] += 1
        elif p is None or p.state == "behind":  # no setup received: its progress is unknown, listed too
            d["behind"].append({"workshop": s.workshop_id, "state": p.state if p else "unknown"})
    return list(out.values())
