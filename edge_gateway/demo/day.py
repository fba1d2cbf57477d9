"""The working day the demo plays, for the example workshop (examples/workshop.yaml):
a 凉皮 and sausage workshop preparing raw meat and vegetables, washing, cutting
凉皮, cooking, packing, with four mistakes.

A reader follows several tags at once (the firmware's multi-tag inventory:
up to ``reader.max_tags``, 8 by default, on an MFRC522), so a rack holds all of
its tools: rack-red-1 keeps its cloth while the knife comes and goes.
``check_day`` proves that every step names a real station and tool, never
places a tag where it already is, removes only what is there, and never puts
more tags on one reader than it follows. At closing the cooked-food sink
washes hot: its probe (the demo gives it one) heats, holds and cools, and the
station records the cycle. The station samples its probe on its own clock,
which runs in real time, so the demo plays the hot wash at real pace (a
short one: a cycle's samples are one interval apart in day time too).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.model.workshop import WorkshopConfig

START, END = "06:00", "17:30"
UNKNOWN_TAG = "04AB12CD34EF80"  # a container nobody registered
# stations the demo gives a temperature probe (besides any station of kind "disinfect")
PROBE_STATIONS = ("sink-white-1",)


@dataclass(frozen=True, kw_only=True)
class Phase:
    at: str
    zh: str
    en: str


@dataclass(frozen=True, kw_only=True)
class DayStep:
    at: str  # HH:MM on the demo's day
    station: str
    action: str  # "place" | "remove" | "hot_wash" (the station's probe heats to `celsius`, holds, cools)
    tool: str  # a tool id, or "tag:<UID>" for a tag no tool has ("" for "hot_wash")
    zh: str = ""  # narration, printed when the step is played
    en: str = ""
    mistake: str | None = None  # the alarm type this step is meant to raise
    celsius: float | None = None


def _hot_wash(at: str, station: str, celsius: float, zh: str = "", en: str = "") -> DayStep:
    return DayStep(at=at, station=station, action="hot_wash", tool="", zh=zh, en=en, celsius=celsius)


def _s(at: str, station: str, action: str, tool: str, zh: str = "", en: str = "",
       mistake: str | None = None) -> DayStep:
    return DayStep(at=at, station=station, action=action, tool=tool, zh=zh, en=en, mistake=mistake)


def _wash(at: str, end: str, sink: str, tool: str, zh: str = "", en: str = "") -> list[DayStep]:
    return [_s(at, sink, "place", tool, zh, en), _s(end, sink, "remove", tool)]


OPENING = [  # tools hung on their racks before the day starts (placed at START)
    ("rack-red-1", "KN-R-01"), ("rack-red-1", "CL-R-01"), ("rack-red-2", "CB-R-01"), ("rack-green-1", "KN-G-01"),
    ("rack-yellow-1", "SC-Y-01"), ("rack-white-1", "KN-W-01"),
]

PHASES = [
    Phase(at="06:00", zh="开工：刀具、砧板在各自的架位上", en="opening: the tools hang on their home racks"),
    Phase(at="06:30", zh="生肉备料：切猪肉灌香肠", en="preparing raw meat: pork for the sausages"),
    Phase(at="06:45", zh="蔬菜备料：黄瓜丝、蒜末", en="preparing vegetables: cucumber and garlic"),
    Phase(at="07:40", zh="清洗生料器具", en="washing the raw-ingredient tools"),
    Phase(at="08:30", zh="半成品：切凉皮", en="semi-finished: cutting the 凉皮 sheets"),
    Phase(at="10:00", zh="蒸煮：香肠下锅、凉皮上屉", en="cooking: sausages in the pot, 凉皮 steaming"),
    Phase(at="11:00", zh="熟食分装", en="packing the cooked food"),
    Phase(at="13:00", zh="下午第二批", en="the afternoon batch"),
    Phase(at="16:30", zh="收工清洁，器具入消毒柜", en="closing: washing up, tools into the disinfection cabinet"),
]

STEPS: list[DayStep] = [
    _s("06:30", "rack-red-1", "remove", "KN-R-01", "取生肉刀切肉", "the raw-meat knife is taken"),
    _s("06:32", "rack-red-2", "remove", "CB-R-01"),
    _s("06:45", "rack-green-1", "remove", "KN-G-01", "取蔬菜刀", "the vegetable knife is taken"),
    *_wash("07:40", "07:50", "sink-red-1", "CB-R-01", "生肉砧板在生肉清洗池清洗", "the raw-meat board is washed"),
    _s("07:52", "rack-red-1", "place", "CB-R-01", "砧板挂错了架位：挂到了生肉刀具架",
       "the board is hung on the knife rack, not on its own", mistake="misplaced"),
    *_wash("07:55", "08:03", "sink-red-1", "KN-R-01"),
    *_wash("08:00", "08:08", "sink-green-1", "KN-G-01"),
    _s("08:10", "rack-red-1", "remove", "CB-R-01", "发现放错：砧板重洗后挂回砧板架",
       "noticed: the board is washed again and hung on its own rack"),
    _s("08:10", "rack-green-1", "place", "KN-G-01"),
    *_wash("08:12", "08:18", "sink-red-1", "CB-R-01"),
    _s("08:15", "rack-red-1", "place", "KN-R-01"),
    _s("08:20", "rack-red-2", "place", "CB-R-01"),
    _s("08:30", "rack-yellow-1", "remove", "SC-Y-01", "取黄色剪刀切凉皮", "the yellow scissors cut the 凉皮"),
    *_wash("08:35", "08:40", "sink-yellow-1", "CT-Y-01", "半成品容器出柜先冲洗", "the semi-finished container is rinsed"),
    _s("09:30", "rack-yellow-1", "place", "SC-Y-01", "剪刀没洗就挂回了", "the scissors go back unwashed",
       mistake="unwashed_return"),
    _s("09:40", "rack-yellow-1", "remove", "SC-Y-01", "班长让重洗", "the shift lead sends them to the sink"),
    *_wash("09:42", "09:50", "sink-yellow-1", "SC-Y-01"),
    _s("09:52", "rack-yellow-1", "place", "SC-Y-01"),
    _s("10:00", "rack-red-1", "remove", "KN-R-01", "再切一批肉", "another batch of meat"),
    *_wash("10:30", "10:40", "sink-yellow-1", "CT-Y-01"),
    _s("11:00", "rack-white-1", "remove", "KN-W-01", "熟食刀切香肠", "the cooked-food knife slices sausages"),
    _s("11:20", "rack-white-1", "place", "KN-R-01", "生肉刀挂到了熟食架上！",
       "the raw-meat knife is hung on the cooked-food rack!", mistake="cross_zone"),
    _s("11:30", "rack-white-1", "remove", "KN-R-01", "立即取下，送生肉清洗池", "taken down at once, to the raw-meat sink"),
    *_wash("11:35", "11:45", "sink-red-1", "KN-R-01"),
    _s("11:50", "rack-red-1", "place", "KN-R-01"),
    *_wash("12:00", "12:08", "sink-white-1", "KN-W-01"),
    _s("12:10", "rack-white-1", "place", "KN-W-01"),
    _s("13:00", "rack-yellow-1", "remove", "SC-Y-01"),
    _s("13:05", "rack-yellow-1", "place", "CT-Y-01"),
    _s("14:00", "sink-yellow-1", "place", f"tag:{UNKNOWN_TAG}", "一个没登记的新容器放进了清洗池",
       "a new container nobody registered goes into the sink", mistake="unknown_tag"),
    _s("14:05", "sink-yellow-1", "remove", f"tag:{UNKNOWN_TAG}"),
    *_wash("14:20", "14:28", "sink-yellow-1", "SC-Y-01"),
    _s("14:25", "rack-yellow-1", "remove", "CT-Y-01"),
    *_wash("14:30", "14:38", "sink-white-1", "CT-W-01", "熟食容器冲洗后装盒", "the cooked-food container is rinsed for packing"),
    _s("14:32", "rack-yellow-1", "place", "SC-Y-01"),
    _s("15:00", "rack-green-1", "remove", "KN-G-01"),
    *_wash("15:05", "15:12", "sink-green-1", "CB-G-01"),
    _s("15:15", "rack-green-1", "place", "CB-G-01"),
    *_wash("16:00", "16:08", "sink-green-1", "KN-G-01"),
    *_wash("16:30", "16:38", "sink-yellow-1", "CT-Y-01"),
    _hot_wash("16:36", "sink-white-1", 72.0, "熟食清洗池放热水热洗，探头记录温度（实时播放）",
              "the cooked-food sink runs a hot wash; its probe records the temperature (played in real time)"),
    *_wash("16:40", "16:48", "sink-white-1", "CT-W-01"),
]

EXPECTED_ALARMS = ("misplaced", "unwashed_return", "cross_zone", "unknown_tag")


def minutes(at: str) -> int:
    hours, mins = at.split(":")
    return int(hours) * 60 + int(mins)


def timeline() -> list[DayStep]:
    """The steps in time order (stable for steps at the same minute)."""
    return sorted(STEPS, key=lambda s: minutes(s.at))


def tag_of(config: WorkshopConfig, tool: str) -> str:
    if tool.startswith("tag:"):
        return tool[4:]
    found = config.tool(tool)
    if found is None:
        raise ValueError(f"the demo day names tool '{tool}', which the workshop does not have")
    if found.tag is None:
        raise ValueError(f"the demo day names tool '{tool}', which has no tag: no reader can see it")
    return found.tag


MAX_TAGS = 8  # the firmware's default reader.max_tags (the demo's stations are MFRC522)


def probe_stations(config: WorkshopConfig) -> set[str]:
    """The stations that run with a probe in the demo."""
    return {s.id for s in config.stations if s.id in PROBE_STATIONS or str(s.kind.value) == "disinfect"}


def check_day(config: WorkshopConfig) -> None:
    """Raise ValueError if a step names an unknown station or tool, places a tag
    where it already is or on two readers, removes one that is not there, or
    crowds a reader past the tags it follows; or moves the temperature of a
    station without a probe, or beyond the probe's -55..125 °C."""
    field: dict[str, list[str]] = {s.id: [] for s in config.stations}
    steps = [DayStep(at=START, station=station, action="place", tool=tool) for station, tool in OPENING] + timeline()
    probes = probe_stations(config)
    for step in steps:
        if step.station not in field:
            raise ValueError(f"{step.at}: station '{step.station}' is not in the workshop")
        if step.action == "hot_wash":
            if step.station not in probes:
                raise ValueError(f"{step.at}: {step.station} has no probe")
            if step.celsius is None or not -55 <= step.celsius <= 125:
                raise ValueError(f"{step.at}: {step.celsius} °C is beyond the probe's -55..125 °C")
            continue
        tag = tag_of(config, step.tool)
        here = field[step.station]
        if step.action == "place":
            elsewhere = [s for s, tags in field.items() if tag in tags]
            if elsewhere:
                raise ValueError(f"{step.at}: {step.tool} is already on {elsewhere[0]}")
            if len(here) >= MAX_TAGS:
                raise ValueError(f"{step.at}: {step.station} already follows {MAX_TAGS} tags")
            here.append(tag)
        elif tag not in here:
            raise ValueError(f"{step.at}: {step.tool} is not on {step.station}")
        else:
            here.remove(tag)
