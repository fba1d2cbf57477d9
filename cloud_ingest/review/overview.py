"""辖区总览 / District overview: per district in the caller's scope, its workshops side by side.

Per workshop: the regulator's newest grade (分级定榜), the seed deadline's progress (the setup's tools marked
and tagged, ``reports.setups``), the ledger's open and overdue items (挂账销号), the alarm rate (alarms raised
per day over the last 7 and 30 days, by the transitions' times) and the data's freshness (最后上报 /
数据中断) and the newest on-site inspection (现场检查). Per district the same figures added up, and its spot
checks' drawn workshops visited, not yet, overdue (抽查). ``sort_rows`` (pure, table-tested) orders a district's
workshops by one of ``SORT_KEYS``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest
from cloud_ingest.reports import freshness, setups
from cloud_ingest.review import ledger, spot_checks
from cloud_ingest.store.schema import (
    GRADES,
    alarm_transitions,
    districts,
    inspection_visits,
    workshop_grades,
    workshops,
)
from sebiao_common.clock import DAY_MS

WINDOWS = (7, 30)
PROGRESS_ORDER = ("done", "late", "in_progress", "behind")  # best first; unknown (no setup) last
SORT_KEYS = ("name", "grade", "progress", "open", "overdue", "alarms_7d", "alarms_30d", "last_data", "last_visit")


def _grades(conn: Connection, who: Principal) -> dict[str, dict]:
    newest = (select(func.max(workshop_grades.c.id).label("id")).group_by(workshop_grades.c.workshop_id)
              .subquery())
    rows = conn.execute(select(workshop_grades.c.workshop_id, workshop_grades.c.grade, workshop_grades.c.effective)
                        .join(newest, newest.c.id == workshop_grades.c.id)
                        .join(workshops, workshops.c.id == workshop_grades.c.workshop_id)
                        .where(workshop_clause(who)))
    return {r.workshop_id: {"grade": r.grade, "effective": r.effective} for r in rows}


def _raised(conn: Connection, who: Principal, since: int, until: int) -> dict[str, int]:
    rows = conn.execute(select(alarm_transitions.c.workshop_id, func.count().label("n"))
                        .join(workshops, workshops.c.id == alarm_transitions.c.workshop_id)
                        .where(workshop_clause(who), alarm_transitions.c.action == "raised",
                               alarm_transitions.c.at >= since, alarm_transitions.c.at < until)
                        .group_by(alarm_transitions.c.workshop_id))
    return {r.workshop_id: r.n for r in rows}


def _last_visits(conn: Connection, who: Principal) -> dict[str, str]:
    """Each workshop's newest on-site inspection (its day, YYYY-MM-DD)."""
    rows = conn.execute(select(inspection_visits.c.workshop_id, func.max(inspection_visits.c.day).label("day"))
                        .join(workshops, workshops.c.id == inspection_visits.c.workshop_id)
                        .where(workshop_clause(who)).group_by(inspection_visits.c.workshop_id))
    return {r.workshop_id: r.day for r in rows}


def _spot_checks(conn: Connection, who: Principal, now: int) -> dict[str, dict[str, int]]:
    """Per district, its spot checks' drawn workshops: visited, not yet, overdue (inspectors and admins only:
    the draws are theirs)."""
    if who.role not in ("admin", "inspector"):
        return {}
    out: dict[str, dict[str, int]] = {}
    for d in spot_checks.list_draws(conn, who):
        counts = spot_checks.get(conn, who, d["id"], now)["counts"]
        total = out.setdefault(d["district"], {k: 0 for k in counts})
        for k, n in counts.items():
            total[k] += n
    return out


def rate(raised: int, days: int) -> dict[str, Any]:
    return {"days": days, "raised": raised, "per_day": round(raised / days, 2)}


def overview(conn: Connection, who: Principal, now: int, silent_ms: int) -> dict[str, Any]:
    """The overview of every district in the caller's scope (an owner's: its own workshop's district only)."""
    fresh = freshness.workshops_freshness(conn, who, now, silent_ms)
    progress = {s.workshop_id: setups.progress_json(s.progress) for s in setups.all_setups(conn, who, now)}
    grades, items = _grades(conn, who), ledger.counts(conn, who, now)
    raised = {days: _raised(conn, who, now - days * DAY_MS, now) for days in WINDOWS}
    visits, spot = _last_visits(conn, who), _spot_checks(conn, who, now)
    rows = conn.execute(select(workshops.c.id, workshops.c.name, workshops.c.district_id,
                               districts.c.name.label("district_name"))
                        .join(districts, districts.c.id == workshops.c.district_id)
                        .where(workshop_clause(who)).order_by(workshops.c.district_id, workshops.c.id))
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        d = out.setdefault(r.district_id, {"id": r.district_id, "name": r.district_name, "workshops": []})
        d["workshops"].append({
            "id": r.id, "name": r.name, "grade": grades.get(r.id), "progress": progress.get(r.id),
            "ledger": items.get(r.id, {"open": 0, "overdue": 0}),
            "alarms": {f"{days}d": rate(raised[days].get(r.id, 0), days) for days in WINDOWS},
            "freshness": fresh[r.id].json(), "last_visit": visits.get(r.id)})
    for d in out.values():
        d["totals"] = totals(d["workshops"])
        d["totals"]["spot_checks"] = spot.get(d["id"])  # None: no draw, or not the caller's to see
    return {"generated_at": now, "silent_after_minutes": silent_ms // 60_000, "windows": list(WINDOWS),
            "districts": list(out.values())}


def totals(rows: list[dict]) -> dict[str, Any]:
    """A district's figures: workshops, per grade, deadline done, ledger open and overdue, alarms per workshop
    per day, silent workshops."""
    n = len(rows)
    return {"workshops": n,
            "grades": {g: sum(1 for r in rows if r["grade"] and r["grade"]["grade"] == g) for g in GRADES},
            "ungraded": sum(1 for r in rows if not r["grade"]),
            "deadline_done": sum(1 for r in rows if r["progress"] and r["progress"]["state"] in ("done", "late")),
            "ledger_open": sum(r["ledger"]["open"] for r in rows),
            "ledger_overdue": sum(r["ledger"]["overdue"] for r in rows),
            "alarms": {f"{days}d": {"raised": (k := sum(r["alarms"][f"{days}d"]["raised"] for r in rows)),
                                    "per_workshop_per_day": round(k / days / n, 2) if n else None}
                       for days in WINDOWS},
            "silent": sum(1 for r in rows if r["freshness"]["state"] == "silent"),
            "never": sum(1 for r in rows if r["freshness"]["state"] == "never")}


def sort_key(key: str) -> tuple[str, bool]:
    """``sort`` of the query: one of ``SORT_KEYS``, ``-`` in front for descending."""
    name, desc = (key[1:], True) if key.startswith("-") else (key, False)
    if name not in SORT_KEYS:
        raise BadRequest("sort", f"必须是以下之一：{', '.join(SORT_KEYS)}（可加前缀 -）",
                         f"must be one of: {', '.join(SORT_KEYS)} (a leading - sorts descending)")
    return name, desc


def _value(row: dict, key: str) -> tuple:
    """Ascending order of ``key``; a missing value (no grade, no setup, never reported) sorts last."""
    if key == "name":
        return (0, row["name"], row["id"])
    if key == "grade":
        return (1,) if not row["grade"] else (0, GRADES.index(row["grade"]["grade"]))
    if key == "progress":
        p = row["progress"]
        return (1,) if not p else (0, PROGRESS_ORDER.index(p["state"]) if p["state"] in PROGRESS_ORDER else 9,
                                   -(p["marked"] / p["tools"] if p["tools"] else 0))
    if key in ("open", "overdue"):
        return (0, row["ledger"][key])
    if key in ("alarms_7d", "alarms_30d"):
        return (0, row["alarms"][key.split("_")[1]]["raised"])
    if key == "last_visit":
        return (1,) if row.get("last_visit") is None else (0, row["last_visit"])
    last = row["freshness"]["last_received"]
    return (1,) if last is None else (0, last)


def sort_rows(rows: list[dict], key: str, desc: bool = False) -> list[dict]:
    """The rows by ``key`` (ties by id); those without a value stay last either way."""
    have = [r for r in rows if _value(r, key)[0] == 0]
    lack = [r for r in rows if _value(r, key)[0] != 0]
    have.sort(key=lambda r: (_value(r, key), r["id"]), reverse=desc)
    return have + sorted(lack, key=lambda r: r["id"])
