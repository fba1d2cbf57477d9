"""The names of alarm types and severities: Chinese first, English second, a symbol per severity.

One table for every place that shows them (the gateway console and demo, the
dashboards, the cloud's pages and reports), so that a workshop owner and an
inspector read the same words. The terms follow the seed document: 定位存放
("kept at its fixed place") gives 未定位存放 for a tool put on another rack of
its own zone. Severities also carry a shape, so colour is never the only
signal. The console's JavaScript (``web/static/console.js``) keeps its own copy
of these words; ``tests/test_vocabulary.py`` checks that it says the same.
"""

from __future__ import annotations

# The workshop's alarm types (docs/alarms.md): these also reach the cloud.
ALARM_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "cross_zone": ("跨区放置", "cross-zone"),
    "cross_zone_wash": ("跨区清洗", "cross-zone wash"),
    "unwashed_return": ("未清洗归位", "unwashed return"),
    "overdue": ("超时未归还", "overdue"),
    "misplaced": ("未定位存放", "misplaced"),
    "unknown_tag": ("未登记标签", "unknown tag"),
    "station_offline": ("读卡站离线", "station offline"),
}

# The gateway's own alarms about its sinks (InfluxDB, the cloud); they stay local.
GATEWAY_ALARM_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "outbox_backlog": ("待发队列积压", "outbox backlog"),
    "sink_refused": ("接收方拒绝写入", "sink refused writes"),
}

# (zh, en, symbol): the symbol's shape tells the severity without its colour.
SEVERITY_NAMES: dict[str, tuple[str, str, str]] = {
    "critical": ("严重", "critical", "▲"),
    "major": ("重要", "major", "◆"),
    "minor": ("次要", "minor", "●"),
    "warning": ("提示", "warning", "○"),
}


def alarm_type_words(alarm_type: str) -> tuple[str, str]:
    """(zh, en) of any alarm type; an unknown one is shown as its id in both languages."""
    return ALARM_TYPE_NAMES.get(alarm_type) or GATEWAY_ALARM_TYPE_NAMES.get(alarm_type) or (alarm_type, alarm_type)
