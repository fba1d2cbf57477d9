"""The alarm lifecycle, as operators know it from ThingsBoard and ISA-18.2. Pure.

An alarm is ``active`` or ``cleared``, and unacknowledged or acknowledged. At
most one alarm is active per (type, subject); a repeat is counted on it. Once
cleared, a new occurrence opens a new alarm. ``cross_zone`` and
``cross_zone_wash`` are latched: they never clear by themselves, only a person
clears them, with a corrective-action comment. Every transition yields a
history entry (who, when, comment) that the store appends and never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

from edge_gateway.errors import AlarmActionError
from edge_gateway.model.rules import Clear, Raise
from sebiao_common.alarms import MAX_COMMENT_CHARS, MAX_PERSON_CHARS

LATCHED = frozenset({"cross_zone", "cross_zone_wash"})
SYSTEM = "system"


@dataclass(frozen=True, kw_only=True)
class Alarm:
    id: int
    type: str
    severity: str
    subject: str
    tool: str | None
    tag: str | None
    station: str | None
    ts: int  # event time of the first occurrence, ms
    last_ts: int  # event time of the latest occurrence
    raised_at: int  # gateway clock
    updated_at: int
    text_zh: str
    text_en: str
    state: str = "active"  # active | cleared
    acked: bool = False
    count: int = 1
    late: bool = False

    @property
    def latched(self) -> bool:
        return self.type in LATCHED

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.subject)


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    alarm_id: int
    at: int
    action: str  # raised | repeated | acknowledged | cleared
    state: str
    acked: bool
    by: str
    comment: str | None


def _entry(alarm: Alarm, at: int, action: str, by: str, comment: str | None) -> HistoryEntry:
    return HistoryEntry(alarm_id=alarm.id, at=at, action=action, state=alarm.state, acked=alarm.acked, by=by,
                        comment=comment)


def occur(active: Alarm | None, decision: Raise, new_id: int, now: int) -> tuple[Alarm, HistoryEntry]:
    """Raise a new alarm, or count a repeat on the active one with the same key."""
    if active is not None:
        alarm = replace(active, count=active.count + 1, last_ts=max(active.last_ts, decision.ts),
                        updated_at=now, text_zh=decision.text_zh, text_en=decision.text_en,
                        severity=_worse(active.severity, decision.severity))
        return alarm, _entry(alarm, now, "repeated", by=SYSTEM, comment=None)
    alarm = Alarm(id=new_id, type=decision.type, severity=decision.severity, subject=decision.subject,
                  tool=decision.tool, tag=decision.tag, station=decision.station, ts=decision.ts,
                  last_ts=decision.ts, raised_at=now, updated_at=now,
                  text_zh=decision.text_zh, text_en=decision.text_en, late=decision.late)
    return alarm, _entry(alarm, now, "raised", by=SYSTEM, comment=None)


_RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3}


def _worse(a: str, b: str) -> str:
    return a if _RANK[a] <= _RANK[b] else b


def acknowledge(alarm: Alarm, by: str, comment: str | None, now: int) -> tuple[Alarm, HistoryEntry]:
    by, comment = _person(by), _comment(comment)
    if alarm.acked:
        raise AlarmActionError(f"这条报警已有人确认过：{alarm.text_zh} / "
                               f"this alarm is already acknowledged: {alarm.text_en} (alarm {alarm.id})")
    after = replace(alarm, acked=True, updated_at=now)
    return after, _entry(after, now, "acknowledged", by, comment)


def clear(alarm: Alarm, by: str, comment: str | None, now: int) -> tuple[Alarm, HistoryEntry]:
    """A person clears an alarm; a latched one needs a corrective-action comment."""
    by, comment = _person(by), _comment(comment)
    if alarm.state != "active":
        raise AlarmActionError(f"这条报警已处理过：{alarm.text_zh} / "
                               f"this alarm is already cleared: {alarm.text_en} (alarm {alarm.id})")
    if alarm.latched and comment is None:
        raise _refused(f"跨区报警须先写下整改措施（做了什么）才能标为已处理：{alarm.text_zh} / "
                       f"a cross-zone alarm needs a corrective-action comment to clear: {alarm.text_en} "
                       f"(alarm {alarm.id}, {alarm.type})")
    after = replace(alarm, state="cleared", updated_at=now)
    return after, _entry(after, now, "cleared", by, comment)


def auto_clear(alarm: Alarm, decision: Clear, now: int) -> tuple[Alarm, HistoryEntry] | None:
    """The condition ended: clear by itself, unless the alarm is latched."""
    if alarm.latched or alarm.state != "active":
        return None
    after = replace(alarm, state="cleared", updated_at=now)
    return after, _entry(after, now, "cleared", SYSTEM, f"{decision.reason_zh} / {decision.reason_en}")


def _refused(message: str) -> AlarmActionError:
    error = AlarmActionError(message)
    error.status = 422
    return error


def _person(by: str) -> str:
    """The name as stored and sent to the cloud: trimmed, and within the one limit both sides keep."""
    if not isinstance(by, str) or not by.strip():
        raise _refused("请填写您的姓名（操作人） / 'by' must name the person acting")
    by = by.strip()
    if by == SYSTEM:
        raise _refused(f"“{SYSTEM}”留给系统自动操作，请填写您的姓名 / '{SYSTEM}' is reserved for automatic "
                       "transitions: give your own name")
    if len(by) > MAX_PERSON_CHARS:
        raise _refused(f"操作人姓名至多 {MAX_PERSON_CHARS} 个字符（现为 {len(by)} 个）/ "
                       f"'by' has {len(by)} characters, at most {MAX_PERSON_CHARS}")
    return by


def _comment(comment: str | None) -> str | None:
    """Trimmed; a blank comment is no comment (the cloud takes none rather than a blank one)."""
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise _refused(f"备注至多 {MAX_COMMENT_CHARS} 个字符（现为 {len(text)} 个）/ "
                       f"'comment' has {len(text)} characters, at most {MAX_COMMENT_CHARS}")
    return text or None


class AlarmTextJson(TypedDict):
    zh: str
    en: str


class AlarmJson(TypedDict):
    """An alarm in JSON (``docs/alarms.md``)."""

    id: int
    workshop: str
    type: str
    severity: str
    state: str
    acked: bool
    latched: bool
    count: int
    tool: str | None
    tag: str | None
    station: str | None
    ts: int
    last_ts: int
    raised_at: int
    updated_at: int
    late: bool
    text: AlarmTextJson


def alarm_json(alarm: Alarm, workshop: str) -> AlarmJson:
    """The alarm as the API, MQTT ``alarm`` topic, console and cloud show it (``docs/alarms.md``)."""
    return {
        "id": alarm.id, "workshop": workshop, "type": alarm.type, "severity": alarm.severity,
        "state": alarm.state, "acked": alarm.acked, "latched": alarm.latched, "count": alarm.count,
        "tool": alarm.tool, "tag": alarm.tag, "station": alarm.station, "ts": alarm.ts,
        "last_ts": alarm.last_ts, "raised_at": alarm.raised_at, "updated_at": alarm.updated_at,
        "late": alarm.late, "text": {"zh": alarm.text_zh, "en": alarm.text_en},
    }
