"""The notice of one alarm transition: the generic webhook's JSON (``docs/notify.md`` has its schema), made once
when the transition is committed, and its markdown for the WeCom and DingTalk robots, Chinese first.

The notice's ``id`` (``{workshop}:{history id}``) names the transition for good: a receiver that sees an id twice
(only after a crash between the robot's answer and the gateway's mark) can drop the second.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.alarms import SEVERITY_NAMES, alarm_type_words

SCHEMA = 1
ACTION_WORDS = {"raised": ("新告警", "raised"), "cleared": ("已解除", "cleared"),
                "acknowledged": ("已确认", "acknowledged"), "test": ("测试消息", "test message")}


def local_time(at_ms: int, zone: tzinfo | None) -> datetime:
    """``at_ms`` in the workshop's time zone (the machine's when none is configured)."""
    moment = datetime.fromtimestamp(at_ms / 1000).astimezone()
    return moment.astimezone(zone) if zone is not None else moment


class Notices:
    def __init__(self, config: WorkshopConfig, console_url: str | None, zone: tzinfo | None) -> None:
        self.workshop = {"id": config.workshop.id, "name": config.workshop.name}
        self.stations = {s.id: s.name or s.id for s in config.stations}
        self.console_url, self.zone = console_url, zone

    def of(self, alarm: Alarm, entry: HistoryEntry, history_id: int) -> dict[str, Any]:
        zh, en = alarm_type_words(alarm.type)
        sev_zh, sev_en, shape = SEVERITY_NAMES.get(alarm.severity, (alarm.severity, alarm.severity, "○"))
        station = ({"id": alarm.station, "name": self.stations.get(alarm.station, alarm.station)}
                   if alarm.station else None)
        return {
            "schema": SCHEMA, "id": f"{self.workshop['id']}:{history_id}", "test": False,
            "workshop": dict(self.workshop),
            "alarm": {"id": alarm.id, "type": alarm.type, "type_name": {"zh": zh, "en": en},
                      "severity": alarm.severity, "severity_name": {"zh": sev_zh, "en": sev_en, "shape": shape},
                      "state": alarm.state, "acked": alarm.acked, "subject": alarm.subject, "tool": alarm.tool,
                      "tag": alarm.tag, "station": station, "count": alarm.count, "first_ts": alarm.ts,
                      "text": {"zh": alarm.text_zh, "en": alarm.text_en}},
            "transition": {"history_id": history_id, "action": entry.action, "at": entry.at,
                           "at_local": local_time(entry.at, self.zone).isoformat(timespec="seconds"),
                           "by": entry.by, "comment": entry.comment},
            "console_url": self.console_url,
        }

    def test(self, channel: str, at: int) -> dict[str, Any]:
        """The message of ``sebiao notify test``: the same schema, ``test: true``, no alarm."""
        return {"schema": SCHEMA, "id": f"{self.workshop['id']}:test:{at}", "test": True,
                "workshop": dict(self.workshop), "alarm": None,
                "transition": {"history_id": None, "action": "test", "at": at,
                               "at_local": local_time(at, self.zone).isoformat(timespec="seconds"),
                               "by": "sebiao notify test", "comment": f"channel {channel}"},
                "console_url": self.console_url}


def title(notice: dict[str, Any]) -> str:
    """One line: what happened where (the robot's title and the phone's preview)."""
    action_zh, _ = ACTION_WORDS.get(notice["transition"]["action"], ("告警", "alarm"))
    alarm = notice["alarm"]
    if alarm is None:
        return f"【色标】{notice['workshop']['name']} {action_zh}"
    sev = alarm["severity_name"]
    return f"【色标】{sev['shape']}{sev['zh']} {alarm['type_name']['zh']} {action_zh}"


def markdown(notice: dict[str, Any], wecom: bool) -> str:
    """The robots' markdown, Chinese first; the severity is named and shaped, never only coloured."""
    transition, alarm = notice["transition"], notice["alarm"]
    action_zh, action_en = ACTION_WORDS.get(transition["action"], (transition["action"], transition["action"]))
    when = transition["at_local"].replace("T", " ")
    lines = [f"### {title(notice)}"]
    if alarm is None:
        lines += [f"色标告警推送已接通 / sebiao alarm notifications reach this group ({transition['comment']})",
                  f"> 作坊 / workshop: {notice['workshop']['name']}", f"> 时间 / time: {when}"]
    else:
        sev = alarm["severity_name"]
        level = f"{sev['shape']} {sev['zh']} / {sev['en']}"
        if wecom:  # WeCom's markdown colours a font tag; the name and the shape carry the meaning too
            level = f'<font color="{"warning" if alarm["severity"] in ("critical", "major") else "comment"}">' \
                    f"{level}</font>"
        lines += [f"**{alarm['text']['zh']}**", alarm["text"]["en"], "",
                  f"> 类型 / type: {alarm['type_name']['zh']} / {alarm['type_name']['en']}",
                  f"> 级别 / severity: {level}", f"> 状态 / transition: {action_zh} / {action_en}",
                  f"> 作坊 / workshop: {notice['workshop']['name']}"]
        if alarm["station"]:
            lines.append(f"> 位置 / station: {alarm['station']['name']}")
        lines.append(f"> 时间 / time: {when}")
        if transition["action"] != "raised" and transition["by"]:
            lines.append(f"> 操作人 / by: {transition['by']}")
        if transition["comment"]:
            lines.append(f"> 说明 / comment: {transition['comment'][:500]}")
    if notice["console_url"]:
        lines.append(f"\n[打开控制台 / open the console]({notice['console_url']})")
    return "\n".join(lines)
