"""辖区总览 District overview: the inspectors' view of many workshops, by district and workshop."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import IN_RANGE, RAISED, TIMEZONE, new_dashboard, table_panel, timeseries_panel

UID = "sebiao-district"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "辖区总览 District overview",
                          "监管人员视图：各作坊的报警、跨区事件、清洗与读卡站在线率 / for inspectors: each "
                          "workshop's alarms, cross-zone incidents, washes and station uptime", ["district"])
            .with_panel(table_panel(
                "作坊一览 Workshops", "每个作坊一行 / one row per workshop",
                [f"SELECT count(\"alarm_id\") AS \"报警 alarms\" FROM \"alarm\" WHERE {RAISED} GROUP BY \"workshop\"",
                 f"SELECT count(\"alarm_id\") AS \"跨区 cross-zone\" FROM \"alarm\" WHERE \"type\" =~ /^cross_zone/ "
                 f"AND {RAISED} GROUP BY \"workshop\"",
                 f"SELECT count(\"seq\") AS \"清洗 washes\" FROM \"tool_event\" WHERE \"station_kind\" = 'sink' "
                 f"AND \"action\" = 'placed' AND {IN_RANGE} GROUP BY \"workshop\"",
                 f"SELECT mean(\"online\") * 100 AS \"在线率 % uptime\" FROM \"station_status\" "
                 f"WHERE \"report\" = 'snapshot' AND {IN_RANGE} GROUP BY \"workshop\""],
                width=24, join_on="workshop"))
            .with_panel(timeseries_panel(
                "每日报警（按作坊） Alarms per day by workshop", "按当地日期 / per local day",
                f"SELECT count(\"alarm_id\") FROM \"alarm\" WHERE {RAISED} "
                f"GROUP BY time(1d), \"workshop\" fill(none) tz('{TIMEZONE}')", alias="$tag_workshop", bars=True))
            .with_panel(timeseries_panel(
                "每周跨区事件（按作坊） Cross-zone incidents per week", "周一开始的当地周 / local weeks from Monday",
                f"SELECT count(\"alarm_id\") FROM \"alarm\" WHERE \"type\" =~ /^cross_zone/ AND {RAISED} "
                f"GROUP BY time(1w, 4d), \"workshop\" fill(none) tz('{TIMEZONE}')", alias="$tag_workshop", bars=True))
            .with_panel(table_panel(
                "严重报警 Critical alarms", "生料器具到了熟食区等最坏情况，附证据 / the worst cases, such as a raw "
                "tool in the cooked-food zone, with the evidence",
                'SELECT "workshop", "type", "transition", "zone", "station", "tool", "text_zh", "text_en" '
                f"FROM \"alarm\" WHERE \"severity\" = 'critical' AND {IN_RANGE} ORDER BY time DESC LIMIT 200",
                width=24))
            # the cloud's own gauges (cloud_ingest/gauges.py): the figures of the cloud's /overview page
            .with_panel(table_panel(
                "数据新鲜度、问题台账与等级 Freshness, ledger and grade",
                "云端每次检查写入的最新值；数据中断=1 表示超过设定时间未收到数据 / the cloud's newest gauges; "
                "interrupted = 1: no data for longer than the configured time",
                f"SELECT last(\"last_data_age_s\") / 60 AS \"距最后上报（分钟） minutes since last data\", "
                f"last(\"silent\") AS \"数据中断 interrupted\", last(\"ledger_open\") AS \"未销号 open items\", "
                f"last(\"ledger_overdue\") AS \"逾期 overdue items\", "
                f"last(\"grade_rank\") AS \"等级 1金…4橙 grade\", last(\"marked_pct\") AS \"色标进度 % marked\", "
                f"last(\"alarms_7d_per_day\") AS \"7 天日均告警 alarms/day 7d\", "
                f"last(\"alarms_30d_per_day\") AS \"30 天日均告警 alarms/day 30d\" "
                f"FROM \"workshop_overview\" WHERE {IN_RANGE} GROUP BY \"workshop\"", width=24))
            .with_panel(timeseries_panel(
                "数据中断与逾期问题 Interrupted data and overdue items", "按作坊 / by workshop",
                "SELECT max(\"silent\") AS \"数据中断 silent\", max(\"ledger_overdue\") AS \"逾期 overdue\" "
                f"FROM \"workshop_overview\" WHERE {IN_RANGE} "
                f"GROUP BY time($__interval), \"workshop\" fill(none)", alias="$tag_workshop $col")))
