"""作坊总览 Workshop overview: the day of one workshop (or several) at a glance."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import IN_RANGE, RAISED, new_dashboard, stat_panel, table_panel, timeseries_panel

UID = "sebiao-workshop"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "作坊总览 Workshop overview",
                          "工具取放、清洗、报警与当前取出的工具 / tool moves, washes, alarms and the tools out now",
                          ["workshop"])
            .with_panel(stat_panel("工具取放 Tool moves", "站点上报的取下与放回次数 / removals and placements",
                                   f'SELECT count("seq") FROM "tool_event" WHERE {IN_RANGE}'))
            .with_panel(stat_panel("清洗次数 Washes", "器具放入清洗池的次数 / tools placed at a sink",
                                   f"SELECT count(\"seq\") FROM \"tool_event\" WHERE \"station_kind\" = 'sink' "
                                   f"AND \"action\" = 'placed' AND {IN_RANGE}"))
            .with_panel(stat_panel("报警 Alarms raised", "新产生的报警 / alarms raised",
                                   f"SELECT count(\"alarm_id\") FROM \"alarm\" WHERE {RAISED}"))
            .with_panel(stat_panel("跨区事件 Cross-zone incidents",
                                   "器具到了别的颜色区的器具架或清洗池 / a tool at a rack or sink of another colour",
                                   f"SELECT count(\"alarm_id\") FROM \"alarm\" WHERE \"transition\" = 'raised' "
                                   f"AND \"type\" =~ /^cross_zone/ AND {IN_RANGE}"))
            .with_panel(table_panel(
                "当前取出的工具 Tools out now",
                "每个颜色区最新的汇总：架上、取出、清洗中 / the latest summary per zone: on rack, out, at a sink",
                'SELECT last("on_rack") AS "架上 on rack", last("out") AS "取出 out", '
                'last("at_sink") AS "清洗中 at sink", last("out_tools") AS "取出的工具 tools out" '
                f'FROM "zone_summary" WHERE {IN_RANGE} GROUP BY "workshop", "zone"'))
            .with_panel(timeseries_panel(
                "工具取放（按区） Tool moves by zone", "每个颜色区的取放次数 / removals and placements per zone",
                f'SELECT count("seq") FROM "tool_event" WHERE {IN_RANGE} GROUP BY time($__interval), "zone" fill(none)',
                alias="$tag_zone", bars=True)))
