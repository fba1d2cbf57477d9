"""The domain model matches the seed's tables (三、色标标识分类 and 四、器具类别和色标标注部位)."""

from pathlib import Path

import pytest

from sebiao_common.domain import COLOR_CLASSES, TOOL_KIND_TABLE, TOOL_KINDS, StationKind

SEED = next((Path(__file__).parents[3] / "shared" / "seed").glob("*.txt"), None)

COLOR_TABLE = [  # key, zh, purpose (seed 三), raw
    ("red", "红色", "生制动物性食品原辅料生产加工器具", True),
    ("blue", "蓝色", "水产品原辅料生产加工器具", True),
    ("green", "绿色", "植物性原辅料生产加工器具", True),
    ("yellow", "黄色", "半成品容器具", False),
    ("white", "白色", "成品（熟食）容器具", False),
]
KIND_TABLE = [  # number, key, zh, label position (seed 四)
    (1, "knife", "刀具", "刀柄"),
    (2, "scissors", "剪刀", "手柄"),
    (3, "cutting_board", "砧板", "先期局部标注，逐步替换为能对应色标颜色的砧板"),
    (4, "cloth", "抹布", "先期局部标注，逐步替换为能对应色标颜色的毛巾"),
    (5, "brush", "刷子", "手柄"),
    (6, "container", "各类容器", "先期局部标注，逐步替换为能对应色标颜色的容器"),
    (7, "sink", "清洗池", "20×20mm相对应色标的不干胶粘贴"),
]


def test_colour_classes_match_the_seed_table():
    assert [(c.key, c.zh, c.purpose_zh, c.raw) for c in COLOR_CLASSES] == COLOR_TABLE


def test_tool_kinds_match_the_seed_table():
    assert [(k.number, k.key, k.zh, k.label_position_zh) for k in TOOL_KIND_TABLE] == KIND_TABLE
    assert list(TOOL_KINDS) == [k for _, k, _, _ in KIND_TABLE if k != "sink"]


def test_every_colour_has_a_name_and_a_distinct_shape():
    assert len({c.shape for c in COLOR_CLASSES}) == len(COLOR_CLASSES)
    assert len({c.symbol for c in COLOR_CLASSES}) == len(COLOR_CLASSES)
    assert all(c.en and c.zh and c.shape_zh for c in COLOR_CLASSES)


def test_station_kinds():
    assert [k.value for k in StationKind] == ["rack", "sink", "disinfect"]


@pytest.mark.skipif(SEED is None, reason="the seed document is not beside this checkout")
def test_tables_appear_in_the_seed_text():
    text = SEED.read_text("utf-8").replace(" ", "")
    for _, zh, purpose, _ in COLOR_TABLE:
        assert purpose in text and zh in text
    for _, _, zh, position in KIND_TABLE:
        assert zh in text and position.replace(" ", "") in text
