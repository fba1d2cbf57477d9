"""The domain model, taken from the seed document's tables.

Source: 包头市食品小作坊生产加工器具色标化管理实施指引, sections 三 (色标标识分类)
and 四 (器具类别和色标标注部位). The names, purposes and label positions below are
those tables, verbatim in Chinese, with an English rendering beside them.

Colour is never the only signal: every colour class also carries a shape and a
symbol, used on labels, on the live display and in the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class ColorClass:
    key: str  # the config and wire name
    zh: str
    en: str
    purpose_zh: str
    purpose_en: str
    raw: bool  # a raw-ingredient zone: risk runs from these towards white
    hex: str  # print and screen colour
    shape: str  # a shape that tells the zone apart without colour
    symbol: str  # the same shape as a text symbol
    shape_zh: str


COLOR_CLASSES: tuple[ColorClass, ...] = (
    ColorClass(
        "red", "红色", "red",
        "生制动物性食品原辅料生产加工器具",
        "tools for raw animal-origin ingredients (livestock and poultry meat, eggs; not aquatic)",
        True, "#C62828", "circle", "●", "圆形",
    ),
    ColorClass(
        "blue", "蓝色", "blue",
        "水产品原辅料生产加工器具",
        "tools for aquatic ingredients (aquatic animals and algae)",
        True, "#1565C0", "diamond", "◆", "菱形",
    ),
    ColorClass(
        "green", "绿色", "green",
        "植物性原辅料生产加工器具",
        "tools for plant-origin ingredients",
        True, "#2E7D32", "triangle", "▲", "三角形",
    ),
    ColorClass(
        "yellow", "黄色", "yellow",
        "半成品容器具",
        "semi-finished product tools and containers",
        False, "#F9A825", "square", "■", "方形",
    ),
    ColorClass(
        "white", "白色", "white",
        "成品（熟食）容器具",
        "finished (cooked, ready-to-eat) product tools and containers",
        False, "#FFFFFF", "hexagon", "⬢", "六边形",
    ),
)

# The note under the seed's colour table.
COLOR_NOTE_ZH = "注：动物性食品原料包括畜禽肉和禽蛋类（不含水生动物）；水产品原料包括水生动物和藻类等。"
COLOR_NOTE_EN = (
    "Note: animal-origin ingredients are livestock and poultry meat and eggs (not aquatic animals); "
    "aquatic ingredients are aquatic animals, algae and the like."
)

COLORS: dict[str, ColorClass] = {c.key: c for c in COLOR_CLASSES}
FINISHED_COLOR = "white"


@dataclass(frozen=True)
class ToolKind:
    number: int  # 序号 in the seed's table
    key: str
    zh: str
    en: str
    label_position_zh: str
    label_position_en: str
    movable: bool  # False for the sink: it is a station, not a tool


TOOL_KIND_TABLE: tuple[ToolKind, ...] = (
    ToolKind(1, "knife", "刀具", "knife", "刀柄", "handle", True),
    ToolKind(2, "scissors", "剪刀", "scissors", "手柄", "handle", True),
    ToolKind(
        3, "cutting_board", "砧板", "cutting board",
        "先期局部标注，逐步替换为能对应色标颜色的砧板",
        "a partial label first, then replaced by a board of the zone's colour", True,
    ),
    ToolKind(
        4, "cloth", "抹布", "cloth",
        "先期局部标注，逐步替换为能对应色标颜色的毛巾",
        "a partial label first, then replaced by a towel of the zone's colour", True,
    ),
    ToolKind(5, "brush", "刷子", "brush", "手柄", "handle", True),
    ToolKind(
        6, "container", "各类容器", "container",
        "先期局部标注，逐步替换为能对应色标颜色的容器",
        "a partial label first, then replaced by a container of the zone's colour", True,
    ),
    ToolKind(
        7, "sink", "清洗池", "sink",
        "20×20mm相对应色标的不干胶粘贴",
        "a 20×20 mm self-adhesive sticker of the zone's colour", False,
    ),
)

KINDS: dict[str, ToolKind] = {k.key: k for k in TOOL_KIND_TABLE}
TOOL_KINDS: dict[str, ToolKind] = {k.key: k for k in TOOL_KIND_TABLE if k.movable}


class StationKind(str, Enum):
    RACK = "rack"  # a colour-coded tool rack: removed = taken, placed = returned
    SINK = "sink"  # a colour-coded sink: placed = being washed, removed = left the sink
    # a disinfection station (消毒柜, a boiling/steam pot, a dishwasher) with a temperature probe:
    # placed = put in, removed = taken out; its cycles (MQTT ``cycle``) prove the temperature was held
    DISINFECT = "disinfect"

    @property
    def zh(self) -> str:
        return {"rack": "器具架", "sink": "清洗池", "disinfect": "消毒设备"}[self.value]


# How a disinfection station heats (rules.disinfect), with its words, Chinese first.
DISINFECT_METHODS: dict[str, tuple[str, str]] = {
    "cabinet": ("消毒柜", "disinfection cabinet"),
    "boiling": ("煮沸/蒸汽", "boiling or steam"),
    "dishwasher": ("洗碗机", "dishwasher"),
}
HOT_WASH = "hot_wash"  # the method of a probed sink's cycle (rules.hot_wash)


class Location(str, Enum):
    ON_RACK = "on_rack"
    OUT = "out"
    AT_SINK = "at_sink"  # at a sink or in a disinfection station: being cleaned
    UNKNOWN = "unknown"

    @property
    def zh(self) -> str:
        return {"on_rack": "在架", "out": "使用中", "at_sink": "清洗中", "unknown": "未知"}[self.value]


def is_raw(color: str) -> bool:
    return COLORS[color].raw
