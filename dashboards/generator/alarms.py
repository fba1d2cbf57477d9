"""报警 Alarms: what went wrong, how often, and what was done about it."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator.panels import IN_RANGE, RAISED, TIMEZONE, new_dashboard, table_panel, timeseries_panel

UID = "sebiao-alarms"


def build() -> db.Dashboard:
    return (new_dashboard(UID, "报警 Alarms", "报警的类型、严重程度、证据与处置 / alarm types, severities, "
                          "evidence and corrective actions", ["alarms"])
            .with_panel(timeseries_panel(
                "每日报警（按类型） Alarms per day by type", "按当地日期 / per local day",
                f"SELECT count(\"alarm_id\") FROM \"alarm\" WHERE {RAISED} "
                f"GROUP BY time(1d), \"type\" fill(none) tz('{TIMEZONE}')", alias="$tag_type", bars=True))
            .with_panel(timeseries_panel(
                "每周跨区事件 Cross-zone incidents per week", "周一开始的当地周 / local weeks from Monday",
                f"SELECT count(\"alarm_id\") AS \"跨区 cross-zone\" FROM \"alarm\" WHERE \"type\" =~ /^cross_zone/ "
                f"AND {RAISED} GROUP BY time(1w, 4d) fill(none) tz('{TIMEZONE}')", bars=True))
            .with_panel(timeseries_panel(
                "每日未消毒归位 Undisinfected returns per day",
                "使用后未经合格的消毒周期就放回 / tools back on their rack without a passing disinfection cycle",
                f"SELECT count(\"alarm_id\") AS \"未消毒归位 undisinfected\" FROM \"alarm\" "
                f"WHERE \"type\" = 'undisinfected_return' AND {RAISED} GROUP BY time(1d) fill(none) tz('{TIMEZONE}')",
                bars=True))
            .with_panel(table_panel(
                "报警（按严重程度与类型） Alarms by severity and type", "新产生的报警 / alarms raised",
                f"SELECT count(\"alarm_id\") AS \"次数 count\" FROM \"alarm\" WHERE {RAISED} "
                "GROUP BY \"severity\", \"type\"", width=8))
            .with_panel(table_panel(
                "最近的报警 Latest alarm transitions", "每次产生、重复、确认与解除，附中英文说明 / every raise, "
                "repeat, acknowledgement and clear, with its text",
                'SELECT "severity", "type", "transition", "zone", "station", "tool", "text_zh", "text_en" '
                f'FROM "alarm" WHERE {IN_RANGE} ORDER BY time DESC LIMIT 200', width=16))
            .with_panel(table_panel(
                "处置记录 Corrective actions", "谁确认或解除了报警，写了什么 / who acknowledged or cleared an alarm, "
                "and the corrective action",
                'SELECT "alarm_id", "type", "transition", "by", "comment" FROM "alarm" '
                f"WHERE (\"transition\" = 'acknowledged' OR \"transition\" = 'cleared') AND {IN_RANGE} "
                "ORDER BY time DESC LIMIT 200", width=24)))
