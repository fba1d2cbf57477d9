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
                width=24)))
