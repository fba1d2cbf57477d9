"""Enrolment, the pure part: which tools a set of new tags makes, and the config text with them added.

``sebiao enroll`` and the console's "登记此标签 / enrol this tag" both come here; the file is read,
locked and written by ``edge_gateway.config.enrol``. A request is checked for what an installer gets
wrong (kind, colour, a tag already enrolled, a home that is no rack) with words naming it; the whole
file is then checked by ``parse_config`` as the gateway will read it. The new tools are appended to the
``tools:`` list as text in the file's own style (one flow mapping per line, at the items' indent), so
the owner's comments, order and layout stay; PyYAML writes no comments and no round-trip YAML library
is a dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_gateway.model.workshop import Tool, WorkshopConfig
from sebiao_common.domain import COLORS, TOOL_KINDS, StationKind
from sebiao_common.errors import ConfigError
from sebiao_common.ids import normalize_tag

KIND_PREFIX = {"knife": "KN", "scissors": "SC", "cutting_board": "CB", "cloth": "CL", "brush": "BR",
               "container": "CT"}
STATION_ZH = {"sink": "清洗池", "disinfect": "消毒设备"}
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:")
_ITEM = re.compile(r"^(\s*)-\s")


@dataclass(frozen=True, kw_only=True)
class Request:
    """One tag to enrol; ``id`` and ``home`` None: the next free id, the first rack of the colour."""

    tag: str
    kind: str
    color: str
    home: str | None = None
    id: str | None = None


def next_id(kind: str, color: str, taken: set[str]) -> str:
    """``KN-R-03``: the kind's prefix, the colour's initial, one more than the highest number in use."""
    prefix = f"{KIND_PREFIX[kind]}-{color[0].upper()}-"
    used = [int(t[len(prefix):]) for t in taken if t.startswith(prefix) and t[len(prefix):].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:02d}"


def default_home(config: WorkshopConfig, color: str) -> str | None:
    """The first rack of the colour's zone, as listed in the config."""
    return next((s.id for s in config.stations if s.kind is StationKind.RACK and s.zone == color), None)


def check_request(config: WorkshopConfig, req: Request, where: str) -> None:
    """Refuse, naming the field, what the parser would refuse less clearly for an installer."""
    if req.kind not in TOOL_KINDS:
        raise ConfigError(config.file, f"{where}.kind",
                          f"'{req.kind}' 不是器具种类 / is not a tool kind; one of {', '.join(TOOL_KINDS)}")
    if req.color not in COLORS:
        raise ConfigError(config.file, f"{where}.color",
                          f"'{req.color}' 不是色标颜色 / is not a colour of the seed; one of {', '.join(COLORS)}")
    if req.tag:  # empty: the tag is not known yet (one to be labelled at a USB reader)
        _check_tag(config, req.tag, where)
    if req.home is not None:
        station = config.station(req.home)
        if station is None or station.kind is not StationKind.RACK:
            what = ("不是本作坊的读卡站 / is not a station of this workshop" if station is None else
                    f"是{STATION_ZH.get(station.kind.value, '')}，不是器具架 / is a {station.kind.value}, not a rack")
            raise ConfigError(config.file, f"{where}.home", f"'{req.home}' {what}")


def _check_tag(config: WorkshopConfig, value: str, where: str) -> None:
    try:
        tag = normalize_tag(value)
    except ValueError as exc:
        raise ConfigError(config.file, f"{where}.tag", str(exc)) from exc
    owner = next((t.id for t in config.tools if t.tag == tag), None)
    if owner is not None:
        raise ConfigError(config.file, f"{where}.tag", f"标签 {tag} 已登记为 {owner} / tag {tag} is already "
                                                       f"enrolled as {owner}")


def complete(config: WorkshopConfig, requests: list[Request]) -> list[Tool]:
    """The tools the requests make on ``config``: checked, ids and homes filled in."""
    taken = {t.id for t in config.tools}
    tags: set[str] = set()
    out = []
    for i, req in enumerate(requests):
        where = f"enrol[{i}] ({req.tag})"
        check_request(config, req, where)
        _check_tag(config, req.tag, where)  # the tag must be given here
        tag = normalize_tag(req.tag)
        if tag in tags:
            raise ConfigError(config.file, f"{where}.tag", f"标签 {tag} 出现两次 / tag {tag} is given twice")
        tags.add(tag)
        home = req.home or default_home(config, req.color)
        if home is None:
            raise ConfigError(config.file, f"{where}.home", f"{req.color} 区没有器具架 / the {req.color} zone has "
                                                            "no rack: give --home")
        tool_id = req.id or next_id(req.kind, req.color, taken)
        taken.add(tool_id)
        out.append(Tool(id=tool_id, kind=req.kind, color=req.color, tag=tag, home=home))
    return out


def tool_line(tool: Tool) -> str:
    return f"{{id: {tool.id}, kind: {tool.kind}, color: {tool.color}, tag: '{tool.tag}', home: {tool.home}}}"


def tool_dict(tool: Tool) -> dict[str, str]:
    return {"id": tool.id, "kind": tool.kind, "color": tool.color, "tag": tool.tag or "", "home": tool.home}


def append_tools(text: str, tools: list[Tool], file: str) -> str:
    """``text`` with ``tools`` appended to its top-level ``tools:`` block list, in the items' own indent."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _TOP_KEY.match(line) and
                  _TOP_KEY.match(line).group(1) == "tools"), None)
    if start is None:
        raise ConfigError(file, "tools", "没有 tools: 列表 / no top-level tools: list to add to")
    value, hash_, comment = lines[start].split(":", 1)[1].partition("#")
    if value.replace(" ", "").strip() == "[]":  # a new workshop's empty list (examples/workshop-new.yaml): becomes a block list
        lines[start] = "tools:" + (f"  {hash_}{comment.rstrip()}" if hash_ else "") + "\n"
    elif value.strip():
        raise ConfigError(file, "tools", "tools: 写成了一行 / is written on one line (flow style): write it as a "
                                         "list, one '- {id: ...}' per line, to enrol into it")
    last, indent = start, "  "
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not (line[0].isspace() or line.startswith("-")):
            break  # the next top-level key
        last = i
        item = _ITEM.match(line)
        if item:
            indent = item.group(1)
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    new = [f"{indent}- {tool_line(t)}\n" for t in tools]
    return "".join(lines[:last + 1] + new + lines[last + 1:])
