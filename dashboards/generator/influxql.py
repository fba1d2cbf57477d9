"""An InfluxQL query target for Grafana's InfluxDB datasource, as a foundation-SDK dataquery.

The SDK ships builders for Prometheus, Loki and others but none for InfluxDB:
this module supplies the variant (``InfluxQLQuery``) and its builder
(``InfluxQL``), so panels take it through the SDK's own ``with_target``.
The query is a raw InfluxQL string (``rawQuery: true``), which InfluxDB 1.x,
2.x (through a DBRP mapping) and 3.x all answer over ``/query``.
"""

from __future__ import annotations

import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

ResultFormat = typing.Literal["time_series", "table"]


class InfluxQLQuery(cogvariants.Dataquery):
    def __init__(self) -> None:
        self.ref_id = "A"
        self.query = ""
        self.result_format: ResultFormat = "time_series"
        self.alias: str | None = None
        self.datasource: dashboard.DataSourceRef | None = None

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {"refId": self.ref_id}
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        payload["query"] = self.query
        payload["rawQuery"] = True
        payload["resultFormat"] = self.result_format
        if self.alias:
            payload["alias"] = self.alias
        return payload


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """``InfluxQL("SELECT ...").ref_id("A").table()``"""

    def __init__(self, query: str) -> None:
        self._internal = InfluxQLQuery()
        self._internal.query = query

    def build(self) -> InfluxQLQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        self._internal.ref_id = ref_id
        return self

    def datasource(self, datasource: dashboard.DataSourceRef) -> typing.Self:
        self._internal.datasource = datasource
        return self

    def table(self) -> typing.Self:
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> typing.Self:
        """Series name, e.g. ``$tag_zone``: overrides then match it by name."""
        self._internal.alias = alias
        return self
