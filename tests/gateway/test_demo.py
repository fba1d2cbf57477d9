"""`sebiao demo`: the day script, the day clock, a fast whole run as a subprocess, and a taken port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from servers import EXAMPLE_CONFIG, ROOT

from edge_gateway.config import load_config
from edge_gateway.demo import day as workday
from edge_gateway.demo.clock import DayClock


def _demo(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao.cli", "demo", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_the_day_fits_the_example_workshop():
    config = load_config(EXAMPLE_CONFIG)
    workday.check_day(config)  # every station and tool exists; tags placed only where they are not
    assert {s.mistake for s in workday.STEPS if s.mistake} == set(workday.EXPECTED_ALARMS)
    kinds = {workday.minutes(p.at) for p in workday.PHASES}
    assert len(kinds) == len(workday.PHASES)


def test_the_day_keeps_several_tools_on_a_rack():
    homes = {tool.id: tool.home for tool in load_config(EXAMPLE_CONFIG).tools}
    opening = [tool for station, tool in workday.OPENING if station == "rack-red-1"]
    assert opening == ["KN-R-01", "CL-R-01"]  # a rack holds all its tools, not one per reader
    assert all(homes[tool] == "rack-red-1" for tool in opening)


@pytest.mark.parametrize("steps, error", [
    ([workday.DayStep(at="06:10", station="rack-red-1", action="place", tool="KN-R-01")],
     "06:10: KN-R-01 is already on rack-red-1"),
    ([workday.DayStep(at="06:10", station="rack-red-2", action="place", tool="KN-R-01")],
     "06:10: KN-R-01 is already on rack-red-1"),
    ([workday.DayStep(at="06:10", station="rack-red-2", action="remove", tool="KN-R-01")],
     "06:10: KN-R-01 is not on rack-red-2"),
    ([workday.DayStep(at="06:10", station="rack-red-1", action="place", tool=f"tag:04AB12CD34EF8{i}")
      for i in range(7)],
     "06:10: rack-red-1 already follows 8 tags"),
    ([workday.DayStep(at="06:10", station="rack-blue-9", action="place", tool="KN-R-01")],
     "station 'rack-blue-9' is not in the workshop"),
    ([workday.DayStep(at="06:10", station="sink-red-1", action="hot_wash", tool="", celsius=70.0)],
     "06:10: sink-red-1 has no probe"),
    ([workday.DayStep(at="06:10", station="sink-white-1", action="hot_wash", tool="", celsius=140.0)],
     "06:10: 140.0 °C is beyond the probe's -55..125 °C"),
])
def test_check_day_refuses_impossible_steps(monkeypatch, steps, error):
    config = load_config(EXAMPLE_CONFIG)
    monkeypatch.setattr(workday, "STEPS", steps)
    with pytest.raises(ValueError, match=error):
        workday.check_day(config)


def test_check_day_accepts_a_second_tool_on_a_rack(monkeypatch):
    config = load_config(EXAMPLE_CONFIG)
    # the cloth leaves rack-red-1 and comes back; KN-R-01 stays on the rack
    back = [workday.DayStep(at="06:10", station="rack-red-1", action="remove", tool="CL-R-01"),
            workday.DayStep(at="06:11", station="rack-red-1", action="place", tool="CL-R-01")]
    monkeypatch.setattr(workday, "STEPS", back)
    workday.check_day(config)


def test_day_clock_is_piecewise_and_remembers_the_past():
    now = [100.0]
    clock = DayClock(1_000_000, 60.0, monotonic=lambda: now[0])
    now[0] = 101.0
    assert clock.now_ms() == 1_060_000  # one real second = one minute of the day
    clock.set_speed(1.0)
    now[0] = 103.0
    assert clock.now_ms() == 1_062_000
    assert clock.at(100.5) == 1_030_000  # a tick from before the change keeps its time
    assert clock.real_seconds_until(1_063_000) == pytest.approx(1.0)


@pytest.mark.slow
def test_demo_plays_a_day_with_its_mistakes_and_a_summary():
    started = time.monotonic()
    run = _demo("--duration", "3", "--http", "127.0.0.1:0", "--embedded-broker", "127.0.0.1:0")  # free ports
    out = run.stdout
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    for zh, en in (("跨区放置", "cross-zone"), ("未清洗归位", "unwashed return"), ("未定位存放", "misplaced"),
                   ("未登记标签", "unknown tag")):
        assert f"  {zh} / {en} (" in out.split("summary of the day")[1]
    assert "[▲ 严重 critical] 跨区放置 / cross-zone: 跨区放置：●红色刀具 KN-R-01" in out
    assert "↳ [⬢ rack-white-1 熟食器具架] 误用：红灯亮、蜂鸣三声 / misuse" in out  # the rack got its feedback
    events = [line for line in out.splitlines() if "/ placed" in line or "/ removed" in line]
    assert len(events) == 62  # 61 moves + the cloth that stays on rack-red-1 all day
    assert "读卡站记录 62 条 / recorded by the stations, 网关处理 62 条 / applied by the gateway" in out
    assert "告警 / alarms: 4" in out and "网关 / gateway: http://127.0.0.1:" in out
    # the cooked-food sink's hot wash, played in real time: one cycle, its probe read every second
    (cycle,) = [line for line in out.splitlines() if "cycle ended" in line]
    assert "[⬢ sink-white-1 熟食清洗池] 消毒/热洗周期结束 / cycle ended: " in cycle and "最高 / max 72.0 °C" in cycle
    assert "disinfection and hot-wash cycles: 1 (→ sebiao/" in out
    assert time.monotonic() - started < 40


@pytest.mark.parametrize("option", ["--http", "--embedded-broker"])
def test_demo_fails_at_once_when_a_port_is_taken(option):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = "--embedded-broker" if option == "--http" else "--http"
        run = _demo(option, f"127.0.0.1:{port}", other, "127.0.0.1:0", timeout=30)
    assert run.returncode == 2
    assert f"127.0.0.1:{port}" in run.stderr and f"{option} HOST:PORT" in run.stderr and "已被占用" in run.stderr
    assert "Traceback" not in run.stderr
