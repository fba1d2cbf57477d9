"""Names shown in reports: zones with their symbols and shapes, alarm types, stations, durations.

Chinese first, English second; a zone is never named by its colour alone: the
symbol and the shape of ``sebiao_common.domain`` go with it.
"""

from __future__ import annotations

from cloud_ingest.reports.figures import StationInfo
from sebiao_common.alarms import alarm_type_words
from sebiao_common.domain import COLORS

STATION_KIND_NAMES = {False: ("器具架", "rack"), True: ("清洗池", "sink")}


INFERRED_NOTE = "站点类型由编号推断 / station kind inferred from its id"


def zone_text(zone: str | None) -> str:
    """``● 红色 red（圆形 circle）``; unknown and not in the id: ``未标明颜色 / no colour in the id``."""
    if zone is None:
        return "未标明颜色 / no colour in the id"
    c = COLORS[zone]
    return f"{c.symbol} {c.zh} {c.en}（{c.shape_zh} {c.shape}）"


def station_text(st: StationInfo) -> str:
    """``● 红色器具架 rack-red-1 / red rack``."""
    zh_kind, en_kind = ("消毒设备", "disinfection station") if st.disinfect else STATION_KIND_NAMES[st.sink]
    if st.zone is None:
        return f"{zh_kind} {st.id} / {en_kind}"
    c = COLORS[st.zone]
    return f"{c.symbol} {c.zh}{zh_kind} {st.id} / {c.en} {en_kind}"


def alarm_type_text(alarm_type: str) -> str:
    zh, en = alarm_type_words(alarm_type)
    return f"{zh} {en}"


def seconds(ms: int | None) -> str:
    """A duration for people: whole seconds, or ``—`` when there is none."""
    return "—" if ms is None else f"{ms / 1000:.0f}"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.2f}"
