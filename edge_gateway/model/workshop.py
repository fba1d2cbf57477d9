"""The workshop config model: stations, tools, rules, validated once at start-up (pure: data in, values out).

The contract is in ``docs/config.md``. Every error names the file, the field path and the reason, e.g.
``workshop.yaml: tools[3].home: station 'rack-red-9' is not defined``. Later sections (``influx``, ``cloud``,
``display``, ``intake``) are parsed by the parts that own them; this module keeps the whole file's key list so
an unknown key is still an error.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from edge_gateway.model.disinfection import DEFAULT_HOT_WASH, Threshold, parse_disinfect, parse_threshold
from edge_gateway.model.health_rules import HealthRules, parse_health_rules
from sebiao_common.alarms import ALARM_TYPES, SEVERITIES
from sebiao_common.domain import COLORS, DISINFECT_METHODS, HOT_WASH, TOOL_KINDS, StationKind
from sebiao_common.ids import SLUG, SLUG_HINT, TOOL_ID, TOOL_ID_HINT, normalize_tag
from sebiao_common.yamlfile import Node

# ``raw_to_white`` is the severity of a cross-zone alarm where a raw-class tool
# (red, blue, green) reaches a white rack or sink: the worst case in the seed.
DEFAULT_SEVERITY: dict[str, str] = {
    "raw_to_white": "critical",
    "cross_zone": "major",
    "cross_zone_wash": "major",
    "unwashed_return": "major",
    "undisinfected_return": "major",
    "overdue": "minor",
    "misplaced": "warning",
    "unknown_tag": "warning",
    "station_offline": "major",
    "station_clock": "major",
    "roll_call": "major",
    "station_resets": "major", "reader_fault": "major",  # a station's evidence has gaps (docs/alarms.md)
}
# Seed 六(三): every tool is cleaned and disinfected after every use, cloths included.
DEFAULT_WASH_REQUIRED = tuple(TOOL_KINDS)
# A wash counts after this long at a sink of the tool's colour (placed -> removed, docs/config.md says why).
DEFAULT_WASH_MIN_SECONDS = 15
# The grade (分级定榜) is the regulator's: published in the cloud, signed, fetched by the gateway
# (sinks/cloud/grade.py). The workshop's own file may not claim one.
GRADE_REFUSED = ("等级（金/银/铜/橙榜）由监管部门在云端评定并发布，网关只显示云端签名的等级，请删除此项 / "
                 "the grade (gold/silver/bronze/orange list) is set and published by the regulator in the cloud; "
                 "the gateway shows only a grade the cloud signed (cloud.public_key, docs/config.md): remove this key")
# A tool's colour marking (seed 四): knives, scissors, brushes get a label on the handle (labelled); boards,
# cloths, containers a partial label first (labelled), then an item of that colour (replaced). An existing
# config has no such key: its tools are "pending" until the owner records the work (docs/config.md says why).
MARKINGS = ("labelled", "replaced", "pending")
DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Tags a reader follows at once (MFRC522: firmware reader.max_tags, default 8; PN532: 2), the most tools a rack homes
READER_MAX_TAGS = {"mfrc522": 8, "pn532": 2}


@dataclass(frozen=True, kw_only=True)
class WorkshopInfo:
    id: str
    name: str
    district: str


@dataclass(frozen=True, kw_only=True)
class BrokerSettings:
    url: str
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str, username: str | None = None, password: str | None = None) -> "BrokerSettings":
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"{url!r}：只能用 mqtt:// 或 mqtts:// / {url!r}: the scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"{url!r}：缺少主机名 / {url!r}: no host")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError as exc:
            raise ValueError(f"{url!r}：端口不对 / {url!r}: bad port") from exc
        return cls(url=url, host=parts.hostname, port=port, tls=parts.scheme == "mqtts",
                   username=username or parts.username, password=password or parts.password)


@dataclass(frozen=True, kw_only=True)
class Station:
    id: str
    kind: StationKind
    zone: str
    name: str | None = None
    probe: bool = False  # it has a temperature probe and sends cycles (a disinfect station always does)
    method: str | None = None  # cabinet | boiling | dishwasher (disinfect), hot_wash (a probed sink)

    @property
    def proves_disinfection(self) -> bool:
        return self.probe and self.method is not None


@dataclass(frozen=True, kw_only=True)
class Tool:
    id: str
    kind: str
    color: str
    tag: str | None  # None: no NFC tag fitted yet; listed, but no reader can see it (not tracked)
    home: str
    marking: str = "pending"  # the seed's colour marking: labelled | replaced | pending (MARKINGS)
    marked_on: str | None = None  # YYYY-MM-DD, when it was labelled or replaced


@dataclass(frozen=True, kw_only=True)
class RuleException:
    """A recorded deviation (seed 六(五)): this pairing raises no alarm of these types."""

    station: str
    reason: str
    alarms: frozenset[str]
    tool: str | None = None
    color: str | None = None

    def covers(self, tool: Tool, station: str, alarm_type: str) -> bool:
        return (
            station == self.station
            and alarm_type in self.alarms
            and (self.tool is None or self.tool == tool.id)
            and (self.color is None or self.color == tool.color)
        )


@dataclass(frozen=True, kw_only=True)
class Rules:
    overdue_after_minutes: int = 240
    wash_required: frozenset[str] = frozenset(DEFAULT_WASH_REQUIRED)
    wash_min_seconds: int = DEFAULT_WASH_MIN_SECONDS
    disinfect_required: frozenset[str] = frozenset()  # parse_config fills the default from the stations
    disinfect: tuple[tuple[str, Threshold], ...] = parse_disinfect(None)
    hot_wash: Threshold = DEFAULT_HOT_WASH
    station_offline_after_seconds: int = 90
    station_health: HealthRules = HealthRules()
    severity: tuple[tuple[str, str], ...] = tuple(DEFAULT_SEVERITY.items())
    exceptions: tuple[RuleException, ...] = ()

    def severity_of(self, key: str) -> str:
        return dict(self.severity)[key]

    def threshold(self, method: str) -> Threshold:
        return self.hot_wash if method == HOT_WASH else dict(self.disinfect)[method]


HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")  # a host name in ``http.allowed_hosts``


@dataclass(frozen=True, kw_only=True)
class HttpSettings:
    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # names the HTTP API answers to besides its own (edge_gateway/web/hosts.py)


@dataclass(frozen=True, kw_only=True)
class WorkshopConfig:
    file: str
    workshop: WorkshopInfo
    broker: BrokerSettings | None
    stations: tuple[Station, ...]
    tools: tuple[Tool, ...]
    rules: Rules = Rules()
    http: HttpSettings = HttpSettings()
    extra: tuple[tuple[str, object], ...] = ()  # sections owned by other parts, as read from YAML
    # (station id, mfrc522 | pn532) for the stations that name their reader. Kept beside the stations, not in
    # Station: the chip fitted is no rule, and the setup the regulator reviews is Station's every field.
    readers: tuple[tuple[str, str], ...] = ()
    _stations: dict = field(default_factory=dict, compare=False, repr=False)
    _tags: dict = field(default_factory=dict, compare=False, repr=False)
    _tools: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._stations.update({s.id: s for s in self.stations})
        self._tags.update({t.tag: t for t in self.tools if t.tag is not None})
        self._tools.update({t.id: t for t in self.tools})

    def station(self, station_id: str) -> Station | None:
        return self._stations.get(station_id)

    def reader(self, station_id: str) -> str | None:  # None: the provisioning's --reader
        return dict(self.readers).get(station_id)

    def tool_by_tag(self, tag: str) -> Tool | None:
        return self._tags.get(tag)

    def tool(self, tool_id: str) -> Tool | None:
        return self._tools.get(tool_id)

    @property
    def disinfection_stations(self) -> tuple[Station, ...]:
        """The stations whose cycles can prove a disinfection (a disinfect station, a probed sink)."""
        return tuple(s for s in self.stations if s.proves_disinfection)

    @property
    def disinfection_monitored(self) -> bool:
        """Some station's cycles can prove a disinfection (whether the rules then require one or not)."""
        return bool(self.disinfection_stations)

    def section(self, name: str) -> object:
        """A section another part owns and parses (``influx``, ``cloud``, ``display``), as read; None without it."""
        return dict(self.extra).get(name)


# Sections parsed elsewhere (added by the parts that own them); kept here so the
# top-level key check knows them.
EXTRA_SECTIONS = ("influx", "cloud", "display", "intake", "time_server", "notify", "day", "station_settings", "fleet")


def parse_config(data: object, file: str = "workshop.yaml") -> WorkshopConfig:
    root = Node(file, "", data).mapping(
        required=("workshop", "stations", "tools"),
        optional=("broker", "rules", "http") + EXTRA_SECTIONS,
    )
    stations, readers = _stations(root.child("stations"))
    by_id = {s.id: s for s in stations}
    tools = _tools(root.child("tools"), by_id)
    for index, station in enumerate(stations):  # a station naming its reader homes no more tools than it follows
        if station.id in readers and (problem := reader_overload(station, readers[station.id], tools)):
            raise root.child("stations").child(index).child("reader").fail(*problem)
    rules = _rules(root.get("rules"), by_id, {t.id: t for t in tools})
    _check_sinks(root.child("tools"), tools, stations, rules)
    _check_disinfection(root.get("rules"), stations, rules)
    return WorkshopConfig(
        file=file,
        workshop=_workshop(root.child("workshop")),
        broker=_broker(root.get("broker")),
        stations=stations,
        tools=tools,
        rules=rules,
        http=_http(root.get("http")),
        extra=tuple((k, root.value[k]) for k in EXTRA_SECTIONS if root.value.get(k) is not None),
        readers=tuple(readers.items()),
    )


def parse_rules(data: object, config: WorkshopConfig, file: str = "accepted setup") -> Rules:
    """Rules in the setup's plain form (``model/setup.py``: the accepted setup the cloud sends back), checked
    against this config's stations and tools like the config's own."""
    return _rules(Node(file, "rules", data), {s.id: s for s in config.stations}, {t.id: t for t in config.tools})


def _workshop(node: Node) -> WorkshopInfo:
    if isinstance(node.value, dict) and "grade" in node.value:
        raise node.child("grade").fail(GRADE_REFUSED)
    node.mapping(required=("id", "name", "district"))
    return WorkshopInfo(id=_slug(node.child("id")), name=node.child("name").string(),
                        district=node.child("district").string())


def _slug(node: Node) -> str:
    value = node.string(SLUG, SLUG_HINT)
    if len(value) > 32:
        raise node.fail(f"{value!r} is longer than 32 characters", f"{value!r} 超过 32 个字符")
    return value


def _broker(node: Node | None) -> BrokerSettings | None:
    if node is None:
        return None
    node.mapping(required=("url",), optional=("username", "password"))
    user, password = node.get("username"), node.get("password")
    url = node.child("url")
    url.string()
    return url.convert(lambda v: BrokerSettings.parse(
        v, user.string() if user else None, password.string() if password else None))


def _stations(node: Node) -> tuple[tuple[Station, ...], dict[str, str]]:
    seen: dict[str, str] = {}
    out, readers = [], {}
    for item in node.items():
        item.mapping(required=("id", "kind", "zone"), optional=("name", "probe", "method", "reader"))
        sid = _slug(item.child("id"))
        if sid in seen:
            raise item.child("id").fail(f"duplicate station id '{sid}' (first at {seen[sid]})",
                                        f"读卡站编号 '{sid}' 重复（首次出现在 {seen[sid]}）")
        seen[sid] = item.path
        name, reader = item.get("name"), item.get("reader")
        kind = StationKind(item.child("kind").choice(k.value for k in StationKind))
        probe, method = _probe(item, kind)
        out.append(Station(
            id=sid,
            kind=kind,
            zone=item.child("zone").choice(COLORS),
            name=name.string() if name else None,
            probe=probe,
            method=method,
        ))
        if reader is not None:
            readers[sid] = reader.choice(READER_MAX_TAGS)
    if not out:
        raise node.fail("a workshop needs at least one station", "作坊至少要有一个读卡站")
    return tuple(out), readers


def _probe(item: Node, kind: StationKind) -> tuple[bool, str | None]:
    """``probe`` (a disinfect station has one unless it says ``false``) and the method its cycles are judged by."""
    probe_node, method_node = item.get("probe"), item.get("method")
    if probe_node is not None and kind is StationKind.RACK:
        raise probe_node.fail("a rack has no temperature probe: 'probe' is for disinfect and sink stations",
                              "器具架没有温度探头：'probe' 只用于消毒设备和清洗池")
    if method_node is not None and kind is not StationKind.DISINFECT:
        raise method_node.fail(f"'method' is for disinfect stations, this is a {kind.value}",
                               f"'method' 只用于消毒设备，这是 {kind.value}")
    probe = probe_node.boolean() if probe_node is not None else kind is StationKind.DISINFECT
    if kind is StationKind.DISINFECT:
        return probe, method_node.choice(DISINFECT_METHODS) if method_node is not None else "cabinet"
    return probe, HOT_WASH if probe else None


def _tools(node: Node, stations: dict[str, Station]) -> tuple[Tool, ...]:
    ids: dict[str, str] = {}
    tags: dict[str, str] = {}
    out = []
    for item in node.items():
        item.mapping(required=("id", "kind", "color", "home"), optional=("tag", "marking", "marked_on"))
        tid = item.child("id").string(TOOL_ID, TOOL_ID_HINT)
        if tid in ids:
            raise item.child("id").fail(f"duplicate tool id '{tid}' (first at {ids[tid]})",
                                        f"器具编号 '{tid}' 重复（首次出现在 {ids[tid]}）")
        ids[tid] = item.path
        tag_node = item.get("tag")  # absent: no tag fitted yet, the tool is listed but not tracked
        tag = tag_node.convert(normalize_tag) if tag_node is not None else None
        if tag is not None and tag in tags:
            raise item.child("tag").fail(f"duplicate tag {tag} (also at {tags[tag]})",
                                         f"标签 {tag} 重复（{tags[tag]} 也用了它）")
        if tag is not None:
            tags[tag] = item.path
        kind = item.child("kind").choice(TOOL_KINDS)
        color = item.child("color").choice(COLORS)
        home = item.child("home").string()
        _check_home(item.child("home"), home, color, stations)
        marking_node, day_node = item.get("marking"), item.get("marked_on")
        marking = marking_node.choice(MARKINGS) if marking_node is not None else "pending"
        marked_on = day_node.convert(_day) if day_node is not None else None
        if marked_on is not None and marking == "pending":
            raise item.child("marked_on").fail("a pending tool has no marked_on: set marking to labelled or replaced",
                                               "未完成标识的器具没有 marked_on：先把 marking 设为 labelled 或 replaced")
        out.append(Tool(id=tid, kind=kind, color=color, tag=tag, home=home, marking=marking, marked_on=marked_on))
    return tuple(out)


def _day(value: object) -> str:
    """``YYYY-MM-DD`` (YAML reads an unquoted one as a date: taken as its ISO text), a real day of the calendar."""
    text = value.isoformat() if hasattr(value, "isoformat") else value
    found = DAY.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"{value!r} 不是日期，请写成 YYYY-MM-DD / {value!r} is not a day: write YYYY-MM-DD, "
                         "e.g. 2026-11-20")
    year, month, day = (int(g) for g in found.groups())
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise ValueError(f"{text} 不是日历上的日期 / {text} is not a day of the calendar")
    return text


def _check_home(node: Node, home: str, color: str, stations: dict[str, Station]) -> None:
    station = stations.get(home)
    if station is None:
        raise node.fail(f"station '{home}' is not defined", f"没有定义读卡站 '{home}'")
    if station.kind is not StationKind.RACK:
        raise node.fail(f"station '{home}' is a {station.kind.value}, a tool's home must be a rack",
                        f"读卡站 '{home}' 是 {station.kind.value}，器具的归位处必须是器具架（rack）")
    if station.zone != color:
        raise node.fail(f"station '{home}' is a {station.zone} rack, the tool is {color}",
                        f"读卡站 '{home}' 是 {station.zone} 区的器具架，器具是 {color} 色")


def reader_overload(station: Station, reader: str, tools: tuple[Tool, ...]) -> tuple[str, str] | None:
    """(English, 中文) when more tools call ``station`` home than ``reader`` can follow; None when they fit."""
    homed = [t.id for t in tools if t.home == station.id]
    most = READER_MAX_TAGS[reader]
    if len(homed) <= most:
        return None
    return (f"a {reader} reader follows at most {most} tags, {len(homed)} tools call '{station.id}' home "
            f"({', '.join(homed)}): give the extra tools a rack of their own"
            + (", or fit an mfrc522 (up to 8)" if reader == "pn532" else ""),
            f"{reader.upper()} 读卡器最多同时读 {most} 个标签，但有 {len(homed)} 件器具以 '{station.id}' 为存放架："
            "请为多出的器具另设一个器具架" + ("，或改用 MFRC522（最多 8 件）" if reader == "pn532" else ""))


def _check_sinks(node: Node, tools: tuple[Tool, ...], stations: tuple[Station, ...], rules: Rules) -> None:
    """A tool that must be washed needs a sink of its colour (seed 六(三)), or it can never pass."""
    sink_zones = {s.zone for s in stations if s.kind is StationKind.SINK}
    for index, tool in enumerate(tools):
        if tool.kind in rules.wash_required and tool.color not in sink_zones:
            raise node.child(index).fail(
                f"a {tool.kind} must be washed (rules.wash_required) but there is no {tool.color} sink: add one, or "
                f"list the kinds to wash in rules.wash_required (by default every kind, cloths included)",
                f"{tool.kind} 必须清洗（rules.wash_required），但没有 {tool.color} 色清洗池：请添加，或在 "
                "rules.wash_required 中列出要清洗的器具类别（默认是所有类别，包括抹布）")


def _check_disinfection(node: Node | None, stations: tuple[Station, ...], rules: Rules) -> None:
    """Disinfection the rules ask for must be provable: some station sends cycles."""
    # Only an explicit rules.disinfect_required can get here: the default follows the stations.
    if node is not None and rules.disinfect_required and not any(s.proves_disinfection for s in stations):
        raise node.child("disinfect_required").fail(
            "disinfection is required but no station can prove it: add a 'disinfect' station (with its probe) "
            "or 'probe: true' on a sink, or leave rules.disinfect_required out",
            "要求消毒，但没有能证明消毒的读卡站：请添加带探头的 'disinfect' 读卡站，或给清洗池设 'probe: true'，"
            "或删去 rules.disinfect_required")


def _rules(node: Node | None, stations: dict[str, Station], tools: dict[str, Tool]) -> Rules:
    # Default: every kind must be disinfected once some station can prove it; else none (and the
    # gateway says at start-up and on the display that disinfection is not monitored).
    default_disinfect = (frozenset(TOOL_KINDS) if any(s.proves_disinfection for s in stations.values())
                         else frozenset())
    if node is None:
        return Rules(disinfect_required=default_disinfect)
    node.mapping(optional=("overdue_after_minutes", "wash_required", "wash_min_seconds", "disinfect_required",
                           "disinfect", "hot_wash", "station_offline_after_seconds", "severity", "exceptions",
                           "station_health"))
    defaults = Rules()
    overdue, wash, offline = (node.get(k) for k in
                              ("overdue_after_minutes", "wash_required", "station_offline_after_seconds"))
    dwell, disinfect, hot = (node.get(k) for k in ("wash_min_seconds", "disinfect_required", "hot_wash"))
    return Rules(
        overdue_after_minutes=overdue.integer(1, 7 * 24 * 60) if overdue else defaults.overdue_after_minutes,
        wash_required=frozenset(i.choice(TOOL_KINDS) for i in wash.items()) if wash else defaults.wash_required,
        wash_min_seconds=dwell.integer(0, 3600) if dwell else defaults.wash_min_seconds,
        disinfect_required=(frozenset(i.choice(TOOL_KINDS) for i in disinfect.items()) if disinfect is not None
                            else default_disinfect),
        disinfect=parse_disinfect(node.get("disinfect")),
        hot_wash=parse_threshold(hot, defaults.hot_wash) if hot is not None else defaults.hot_wash,
        station_offline_after_seconds=(offline.integer(10, 86400) if offline
                                       else defaults.station_offline_after_seconds),
        station_health=parse_health_rules(node.get("station_health")), severity=_severity(node.get("severity")),
        exceptions=_exceptions(node.get("exceptions"), stations, tools))


def _severity(node: Node | None) -> tuple[tuple[str, str], ...]:
    table = dict(DEFAULT_SEVERITY)
    if node is not None:
        node.mapping(optional=tuple(DEFAULT_SEVERITY))
        for key in node.value:
            table[key] = node.child(key).choice(SEVERITIES)
    return tuple(table.items())


def _exceptions(node: Node | None, stations: dict[str, Station], tools: dict[str, Tool]
                ) -> tuple[RuleException, ...]:
    if node is None:
        return ()
    out = []
    for item in node.items():
        item.mapping(required=("station", "reason"), optional=("tool", "color", "alarms"))
        station = item.child("station").string()
        if station not in stations:
            raise item.child("station").fail(f"station '{station}' is not defined", f"没有定义读卡站 '{station}'")
        tool = item.get("tool")
        if tool and tool.string() not in tools:
            raise tool.fail(f"tool '{tool.value}' is not defined", f"没有定义器具 '{tool.value}'")
        color = item.get("color")
        if tool is None and color is None:
            raise item.fail("an exception names a 'tool' or a 'color'", "例外要写明 'tool' 或 'color'")
        alarms = item.get("alarms")
        out.append(RuleException(
            station=station,
            reason=item.child("reason").string(),
            alarms=(frozenset(a.choice(ALARM_TYPES) for a in alarms.items()) if alarms
                    else frozenset({"cross_zone", "cross_zone_wash"})),
            tool=tool.value if tool else None,
            color=color.choice(COLORS) if color else None,
        ))
    return tuple(out)


def _http(node: Node | None) -> HttpSettings:
    if node is None:
        return HttpSettings()
    node.mapping(optional=("token", "allowed_hosts"))
    token = node.get("token")
    value = token.string() if token is not None else None
    if token is not None and value is not None and len(value) < 16:
        raise token.fail("a token must have at least 16 characters", "令牌至少 16 个字符")
    hosts = node.get("allowed_hosts")
    allowed = tuple(h.convert(_host_name) for h in hosts.items()) if hosts is not None else ()
    return HttpSettings(token=value, allowed_hosts=allowed)


def _host_name(value: object) -> str:
    """A host name or an IP address (IPv6 with or without brackets), lower case."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return str(ipaddress.ip_address(text.strip("[]")))
        except ValueError:
            if len(text) <= 253 and HOST_NAME.fullmatch(text):
                return text.rstrip(".")
    raise ValueError(f"{value!r} 不是主机名或 IP 地址 / {value!r} is not a host name or an IP address: write it "
                     "without scheme or port (e.g. gateway.lan, 192.168.1.20)")
