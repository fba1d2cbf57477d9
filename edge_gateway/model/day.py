"""The owner's day: the opening check and the end-of-day roll call (收工点检). Pure.

The config's optional ``day:`` section (``docs/config.md``) gives the opening and
closing times in the workshop's time zone. Without it there is no roll call: an
existing workshop does not start raising a new alarm by itself.

At closing time every tracked tool (one with a tag) must be *seen* home (on its
home rack), washed after its last use (the dwell rules of ``toolstate``) and
disinfected where ``rules.disinfect_required`` asks. A tool that is not gets one
``roll_call`` alarm naming what is missing; it clears when the opening check
finds the tool in order. The opening check raises nothing new: what blocks work
there (a station offline, a station's clock wrong) has its own alarm already; its
result (stations, tools not home) is shown in the console only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from edge_gateway.model import alarm_text
from edge_gateway.model.rules import Clear, Decision, Raise
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import Tool, WorkshopConfig
from sebiao_common.alarms import MAX_PERSON_CHARS
from sebiao_common.clock import known_timezone, zoned_day, zoned_day_bounds
from sebiao_common.domain import Location, StationKind
from sebiao_common.yamlfile import Node

ROLL_CALL = "roll_call"
HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
DEFAULT_OPENS, DEFAULT_CLOSES, DEFAULT_TIMEZONE = "07:00", "19:00", "Asia/Shanghai"
DAY_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


@dataclass(frozen=True, kw_only=True)
class DaySettings:
    opens: int  # minutes after local midnight
    closes: int
    timezone: str  # an IANA name, e.g. Asia/Shanghai


DEFAULT_DAY = DaySettings(opens=7 * 60, closes=19 * 60, timezone=DEFAULT_TIMEZONE)


def parse_day(config: WorkshopConfig) -> DaySettings | None:
    """The ``day:`` section, or None without one; errors name the file, the field and the reason."""
    data = config.section("day")
    if data is None:
        return None
    node = Node(config.file, "day", data).mapping(optional=("opens", "closes", "timezone"))
    opens = _minutes(node.get("opens"), DEFAULT_OPENS)
    closes = _minutes(node.get("closes"), DEFAULT_CLOSES)
    if closes <= opens:
        raise (node.get("closes") or node).fail(
            f"closing time {_hhmm(closes)} must be after the opening time {_hhmm(opens)} (same day)")
    zone = node.get("timezone")
    timezone = zone.convert(_zone) if zone is not None else DEFAULT_TIMEZONE
    return DaySettings(opens=opens, closes=closes, timezone=timezone)


def _minutes(node: Node | None, default: str) -> int:
    if node is None:
        return _parse_hhmm(default)
    if not isinstance(node.value, str):
        # YAML 1.1 reads an unquoted 19:00 as the number 1140: the time must be quoted.
        raise node.fail(f"must be a quoted time HH:MM, e.g. \"{default}\", got {node.value!r}")
    return node.convert(_parse_hhmm)


def _parse_hhmm(text: str) -> int:
    found = HHMM.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a time HH:MM (00:00 to 23:59)")
    return int(found.group(1)) * 60 + int(found.group(2))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a time zone name such as Asia/Shanghai")
    if not known_timezone(value):
        raise ValueError(f"{value!r} is not a known time zone (e.g. Asia/Shanghai)")
    return value


def local_day(settings: DaySettings, now: int) -> tuple[str, int]:
    """(YYYY-MM-DD, minutes after local midnight) of ``now`` (ms) in the workshop's time zone."""
    return zoned_day(now, settings.timezone)


def day_bounds(settings: DaySettings, day: str) -> tuple[int, int]:
    """[start, end) of a local day, in ms since the epoch (a DST day has its real length)."""
    return zoned_day_bounds(day, settings.timezone)


def due(settings: DaySettings, now: int, last_opening: str | None, last_roll_call: str | None
        ) -> tuple[str | None, str | None]:
    """(day whose opening check is due, day whose roll call is due): each runs once a day, the opening check
    between opening and closing, the roll call from closing on (also late, when the gateway was down then)."""
    day, minute = local_day(settings, now)
    opening = day if settings.opens <= minute < settings.closes and last_opening != day else None
    roll_call = day if minute >= settings.closes and last_roll_call != day else None
    return opening, roll_call


@dataclass(frozen=True, kw_only=True)
class Missing:
    """What the roll call did not see for one tool."""

    tool: str
    color: str
    home: str
    where: str | None  # where it was seen last (a station), None: never seen
    not_home: bool
    unwashed: bool
    undisinfected: bool

    def words(self, home: tuple[str, str] | None = None) -> tuple[str, str]:
        """What is missing, Chinese and English; ``home``: the home rack in words (default: its id)."""
        home_zh, home_en = home or (self.home, self.home)
        zh, en = [], []
        if self.not_home:
            zh.append(f"未见放回固定位置 {home_zh}")
            en.append(f"not seen back on its home rack {home_en}")
        if self.unwashed:
            zh.append("上次使用后未见清洗")
            en.append("not seen washed after its last use")
        if self.undisinfected:
            zh.append("上次使用后未见消毒")
            en.append("not seen disinfected after its last use")
        return "；".join(zh), "; ".join(en)


def check_tool(tool: Tool, state: ToolState, config: WorkshopConfig) -> Missing | None:
    """The roll call of one tool: None when it is home, washed and disinfected as the rules ask."""
    home = state.location is Location.ON_RACK and state.station == tool.home
    used = state.taken_at is not None  # a use that was seen (a repaired state judges nothing)
    unwashed = (tool.kind in config.rules.wash_required
                and ((used and not state.washed) or any(not c.disinfect for c in state.pending)))
    undisinfected = (tool.kind in config.rules.disinfect_required and config.disinfection_monitored
                     and ((used and not state.disinfected) or any(c.disinfect for c in state.pending)))
    if home and not unwashed and not undisinfected:
        return None
    return Missing(tool=tool.id, color=tool.color, home=tool.home, where=state.station, not_home=not home,
                   unwashed=unwashed, undisinfected=undisinfected)


def roll_call(config: WorkshopConfig, states: Mapping[str, ToolState], now: int
              ) -> tuple[tuple[Missing, ...], tuple[Decision, ...]]:
    """Closing time: one ``roll_call`` alarm per tool not in order (its text names what is missing)."""
    missing: list[Missing] = []
    decisions: list[Decision] = []
    for tool in _tracked(config):
        found = check_tool(tool, states.get(tool.id, ToolState(tool=tool.id, color=tool.color)), config)
        if found is None:
            continue
        missing.append(found)
        text_zh, text_en = alarm_text.roll_call(tool, config.station(tool.home), found.words)
        decisions.append(Raise(
            type=ROLL_CALL, severity=config.rules.severity_of(ROLL_CALL), subject=tool.id, tool=tool.id,
            tag=tool.tag, station=found.where, ts=now, text_zh=text_zh, text_en=text_en))
    return tuple(missing), tuple(decisions)


@dataclass(frozen=True, kw_only=True)
class StationCheck:
    id: str
    online: bool
    clock_ok: bool  # set (its newest event had a time) and no active station_clock alarm


def opening_check(config: WorkshopConfig, states: Mapping[str, ToolState], online: Mapping[str, bool],
                  clock_wrong: Iterable[str]) -> tuple[tuple[StationCheck, ...], tuple[Missing, ...],
                                                       tuple[Decision, ...]]:
    """Opening time: every station online with its clock set, every tool home. Raises nothing; a tool found in
    order clears its ``roll_call`` alarm of the evening before."""
    wrong = frozenset(clock_wrong)
    stations = tuple(StationCheck(id=s.id, online=online.get(s.id, False), clock_ok=s.id not in wrong)
                     for s in config.stations)
    missing: list[Missing] = []
    decisions: list[Decision] = []
    for tool in _tracked(config):
        found = check_tool(tool, states.get(tool.id, ToolState(tool=tool.id, color=tool.color)), config)
        if found is None:
            decisions.append(Clear(type=ROLL_CALL, subject=tool.id, reason_zh="开工检查：已在固定位置且已清洗",
                                   reason_en="opening check: home, washed"))
        else:
            missing.append(found)
    return stations, tuple(missing), tuple(decisions)


def _tracked(config: WorkshopConfig) -> Iterable[Tool]:
    """Tools a reader can see (a tool without a tag is listed but never seen: the roll call cannot judge it)."""
    return (t for t in config.tools if t.tag is not None)


def count_washes(config: WorkshopConfig, sink_events: Iterable[tuple[str, str, str, int]]) -> int:
    """Washes in a list of (tool, station, action, ts) sorted by tool then ts: placed then removed at a sink of
    the tool's colour, at least the dwell apart (the same rule as ``toolstate``)."""
    dwell = config.rules.wash_min_seconds * 1000
    washes, placed = 0, {}
    for tool_id, station_id, action, ts in sink_events:
        tool, station = config.tool(tool_id), config.station(station_id)
        if tool is None or station is None or station.kind is not StationKind.SINK or station.zone != tool.color:
            continue
        if action == "placed":
            placed[tool_id] = (station_id, ts)
        elif placed.get(tool_id, ("", 0))[0] == station_id:
            washes += ts - placed.pop(tool_id)[1] >= dwell
    return washes


MAX_TRAINING_CHARS = 200  # ``topic``; ``who`` and ``by`` take the alarm actions' person limit


@dataclass(frozen=True, kw_only=True)
class Training:
    """A training record (seed: staff trained on the colour rules): who, when, what, by whom."""

    day: str | None  # YYYY-MM-DD; None: today, filled in by the writer with its clock
    who: str
    topic: str
    by: str


def training(*, day: object = None, who: object, topic: object, by: object) -> Training:
    """A checked training record; ValueError names the field and the reason (Chinese first)."""
    fields = {}
    for name, value, limit in (("who", who, MAX_PERSON_CHARS), ("topic", topic, MAX_TRAINING_CHARS),
                               ("by", by, MAX_PERSON_CHARS)):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise ValueError(f"{name}: 不能为空 / must be a non-empty string")
        if len(text) > limit:
            raise ValueError(f"{name}: 至多 {limit} 个字符 / at most {limit} characters, got {len(text)}")
        fields[name] = text
    if day is not None and (not isinstance(day, str) or DAY_TEXT.fullmatch(day) is None):
        raise ValueError(f"day: {day!r} 不是日期 / is not a day YYYY-MM-DD")
    return Training(day=day, **fields)

