"""A notice's title and markdown for the WeCom and DingTalk robots, Chinese first (the webhook gets the notice's
JSON itself; ``docs/notify.md`` has its schema).

Three shapes of notice: one alarm transition (``alarm`` set), a test message (``alarm`` null, ``test`` true) and
the cloud's daily digest (``digest`` set: a title and lines). The severity is always named and shaped, never only
coloured. ``console_url`` (the gateway's console) and ``alarm_url`` (the alarm's page in the cloud) become links.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

ACTION_WORDS = {"raised": ("新告警", "raised"), "cleared": ("已解除", "cleared"),
                "acknowledged": ("已确认", "acknowledged"), "test": ("测试消息", "test message")}


def local_time(at_ms: int, zone: tzinfo | None) -> datetime:
    """``at_ms`` in the given time zone (the machine's when none is configured)."""
    moment = datetime.fromtimestamp(at_ms / 1000).astimezone()
    return moment.astimezone(zone) if zone is not None else moment


def title(notice: dict[str, Any]) -> str:
    """One line: what happened where (the robot's title and the phone's preview)."""
    if notice.get("digest"):
        return f"【色标】{notice['digest']['title']}"
    action_zh, _ = ACTION_WORDS.get(notice["transition"]["action"], ("告警", "alarm"))
    alarm = notice["alarm"]
    if alarm is None:
        return f"【色标】{notice['workshop']['name']} {action_zh}"
    sev = alarm["severity_name"]
    return f"【色标】{sev['shape']}{sev['zh']} {alarm['type_name']['zh']} {action_zh}"


def markdown(notice: dict[str, Any], wecom: bool) -> str:
    """The robots' markdown, Chinese first; the severity is named and shaped, never only coloured."""
    if notice.get("digest"):
        return "\n".join([f"### {title(notice)}", *notice["digest"]["lines"]])
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
    if notice.get("alarm_url"):
        lines.append(f"\n[查看告警 / open the alarm]({notice['alarm_url']})")
    if notice.get("console_url"):
        lines.append(f"\n[打开控制台 / open the console]({notice['console_url']})")
    return "\n".join(lines)
