"""Disinfection: what a cycle must reach (``rules.disinfect``, ``rules.hot_wash``) and whether one did. Pure.

A station with a temperature probe (a ``disinfect`` station, or a ``sink`` with
``probe: true``) sends one ``cycle`` message per run: the samples of its probe
(``docs/protocol.md``). A cycle *passes* when its longest continuous run of
samples at or above the method's temperature lasts at least the method's hold.

The defaults follow 餐饮服务食品安全操作规范 (国家市场监督管理总局公告 2018年第12号),
附录 J 推荐的餐用具清洗消毒方法: 红外线消毒 120 °C 以上保持 10 分钟以上; 蒸汽、煮沸消毒
100 °C 以上保持 10 分钟以上. For the dishwasher the 2018 text only asks that the effect meet
the national standards; its figures, 水温 85 °C 冲洗消毒 40 秒以上, are those of the earlier
edition (国食药监食〔2011〕395号, 附件 推荐的餐饮具清洗消毒方法). A probed sink's hot wash
uses the dishwasher's figures by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from sebiao_common.domain import DISINFECT_METHODS, HOT_WASH
from sebiao_common.yamlfile import Node

MIN_TEMP_DC, MAX_TEMP_DC = -500, 5000  # a sample in tenths of °C: -50 °C .. 500 °C
MAX_SAMPLES = 1440
MAX_INTERVAL_S = 600


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """Hold ``temp_c`` or more for ``hold_seconds`` or more."""

    temp_c: float
    hold_seconds: int

    @property
    def temp_dc(self) -> int:
        return round(self.temp_c * 10)


DEFAULT_DISINFECT: dict[str, Threshold] = {
    "cabinet": Threshold(temp_c=120, hold_seconds=600),
    "boiling": Threshold(temp_c=100, hold_seconds=600),
    "dishwasher": Threshold(temp_c=85, hold_seconds=40),
}
DEFAULT_HOT_WASH = Threshold(temp_c=85, hold_seconds=40)
METHODS = tuple(DISINFECT_METHODS) + (HOT_WASH,)


@dataclass(frozen=True, kw_only=True)
class Cycle:
    """One run of a probed station, as it sent it (``sebiao/{workshop}/{station}/cycle``)."""

    station: str
    boot: str
    seq: int
    ts: int  # end, ms since the epoch (the station's clock)
    start: int  # the first sample, ms since the epoch
    interval_s: int
    temps_dc: tuple[int, ...]

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.station, self.boot, self.seq)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """What the gateway decided about one cycle."""

    method: str
    threshold: Threshold
    max_temp_dc: int
    hold_seconds: int  # the longest continuous time at or above the threshold's temperature
    hold_start: int | None  # ms of that run's first and last sample (None: no sample reached it)
    hold_end: int | None
    passed: bool

    def window(self, cycle: Cycle) -> tuple[int, int]:
        """The span whose tools were in the cycle: the hold when it passed, else the whole cycle."""
        if self.passed and self.hold_start is not None and self.hold_end is not None:
            return self.hold_start, self.hold_end
        return cycle.start, cycle.ts


def judge_cycle(cycle: Cycle, method: str, threshold: Threshold) -> Verdict:
    """The longest run of consecutive samples at or above the temperature; its length counts from its first
    to its last sample (a lone hot sample holds for 0 s: nothing says how long it lasted)."""
    limit = threshold.temp_dc
    best = (0, None, None)  # (seconds, first index, last index)
    first = None
    for index, value in enumerate(cycle.temps_dc):
        if value >= limit:
            first = index if first is None else first
            seconds = (index - first) * cycle.interval_s
            if best[1] is None or seconds > best[0]:
                best = (seconds, first, index)
        else:
            first = None
    seconds, a, b = best
    step = cycle.interval_s * 1000
    return Verdict(method=method, threshold=threshold, max_temp_dc=max(cycle.temps_dc),
                   hold_seconds=seconds, hold_start=None if a is None else cycle.start + a * step,
                   hold_end=None if b is None else cycle.start + b * step,
                   passed=a is not None and seconds >= threshold.hold_seconds)


# -- config (rules.disinfect, rules.hot_wash, a station's method and probe) -----------------------------

def parse_threshold(node: Node, default: Threshold) -> Threshold:
    node.mapping(optional=("temp_c", "hold_seconds"))
    temp, hold = node.get("temp_c"), node.get("hold_seconds")
    temp_c = default.temp_c
    if temp is not None:
        value = temp.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 40 <= value <= 300:
            raise temp.fail(f"{value!r} must be a temperature in °C between 40 and 300",
                            f"{value!r} 必须是 40 到 300 之间的温度（°C）")
        temp_c = float(value)
    return Threshold(temp_c=temp_c, hold_seconds=hold.integer(1, 24 * 3600) if hold else default.hold_seconds)


def parse_disinfect(node: Node | None) -> tuple[tuple[str, Threshold], ...]:
    table = dict(DEFAULT_DISINFECT)
    if node is not None:
        node.mapping(optional=tuple(DEFAULT_DISINFECT))
        for method in node.value:
            table[method] = parse_threshold(node.child(method), DEFAULT_DISINFECT[method])
    return tuple(table.items())
