"""Alarm types and severities: their ids (one place) and their names, Chinese first, English second.

One table for every place that shows them (the gateway console and demo, the
dashboards, the cloud's pages and reports), so that a workshop owner and an
inspector read the same words. The terms follow the seed document: 定位存放
("kept at its fixed place") gives 未定位存放 for a tool put on another rack of
its own zone. Severities also carry a shape, so colour is never the only
signal. The console's JavaScript (``web/static/console.js``) keeps its own copy
of these words; ``tests/common/test_vocabulary.py`` checks that it says the same.
"""

from __future__ import annotations

from enum import StrEnum


class AlarmType(StrEnum):
    """The workshop's alarm types (``docs/alarms.md``); these also reach the cloud."""

    CROSS_ZONE = "cross_zone"
    CROSS_ZONE_WASH = "cross_zone_wash"
    UNWASHED_RETURN = "unwashed_return"
    UNDISINFECTED_RETURN = "undisinfected_return"
    OVERDUE = "overdue"
    MISPLACED = "misplaced"
    UNKNOWN_TAG = "unknown_tag"
    STATION_OFFLINE = "station_offline"
    STATION_CLOCK = "station_clock"
    ROLL_CALL = "roll_call"
    STATION_RESETS = "station_resets"
    READER_FAULT = "reader_fault"


class GatewayAlarmType(StrEnum):
    """The gateway's own alarms about itself: its sinks (InfluxDB, the cloud), its store, its intake. They stay
    local: the cloud is sent the workshop's alarm types only."""

    OUTBOX_BACKLOG = "outbox_backlog"
    SINK_REFUSED = "sink_refused"
    STORE_FAILED = "store_failed"
    STATION_FLOOD = "station_flood"
    NOTIFY_FAILED = "notify_failed"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


# What a person writes on an alarm transition (acknowledge, clear). The gateway refuses more, and the
# cloud's batch check takes the same numbers, so a transition the gateway stored always reaches the cloud.
MAX_PERSON_CHARS = 64  # ``by``: who acknowledged or cleared (the cloud's column is 64 wide)
MAX_COMMENT_CHARS = 4000  # ``comment``: the corrective action

# The ids as plain tuples, in the documented order (config validation, the cloud's batch checks).
ALARM_TYPES: tuple[str, ...] = tuple(t.value for t in AlarmType)
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)

# The workshop's alarm types (docs/alarms.md): these also reach the cloud.
ALARM_TYPE_NAMES: dict[str, tuple[str, str]] = {
    AlarmType.CROSS_ZONE: ("跨区放置", "cross-zone"),
    AlarmType.CROSS_ZONE_WASH: ("跨区清洗", "cross-zone wash"),
    AlarmType.UNWASHED_RETURN: ("未清洗归位", "unwashed return"),
    AlarmType.UNDISINFECTED_RETURN: ("未消毒归位", "undisinfected return"),
    AlarmType.OVERDUE: ("超时未归还", "overdue"),
    AlarmType.MISPLACED: ("未定位存放", "misplaced"),
    AlarmType.UNKNOWN_TAG: ("未登记标签", "unknown tag"),
    AlarmType.STATION_OFFLINE: ("读卡站离线", "station offline"),
    AlarmType.STATION_CLOCK: ("读卡站时钟错误", "station clock wrong"),
    AlarmType.ROLL_CALL: ("收工点检未通过", "closing roll call"),
    AlarmType.STATION_RESETS: ("读卡站反复重启", "station keeps resetting"),
    AlarmType.READER_FAULT: ("读卡器故障", "reader fault"),
}

# The gateway's own alarms about itself; they stay local.
GATEWAY_ALARM_TYPE_NAMES: dict[str, tuple[str, str]] = {
    GatewayAlarmType.OUTBOX_BACKLOG: ("待发队列积压", "outbox backlog"),
    GatewayAlarmType.SINK_REFUSED: ("接收方拒绝写入", "sink refused writes"),
    GatewayAlarmType.STORE_FAILED: ("本地存储写入失败", "store writes failing"),
    GatewayAlarmType.STATION_FLOOD: ("读卡站消息过多", "station flooding"),
    GatewayAlarmType.NOTIFY_FAILED: ("告警推送失败", "alarm notifications failing"),
}

# (zh, en, symbol): the symbol's shape tells the severity without its colour.
SEVERITY_NAMES: dict[str, tuple[str, str, str]] = {
    Severity.CRITICAL: ("严重", "critical", "▲"),
    Severity.MAJOR: ("重要", "major", "◆"),
    Severity.MINOR: ("次要", "minor", "●"),
    Severity.WARNING: ("提示", "warning", "○"),
}


def alarm_type_words(alarm_type: str) -> tuple[str, str]:
    """(zh, en) of any alarm type; an unknown one is shown as its id in both languages."""
    return ALARM_TYPE_NAMES.get(alarm_type) or GATEWAY_ALARM_TYPE_NAMES.get(alarm_type) or (alarm_type, alarm_type)
