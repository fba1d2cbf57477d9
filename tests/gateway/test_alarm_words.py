"""The words an owner reads: alarm texts name tools and stations by name with durations in hours and minutes,
the lifecycle's refusals come Chinese first naming the alarm, and a reader's missed step is told with the
station's name. Pure functions and the in-process engine over a real SQLite store."""

from __future__ import annotations

import re

import pytest
from workshop_sim import EXAMPLE, Sim

from edge_gateway.config import load_config
from edge_gateway.errors import AlarmActionError
from edge_gateway.model import alarm_text
from edge_gateway.web.console_data import note_words

HAN = re.compile(r"^[\u4e00-\u9fff“]")


@pytest.fixture(scope="module")
def config():
    return load_config(EXAMPLE)


@pytest.mark.parametrize(("minutes", "zh", "en"), [
    (240, "4 小时", "4 h"),
    (90, "1 小时 30 分钟", "1 h 30 min"),
    (45, "45 分钟", "45 min"),
    (60, "1 小时", "1 h"),
    (0, "0 分钟", "0 min"),
])
def test_durations_in_hours_and_minutes(minutes, zh, en):
    assert alarm_text.duration(minutes) == (zh, en)


def test_overdue_says_hours_not_minutes(config):
    zh, en = alarm_text.overdue(config.tool("KN-R-01"), 240)
    assert zh == "超时未归还：●红色刀具 KN-R-01 已取出超过 4 小时" and "240" not in zh
    assert en == "Overdue: ● red knife KN-R-01 has been out for more than 4 h"


def test_stations_are_named_by_their_name_in_both_languages(config):
    tool, white = config.tool("KN-R-01"), config.station("rack-white-1")
    zh, en = alarm_text.cross_zone(tool, white)
    assert zh == "跨区放置：●红色刀具 KN-R-01 被放到 ⬢白色 熟食器具架"  # the name says it is a rack: said once
    assert en == "Cross-zone: ● red knife KN-R-01 placed on ⬢ white rack 熟食器具架"
    assert "rack-white-1" not in zh + en
    board, rack = config.tool("CB-R-01"), config.station("rack-red-1")
    zh, en = alarm_text.misplaced(board, rack, config.station(board.home))
    assert zh == "未定位存放：●红色砧板 CB-R-01 放在 ●红色 生肉刀具架，不是它的固定位置 ●红色 生肉砧板架"
    assert "rack-red" not in zh + en
    assert alarm_text.misplaced(board, rack)[0].endswith("rack-red-2")  # no home station given: its id, as before


def test_a_misplaced_alarm_raised_by_the_engine_names_the_home_rack(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-2", "CB-R-01", "removed")
    sim.at(20).event("rack-red-1", "CB-R-01", "placed")
    alarm = sim.engine.active[("misplaced", "CB-R-01")]
    assert "生肉砧板架" in alarm.text_zh and "rack-red-2" not in alarm.text_zh + alarm.text_en


def test_refusals_are_chinese_first_and_name_the_alarm(tmp_path):
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    sim.at(20).event("rack-white-1", "KN-R-01", "placed")
    alarm = sim.engine.active[("cross_zone", "KN-R-01")]
    refusals = []
    for act in (lambda out: sim.engine.clear(alarm.id, "王师傅", None, sim.now, out),
                lambda out: sim.engine.acknowledge(alarm.id, " ", None, sim.now, out),
                lambda out: sim.engine.acknowledge(alarm.id, "system", None, sim.now, out),
                lambda out: sim.engine.acknowledge(99, "王师傅", None, sim.now, out)):
        with pytest.raises(AlarmActionError) as refused:
            sim._run(act)
        refusals.append(str(refused.value))
    sim._run(lambda out: sim.engine.acknowledge(alarm.id, "王师傅", None, sim.now, out))
    with pytest.raises(AlarmActionError) as refused:
        sim._run(lambda out: sim.engine.acknowledge(alarm.id, "王师傅", None, sim.now, out))
    refusals.append(str(refused.value))
    sim._run(lambda out: sim.engine.clear(alarm.id, "王师傅", "已送回红区", sim.now, out))
    with pytest.raises(AlarmActionError) as refused:
        sim._run(lambda out: sim.engine.clear(alarm.id, "王师傅", "x", sim.now, out))
    refusals.append(str(refused.value))
    for message in refusals:
        assert HAN.match(message) and " / " in message, message
    latched, *_, again, cleared = refusals
    for message in (latched, again, cleared):
        assert "红色刀具 KN-R-01" in message and "熟食器具架" in message, message  # the alarm, by its words
    assert "整改措施" in latched and "corrective-action comment" in latched
    assert "已有人确认过" in again and "already acknowledged" in again
    assert "已处理过" in cleared and "already cleared" in cleared


def test_a_readers_missed_step_is_told_with_the_stations_name(config):
    words = note_words("missed: placed on rack-red-1", config)
    assert words["zh"].startswith("漏读：放上 生肉刀具架") and "missed" not in words["zh"]
    assert words["en"].startswith("missed: put on 生肉刀具架")
    assert note_words("missed: removed from sink-red-1", config)["zh"].startswith("漏读：取自 生肉清洗池")
    assert note_words("missed: placed at sink-red-1", config)["zh"].startswith("漏读：放入 生肉清洗池")
    assert note_words("missed: placed on rack-gone", config)["zh"].startswith("漏读：放上 rack-gone")  # not in config
    assert note_words("小心", config) == {"zh": "小心", "en": "小心"}
    assert note_words(None, config) is None
