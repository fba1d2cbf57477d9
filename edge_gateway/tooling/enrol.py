"""Enrolment: a tag read is a tool added to the workshop config (``sebiao enroll``, docs/device-tooling.md).

The new tools are checked by the gateway's own parser (``model.workshop.parse_config``) on the whole
file as it will be, then appended to the ``tools:`` list as text in the file's own style (one flow
mapping per line, as ``examples/workshop.yaml`` writes them): comments, order and layout of the rest
stay as the owner wrote them. No YAML round-trip library is a dependency (PyYAML drops comments), and
the text written is read back and must equal the document intended, else nothing is written.

A write holds an exclusive lock (``<config>.lock``, ``flock``) from reading to the rename, so two
enrolments at once (two installers, the command and the console) are applied one after the other and
neither is lost. The file is replaced atomically (temp file, fsync, rename, fsync of the directory);
the previous versions are kept as ``<config>.1`` (the newest) to ``<config>.5``. The new tools' ids go
to ``<config>.labels-pending`` for ``sebiao labels --pending``.
"""

from __future__ import annotations

import fcntl
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from edge_gateway.model.workshop import Tool, WorkshopConfig, parse_config
from sebiao_common.domain import COLORS, TOOL_KINDS, StationKind
from sebiao_common.errors import ConfigError
from sebiao_common.ids import normalize_tag
from sebiao_common.yamlfile import load_yaml

KEEP = 5  # previous versions kept: <config>.1 .. <config>.5
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
    try:
        tag = normalize_tag(req.tag)
    except ValueError as exc:
        raise ConfigError(config.file, f"{where}.tag", str(exc)) from exc
    owner = next((t.id for t in config.tools if t.tag == tag), None)
    if owner is not None:
        raise ConfigError(config.file, f"{where}.tag", f"标签 {tag} 已登记为 {owner} / tag {tag} is already "
                                                       f"enrolled as {owner}")
    if req.home is not None:
        station = config.station(req.home)
        if station is None or station.kind is not StationKind.RACK:
            what = ("不是本作坊的读卡站 / is not a station of this workshop" if station is None else
                    f"是{STATION_ZH.get(station.kind.value, '')}，不是器具架 / is a {station.kind.value}, not a rack")
            raise ConfigError(config.file, f"{where}.home", f"'{req.home}' {what}")


def complete(config: WorkshopConfig, requests: list[Request]) -> list[Tool]:
    """The tools the requests make on ``config``: checked, ids and homes filled in."""
    taken = {t.id for t in config.tools}
    tags: set[str] = set()
    out = []
    for i, req in enumerate(requests):
        where = f"enrol[{i}] ({req.tag})"
        check_request(config, req, where)
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
    if lines[start].split(":", 1)[1].split("#", 1)[0].strip():
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


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<config>.lock`` (the config itself is replaced, so it cannot carry the lock)."""
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def enrol(path: str | Path, requests: list[Request]) -> list[Tool]:
    """Add the requested tools to the config at ``path``; returns them as written. Nothing is written
    when any request or the resulting file is refused (ConfigError naming the file, field and reason)."""
    path = Path(path)
    with locked(path):
        data = load_yaml(path)
        config = parse_config(data, str(path))
        tools = complete(config, requests)
        text = path.read_text("utf-8")
        new_text = append_tools(text, tools, str(path))
        intended = dict(data, tools=list(data["tools"] or []) + [tool_dict(t) for t in tools])
        written = yaml.safe_load(new_text)
        if written != intended:
            raise ConfigError(str(path), "tools", "无法在保留原格式的情况下追加 / cannot append in the file's own "
                                                  "style: write tools: as a block list, one '- {...}' per line")
        parse_config(written, str(path))  # the gateway's parser on the whole file as it will be
        _replace(path, new_text)
        _queue_labels(path, tools)
    return tools


def _replace(path: Path, text: str) -> None:
    """Keep the previous versions, then write ``text`` to a temp file, fsync, rename over ``path``."""
    for n in range(KEEP - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    previous = path.with_name(f"{path.name}.1")
    _write_synced(previous, path.read_bytes())
    _write_synced(path, text.encode("utf-8"))


def _write_synced(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def pending_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".labels-pending")


def _queue_labels(path: Path, tools: list[Tool]) -> None:
    with open(pending_path(path), "a", encoding="utf-8") as fh:
        fh.writelines(f"{t.id}\n" for t in tools)
        fh.flush()
        os.fsync(fh.fileno())


def pending_labels(path: str | Path) -> list[str]:
    try:
        lines = pending_path(path).read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))
