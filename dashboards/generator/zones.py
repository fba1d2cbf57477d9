"""分区合规 Zone compliance: are tools washed in their own zone's sink and kept in their zone?"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import IN_RANGE, RAISED, TIMEZONE, new_dashboard, table_panel, timeseries_panel

UID = "sebiao-zones"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "分区合规 Zone compliance",
                          "分区管理、定位存放、分类使用：清洗、在位与跨区 / zoned, fixed place, by category: "
                          "washes, tools in place, cross-zone use", ["zones"])
            .with_panel(timeseries_panel(
                "每日清洗（按区） Washes per zone per day", "器具放入本区清洗池的次数，按当地日期 / tools placed "
                "at a sink, per local day",
                f"SELECT count(\"seq\") FROM \"tool_event\" WHERE \"station_kind\" = 'sink' AND \"action\" = 'placed' "
                f"AND {IN_RANGE} GROUP BY time(1d), \"zone\" fill(none) tz('{TIMEZONE}')",
                alias="$tag_zone", bars=True))
            .with_panel(timeseries_panel(
                "取出的工具（按区） Tools out per zone", "各作坊最新汇总之和 / the sum of the workshops' latest "
                "summaries",
                'SELECT sum("out") FROM (SELECT last("out") AS "out" FROM "zone_summary" '
                f'WHERE {IN_RANGE} GROUP BY time($__interval), "workshop", "zone") '
                'GROUP BY time($__interval), "zone" fill(none)',
                alias="$tag_zone"))
            .with_panel(table_panel(
                "工具在位率 Tools in place", "最新汇总：架上工具占本区工具的百分比 / the latest summary: the share "
                "of each zone's tools on their racks",
                'SELECT last("on_rack") * 100 / last("tools") AS "在位率 % in place", last("tools") AS "工具 tools" '
                f'FROM "zone_summary" WHERE {IN_RANGE} GROUP BY "workshop", "zone"', width=8))
            .with_panel(table_panel(
                "跨区事件 Cross-zone incidents", "工具颜色与所到的区 / the tool's colour and the zone it reached",
                f"SELECT count(\"alarm_id\") AS \"次数 count\" FROM \"alarm\" WHERE \"type\" =~ /^cross_zone/ AND {RAISED} "
                "GROUP BY \"tool_color\", \"zone\", \"type\"", width=8))
            .with_panel(table_panel(
                "未清洗归位 Unwashed returns", "使用后未经本区清洗池就放回 / returned without a wash at a sink "
                "of its colour",
                f"SELECT count(\"alarm_id\") AS \"次数 count\" FROM \"alarm\" WHERE \"type\" = 'unwashed_return' "
                f"AND {RAISED} GROUP BY \"zone\", \"tool_kind\"", width=8)))
