"""The messages to a district's office: one critical alarm, and the district's daily digest.

An alarm's notice is the gateway's webhook JSON (schema 1, docs/notify.md) made from what the cloud stored, with
``id`` = ``{workshop}:{gateway alarm id}:{seq}`` (the transition, for good: the receiver drops a repeat),
``workshop`` by name, ``district`` and ``alarm_url`` (the alarm's page in the cloud) added. The digest's notice
has ``digest``: its title and the lines the robots show, and its counts for a webhook.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select

from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    districts,
    ingest_batches,
    ledger_items,
    rectifications,
    workshops,
)
from sebiao_common.alarms import SEVERITY_NAMES, alarm_type_words
from sebiao_common.notify.message import local_time

SCHEMA = 1
MAX_LINES = 40  # a robot's message stays readable (and under 4096 bytes); the rest is "… more"
OPEN_STATES = {"requested": "open", "answered": "answered", "returned": "returned", "accepted": "closed"}


def alarm_notice(workshop_id: str, workshop_name: str, alarm_id: int, body: dict[str, Any], zone: tzinfo | None,
                 base_url: str | None) -> dict[str, Any]:
    """The notice of one stored transition (``body``: its evidence entry's body, ``alarm`` the picture)."""
    picture = body["alarm"]
    zh, en = alarm_type_words(body["type"])
    sev_zh, sev_en, shape = SEVERITY_NAMES.get(body["severity"], (body["severity"], body["severity"], "○"))
    station = {"id": body["station"], "name": body["station"]} if body["station"] else None
    return {
        "schema": SCHEMA, "id": f"{workshop_id}:{body['gateway_alarm_id']}:{body['seq']}", "test": False,
        "workshop": {"id": workshop_id, "name": workshop_name},
        "alarm": {"id": alarm_id, "type": body["type"], "type_name": {"zh": zh, "en": en},
                  "severity": body["severity"], "severity_name": {"zh": sev_zh, "en": sev_en, "shape": shape},
                  "state": body["state"], "acked": body["acked"], "subject": body["tool"] or body["station"],
                  "tool": body["tool"], "tag": picture.get("tag"), "station": station, "count": picture["count"],
                  "first_ts": body["ts"], "text": {"zh": picture["text_zh"], "en": picture["text_en"]}},
        "transition": {"history_id": body["seq"], "action": body["action"], "at": body["at"],
                       "at_local": local_time(body["at"], zone).isoformat(timespec="seconds"),
                       "by": body["by"], "comment": body["comment"]},
        "console_url": None,
        "alarm_url": f"{base_url.rstrip('/')}/alarms/{alarm_id}" if base_url else None,
    }


def digest_window(day: date, at: datetime) -> tuple[int, int]:
    """The 24 hours that end at the digest's local time ``at`` on ``day`` (ms)."""
    end = at.replace(year=day.year, month=day.month, day=day.day, second=0, microsecond=0)
    return int((end - timedelta(days=1)).timestamp() * 1000), int(end.timestamp() * 1000)


def digest_notice(conn: Connection, district: str, day: date, start: int, end: int, silent_ms: int,
                  base_url: str | None) -> dict[str, Any]:
    """The district's digest for the window [start, end): non-critical alarms raised per workshop and type, open
    and overdue ledger items, workshops with no data for longer than ``silent_ms``."""
    name = conn.execute(select(districts.c.name).where(districts.c.id == district)).scalar_one_or_none() or district
    shops = dict(conn.execute(select(workshops.c.id, workshops.c.name).where(workshops.c.district_id == district)
                              .order_by(workshops.c.id)).all())
    raised = conn.execute(
        select(alarms.c.workshop_id, alarms.c.type, alarms.c.severity, func.count())
        .join(alarm_transitions, and_(alarm_transitions.c.workshop_id == alarms.c.workshop_id,
                                      alarm_transitions.c.gateway_alarm_id == alarms.c.gateway_id))
        .where(alarms.c.workshop_id.in_(list(shops)), alarms.c.severity != "critical",
               alarm_transitions.c.action == "raised", alarm_transitions.c.at >= start, alarm_transitions.c.at < end)
        .group_by(alarms.c.workshop_id, alarms.c.type, alarms.c.severity)
        .order_by(alarms.c.workshop_id, alarms.c.type)).all() if shops else []
    state = func.coalesce(ledger_items.c.state, case(*((rectifications.c.state == k, literal(v))
                                                       for k, v in OPEN_STATES.items())))
    due = func.coalesce(ledger_items.c.due_at, rectifications.c.due_at)
    ledger = conn.execute(
        select(func.count(), func.sum(case((and_(due.is_not(None), due < end), 1), else_=0)))
        .select_from(ledger_items.outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id))
        .where(ledger_items.c.workshop_id.in_(list(shops)), state != "closed")).one() if shops else (0, 0)
    last = dict(conn.execute(select(ingest_batches.c.workshop_id, func.max(ingest_batches.c.received_at))
                             .where(ingest_batches.c.workshop_id.in_(list(shops)))
                             .group_by(ingest_batches.c.workshop_id)).all()) if shops else {}
    silent = [w for w in shops if last.get(w) is None or last[w] < end - silent_ms]
    counts = [{"workshop": w, "workshop_name": shops[w], "type": t, "severity": s, "raised": int(n)}
              for w, t, s, n in raised]
    open_items, overdue = int(ledger[0] or 0), int(ledger[1] or 0)
    lines = _lines(counts, open_items, overdue, [(shops[w], last.get(w)) for w in silent], silent_ms, base_url)
    title = f"{name} 每日汇总 {day.isoformat()} / daily digest"
    return {"schema": SCHEMA, "id": f"digest:{district}:{day.isoformat()}", "test": False, "workshop": None,
            "alarm": None, "district": {"id": district, "name": name},
            "digest": {"title": title, "lines": lines, "day": day.isoformat(), "from": start, "to": end,
                       "alarms": counts, "ledger_open": open_items, "ledger_overdue": overdue,
                       "silent_workshops": [{"id": w, "name": shops[w], "last_received": last.get(w)}
                                            for w in silent]},
            "transition": {"history_id": None, "action": "digest", "at": end, "at_local": None, "by": "system",
                           "comment": None},
            "console_url": None, "alarm_url": None}


def _lines(counts: list[dict[str, Any]], open_items: int, overdue: int, silent: list[tuple[str, int | None]],
           silent_ms: int, base_url: str | None) -> list[str]:
    lines = [f"**非严重告警 / alarms (not critical): {sum(c['raised'] for c in counts)}**"]
    for c in counts[:MAX_LINES]:
        zh, en = alarm_type_words(c["type"])
        sev_zh, sev_en, shape = SEVERITY_NAMES.get(c["severity"], (c["severity"], c["severity"], "○"))
        lines.append(f"> {c['workshop_name']}: {zh} / {en} × {c['raised']} ({shape} {sev_zh} / {sev_en})")
    if len(counts) > MAX_LINES:
        lines.append(f"> … 另有 {len(counts) - MAX_LINES} 行 / {len(counts) - MAX_LINES} more")
    lines += ["", f"**挂账 / ledger: 未销号 {open_items} open, 已逾期 {overdue} overdue**", "",
              f"**超过 {silent_ms // 3_600_000} 小时无数据 / no data for over {silent_ms // 3_600_000} h: "
              f"{len(silent)}**"]
    lines += [f"> {name}" for name, _ in silent[:MAX_LINES]]
    if base_url:
        lines.append(f"\n[打开监管平台 / open the cloud]({base_url.rstrip('/')}/ledger?overdue=1)")
    return lines
