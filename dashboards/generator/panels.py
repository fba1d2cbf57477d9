"""Panel helpers shared by the dashboards: the datasource, the district/workshop
variables and the filter they make, and one builder call per panel kind."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, statetimeline, table, timeseries
from grafana_foundation_sdk.models import common, dashboard

from dashboards.generator.influxql import InfluxQL
from dashboards.generator.vocabulary import (
    all_mappings,
    online_mapping,
    series_overrides,
)

DATASOURCE_UID = "sebiao-influxdb"
DATASOURCE = dashboard.DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
TIMEZONE = "Asia/Shanghai"

# The filter every panel's WHERE starts with; Grafana expands multi-value
# variables inside /^…$/ to an escaped alternation (a|b).
SCOPE = "\"district\" =~ /^$district$/ AND \"workshop\" =~ /^$workshop$/"
# ... and the dashboard's time range; RAISED adds "the point that marks an
# alarm's raising", so that each alarm counts once.
IN_RANGE = f"{SCOPE} AND $timeFilter"
RAISED = f"\"transition\" = 'raised' AND {IN_RANGE}"


def variables() -> list[db.QueryVariable]:
    """District, then the workshops of the chosen districts (from the tags InfluxDB holds)."""
    district = (db.QueryVariable("district").label("辖区 District").datasource(DATASOURCE)
                .query('SHOW TAG VALUES FROM "tool_event" WITH KEY = "district"')
                .multi(True).include_all(True).all_value(".*")
                .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dashboard.VariableSort.ALPHABETICAL_ASC))
    workshop = (db.QueryVariable("workshop").label("作坊 Workshop").datasource(DATASOURCE)
                .query('SHOW TAG VALUES FROM "tool_event" WITH KEY = "workshop" WHERE "district" =~ /^$district$/')
                .multi(True).include_all(True).all_value(".*")
                .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dashboard.VariableSort.ALPHABETICAL_ASC))
    return [district, workshop]


def new_dashboard(uid: str, title: str, description: str, tags: list[str]) -> db.Dashboard:
    return (db.Dashboard(title).uid(uid).description(description).tags(["sebiao", *tags])
            .timezone(TIMEZONE).week_start("monday").time("now-24h", "now").refresh("1m")
            .tooltip(dashboard.DashboardCursorSync.CROSSHAIR).variables(variables()))


def _query(sql: str, ref: str, table_format: bool, alias: str | None) -> InfluxQL:
    query = InfluxQL(sql).ref_id(ref).datasource(DATASOURCE)
    if table_format:
        query = query.table()
    if alias:
        query = query.alias(alias)
    return query


def stat_panel(title: str, description: str, sql: str, width: int = 6, unit: str = "short") -> stat.Panel:
    return (stat.Panel().title(title).description(description).datasource(DATASOURCE)
            .with_target(_query(sql, "A", False, None)).span(width).height(5).unit(unit)
            .reduce_options(cb.ReduceDataOptions().calcs(["sum"]).values(False))
            .graph_mode(common.BigValueGraphMode.NONE).no_value("0"))


def table_panel(title: str, description: str, sql: str | list[str], width: int = 12, height: int = 8,
                join_on: str | None = None) -> table.Panel:
    """A table of one query, or of several joined on a tag column (``join_on``)."""
    queries = [sql] if isinstance(sql, str) else sql
    panel = (table.Panel().title(title).description(description).datasource(DATASOURCE)
             .span(width).height(height).mappings(all_mappings()))
    for i, one in enumerate(queries):
        panel = panel.with_target(_query(one, chr(ord("A") + i), True, None))
    if join_on:
        panel = panel.with_transformation(dashboard.DataTransformerConfig(
            id_val="joinByField", options={"byField": join_on, "mode": "outer"}))
    return panel


def timeseries_panel(title: str, description: str, sql: str, alias: str | None = None, width: int = 12,
                     bars: bool = False, unit: str = "short") -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
             .with_target(_query(sql, "A", False, alias)).span(width).height(8).unit(unit)
             .legend(cb.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.TABLE)
                     .placement(common.LegendPlacement.RIGHT).calcs(["sum"])))
    if bars:
        panel = (panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80)
                 .stacking(cb.StackingConfig().mode(common.StackingMode.NORMAL)))
    for matcher, properties in series_overrides(alias):
        panel = panel.with_override(matcher, properties)
    return panel


def state_panel(title: str, description: str, sql: str, alias: str, width: int = 24) -> statetimeline.Panel:
    return (statetimeline.Panel().title(title).description(description).datasource(DATASOURCE)
            .with_target(_query(sql, "A", False, alias)).span(width).height(8)
            .mappings([online_mapping()]).merge_values(True).show_value(common.VisibilityMode.AUTO))


def row(title: str) -> db.Row:
    return db.Row(title)
