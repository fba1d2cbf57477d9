"""作坊总览 Workshop overview: the day of one workshop (or several) at a glance."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import (
    IN_RANGE,
    RAISED,
    TIMEZONE,
    new_dashboard,
    stat_panel,
    table_panel,
    timeseries_panel,
)

UID = "sebiao-workshop"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "作坊总览 Workshop overview",
                          "工具取放、清洗、报警与当前取出的工具 / tool moves, washes, alarms and the tools out now",
                          ["workshop"])
            .with_panel(stat_panel("工具取放 Tool moves", "站点上报的取下与放回次数 / removals and placements",
                                   f'SELECT count("seq") FROM "tool_event" WHERE {IN_RANGE}'))
            .with_panel(stat_panel("清洗池放入 Sink visits", "器具放入清洗池的次数，不论停留多久（真正的清洗见现场屏）"
                                   " / tools placed at a sink, however briefly (the display counts real washes)",
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
                alias="$tag_zone", bars=True))
            .with_panel(timeseries_panel(
                "每日消毒周期 Disinfection cycles per day",
                "带温度探头的消毒设备与清洗池的周期，合格与未合格 / cycles of probed stations, passed and failed",
                f'SELECT count("hold_s") FROM "disinfection_cycle" WHERE {IN_RANGE} '
                f"GROUP BY time(1d), \"passed\" fill(none) tz('{TIMEZONE}')", alias="$tag_passed", bars=True))
            .with_panel(table_panel(
                "最近的消毒周期 Latest disinfection cycles",
                "最高温度、保持时间与要求、结果和周期内器具数 / the highest temperature, the hold against the "
                "requirement, the verdict and the tools in it",
                'SELECT "station", "method", "passed", "max_temp_c" AS "最高 max °C", "hold_s" AS "保持 held s", '
                '"required_temp_c" AS "要求 °C", "required_hold_s" AS "要求 s", "tools" AS "器具 tools" '
                f'FROM "disinfection_cycle" WHERE {IN_RANGE} ORDER BY time DESC LIMIT 100')))
