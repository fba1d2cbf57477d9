"""The dashboards sebiao ships, in the order they are listed and provisioned."""

from __future__ import annotations

from typing import Callable

from grafana_foundation_sdk.builders import dashboard as db

from dashboards.generator import alarms, district, stations, workshop, zones

# file stem -> builder
DASHBOARDS: dict[str, Callable[[], db.Dashboard]] = {
    "workshop-overview": workshop.build,
    "zone-compliance": zones.build,
    "alarms": alarms.build,
    "station-health": stations.build,
    "district-overview": district.build,
}
