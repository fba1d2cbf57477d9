"""读卡站状态 Station health: are the readers online, heard, and reading the labels? Which firmware and settings do
they run, how did their last update end, do they keep resetting, is their reader failing, is their heap shrinking?"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import table

from dashboards.generator.panels import IN_RANGE, RAISED, new_dashboard, state_panel, table_panel, timeseries_panel
from dashboards.generator.vocabulary import all_mappings, station_health_mappings

UID = "sebiao-stations"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "读卡站状态 Station health",
                          "读卡站在线、信号、缓存、延迟与标签健康 / reader stations: online, signal, buffer, delay "
                          "and label health", ["stations"])
            .with_panel(state_panel(
                "在线状态 Online", "状态消息与定时快照 / status messages and periodic snapshots",
                f'SELECT last("online") FROM "station_status" WHERE {IN_RANGE} '
                'GROUP BY time($__interval), "station" fill(previous)', alias="$tag_station"))
            .with_panel(table_panel(
                "在线率 Uptime", "定时快照中在线的百分比 / the share of periodic snapshots online",
                'SELECT mean("online") * 100 AS "在线率 % uptime" FROM "station_status" '
                f"WHERE \"report\" = 'snapshot' AND {IN_RANGE} GROUP BY \"workshop\", \"station\", \"station_kind\", \"zone\""))
            .with_panel(table_panel(
                "事件延迟 Event delay", "网关收到时间减去事件时间 / gateway receipt minus event time",
                'SELECT count("seq") AS "事件 events", mean("delay_ms") AS "平均 mean ms", '
                f'max("delay_ms") AS "最大 max ms" FROM "tool_event" WHERE {IN_RANGE} GROUP BY "workshop", "station"'))
            .with_panel(timeseries_panel(
                "信号强度 Wi-Fi signal", "读卡站上报的 RSSI / the RSSI the stations report",
                f'SELECT mean("rssi") FROM "station_status" WHERE {IN_RANGE} '
                'GROUP BY time($__interval), "station" fill(none)', alias="$tag_station", unit="dBm"))
            .with_panel(timeseries_panel(
                "站内缓存 Buffered events", "读卡站未送出的事件 / events waiting in the station",
                f'SELECT max("buffer_depth") FROM "station_status" WHERE {IN_RANGE} '
                'GROUP BY time($__interval), "station" fill(none)', alias="$tag_station"))
            .with_panel(table_panel(
                "未登记标签 Unknown tags read", "读到没有登记的标签：新器具或标签损坏 / a tag no tool has: a new "
                "tool or a damaged label",
                'SELECT count("tag_uid") AS "读数 reads", last("tag_uid") AS "最近的标签 last tag" FROM "tool_event" '
                f"WHERE \"tool_kind\" = '' AND {IN_RANGE} GROUP BY \"workshop\", \"station\", \"zone\""))
            .with_panel(table_panel(
                "读卡站离线报警 Station offline alarms", "读卡站断开或长时间无消息 / disconnected or not heard from",
                'SELECT count("alarm_id") AS "次数 count" FROM "alarm" '
                f"WHERE \"type\" = 'station_offline' AND {RAISED} "
                'GROUP BY "workshop", "station"'))
            .with_panel(_health_table(
                "固件与参数版本 Firmware and settings", "每个读卡站最近一次状态上报的固件版本、参数版本与运行时长 / each "
                "station's firmware and settings version and uptime, from its newest status",
                'SELECT last("fw") AS "固件 firmware", last("settings") AS "参数 settings", '
                'last("uptime_s") / 3600 AS "运行小时 uptime h" FROM "station_status" '
                f"WHERE \"report\" = 'status' AND {IN_RANGE} GROUP BY \"workshop\", \"station\""))
            .with_panel(_health_table(
                "最近一次更新 Last update", "读卡站上报的最近一次固件更新：版本、结果与原因 / the last firmware update "
                "each station reports: version, result and why",
                'SELECT last("update_version") AS "版本 version", last("update_state") AS "结果 result", '
                'last("update_error") AS "原因 error" FROM "station_status" '
                f"WHERE \"report\" = 'status' AND {IN_RANGE} GROUP BY \"workshop\", \"station\""))
            .with_panel(_health_table(
                "重启次数（按原因） Resets by cause", "网关看到的每次重新启动及其原因 / every boot the gateway saw, by "
                "its reset cause",
                'SELECT sum("resets") AS "次数 resets", last("fw") AS "固件 firmware" FROM "station_boot" '
                f'WHERE {IN_RANGE} GROUP BY "workshop", "station", "reset_cause"'))
            .with_panel(table_panel(
                "读卡站健康报警 Station health alarms", "反复重启与读卡器故障 / a station that keeps resetting, a reader "
                "that fails",
                'SELECT count("alarm_id") AS "次数 count" FROM "alarm" '
                f"WHERE \"type\" =~ /^(station_resets|reader_fault)$/ AND {RAISED} "
                'GROUP BY "workshop", "station", "type"'))
            .with_panel(timeseries_panel(
                "读卡错误 Reader errors", "读卡器上报的射频错误与芯片故障累计 / RF errors and chip faults the reader "
                "counted since its boot",
                f'SELECT max("reader_errors") FROM "station_status" WHERE {IN_RANGE} '
                'GROUP BY time($__interval), "station" fill(none)', alias="$tag_station"))
            .with_panel(timeseries_panel(
                "剩余内存 Free heap", "读卡站的剩余内存：持续下降说明内存泄漏 / the station's free heap: a steady fall "
                "is a leak",
                f'SELECT min("heap_free") FROM "station_status" WHERE {IN_RANGE} '
                'GROUP BY time($__interval), "station" fill(none)', alias="$tag_station", unit="bytes")))


def _health_table(title: str, description: str, sql: str) -> table.Panel:
    """A table whose reset causes and update results read in words."""
    return table_panel(title, description, sql).mappings(all_mappings() + station_health_mappings())
