"""读卡站状态 Station health: are the readers online, heard, and reading the labels?"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import IN_RANGE, RAISED, new_dashboard, state_panel, table_panel, timeseries_panel

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
                'GROUP BY "workshop", "station"')))
