"""What a dashboard shows instead of raw tag values: zone colours with their names and
shape symbols (colour is never the only signal), alarm types and severities in
Chinese first and English second. Everything comes from the domain model and the
alarm contract, so the dashboards follow the config's vocabulary."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard

from sebiao_common import alarms as vocabulary
from sebiao_common.domain import COLOR_CLASSES, KINDS, ColorClass
from sebiao_common.station_health import RESET_CAUSE_NAMES, UPDATE_STATE_NAMES

ALARM_TYPE_NAMES: dict[str, tuple[str, str]] = {**vocabulary.ALARM_TYPE_NAMES, **vocabulary.GATEWAY_ALARM_TYPE_NAMES}
SEVERITY_COLOURS = {"critical": "dark-red", "major": "orange", "minor": "yellow", "warning": "blue"}
SEVERITY_NAMES: dict[str, tuple[str, str, str]] = {  # symbol + zh, en, colour
    k: (f"{symbol} {zh}", en, SEVERITY_COLOURS[k]) for k, (zh, en, symbol) in vocabulary.SEVERITY_NAMES.items()}
STATION_KIND_NAMES = {"rack": ("器具架", "rack"), "sink": ("清洗池", "sink"), "disinfect": ("消毒设备", "disinfection")}
# A disinfection cycle's verdict (the ``passed`` tag) in words and a symbol; its method (``method``).
PASSED_NAMES = {"true": ("✓ 合格 passed", "green"), "false": ("✗ 未合格 failed", "red")}
METHOD_NAMES = {"cabinet": ("消毒柜", "cabinet"), "boiling": ("煮沸/蒸汽", "boiling or steam"),
                "dishwasher": ("洗碗机", "dishwasher"), "hot_wash": ("热水清洗池", "hot-wash sink")}
ONLINE_NAMES = {"1": ("● 在线 online", "green"), "0": ("✕ 离线 offline", "red")}


def zone_text(color: ColorClass) -> str:
    """``● 红色 red``: symbol, Chinese name, English name."""
    return f"{color.symbol} {color.zh} {color.en}"


def _result(text: str, color: str, index: int) -> dashboard.ValueMappingResult:
    return dashboard.ValueMappingResult(text=text, color=color, index=index)


def zone_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({c.key: _result(zone_text(c), c.hex, i) for i, c in enumerate(COLOR_CLASSES)})


def alarm_type_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(f"{zh} {en}", "text", i)
                               for i, (k, (zh, en)) in enumerate(ALARM_TYPE_NAMES.items())})


def severity_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(f"{zh} {en}", color, i)
                               for i, (k, (zh, en, color)) in enumerate(SEVERITY_NAMES.items())})


def station_kind_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(f"{zh} {en}", "text", i)
                               for i, (k, (zh, en)) in enumerate(STATION_KIND_NAMES.items())})


def online_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(text, color, i) for i, (k, (text, color)) in enumerate(ONLINE_NAMES.items())})


def tool_kind_mapping() -> dashboard.ValueMap:
    kinds = [k for k in KINDS.values() if k.key not in STATION_KIND_NAMES]  # "sink" reads the same either way
    return dashboard.ValueMap({k.key: _result(f"{k.zh} {k.en}", "text", i) for i, k in enumerate(kinds)})


def passed_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(text, color, i) for i, (k, (text, color)) in enumerate(PASSED_NAMES.items())})


def method_mapping() -> dashboard.ValueMap:
    return dashboard.ValueMap({k: _result(f"{zh} {en}", "text", i)
                               for i, (k, (zh, en)) in enumerate(METHOD_NAMES.items())})


def station_health_mappings() -> list[dashboard.ValueMapping]:
    """A station's reset causes and its last update's result, in words (the result with its symbol)."""
    colours = {"✓": "green", "✗": "red", "!": "orange", "…": "text"}
    return [dashboard.ValueMap({k: _result(f"{zh} {en}", "text", i)
                                for i, (k, (zh, en)) in enumerate(RESET_CAUSE_NAMES.items())}),
            dashboard.ValueMap({k: _result(f"{symbol} {zh} {en}", colours[symbol], i)
                                for i, (k, (zh, en, symbol)) in enumerate(UPDATE_STATE_NAMES.items())})]


def all_mappings() -> list[dashboard.ValueMapping]:
    """Every tag vocabulary at once: a table column of zones, kinds, types or severities reads in words."""
    return [zone_mapping(), alarm_type_mapping(), severity_mapping(), station_kind_mapping(), tool_kind_mapping(),
            passed_mapping(), method_mapping()]


Override = tuple[dashboard.MatcherConfig, list[dashboard.DynamicConfigValue]]


def _override(name: str, text: str, color: str | None = None) -> Override:
    properties = [dashboard.DynamicConfigValue(id_val="displayName", value=text)]
    if color:
        properties.append(dashboard.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color}))
    return dashboard.MatcherConfig(id_val="byName", options=name), properties


def series_overrides(alias: str | None) -> list[Override]:
    """Series named by a tag (alias ``$tag_zone`` or ``$tag_type``): the legend shows words and, for
    zones, the shape symbol; the zone's colour only adds to them."""
    if alias == "$tag_zone":
        return [_override(c.key, zone_text(c), c.hex) for c in COLOR_CLASSES]
    if alias == "$tag_type":
        return [_override(k, f"{zh} {en}") for k, (zh, en) in ALARM_TYPE_NAMES.items()]
    if alias == "$tag_passed":
        return [_override(k, text, color) for k, (text, color) in PASSED_NAMES.items()]
    return []
