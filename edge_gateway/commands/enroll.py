"""``sebiao enroll``: new tags become tools in the workshop config (model/enrolment.py, config.py).

The tags come from ``--tag``, from the running gateway (``--from-gateway``: the tags its stations read
that no tool has, ``GET /api/unknown-tags``, with the smart label each carried), or from a station on
USB serial (``--port``) that writes each new tag's smart label as ``sebiao label write`` does. Without
``--kind`` (and no label naming it) each tag is asked about, Chinese first, with defaults (the station's
zone, its first rack, the next id). The running gateway sees its file change and starts again on it
(``sebiao gateway --watch-config``)."""

from __future__ import annotations

import argparse
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from edge_gateway.config import enrol, load_config, pending_labels
from edge_gateway.model.enrolment import KIND_PREFIX, Request, default_home, next_id
from edge_gateway.model.workshop import Station, Tool, WorkshopConfig
from edge_gateway.tooling.devices.label_serial import PREFIX, Line, write_label
from sebiao_common import strict_json
from sebiao_common.domain import COLORS, TOOL_KINDS, StationKind
from sebiao_common.errors import SebiaoError
from sebiao_common.ids import TOOL_ID

RESTART_WAIT = 30.0  # seconds: the gateway starts again on the new file meanwhile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    parser.add_argument("--tag", action="append", default=[], metavar="UID",
                        help="a tag's UID (hex); repeat for more / 标签 UID，可重复")
    parser.add_argument("--from-gateway", metavar="URL",
                        help="take the unknown tags the gateway has seen, oldest first, e.g. http://127.0.0.1:8080 "
                             "/ 从网关读取未登记标签")
    parser.add_argument("--port", metavar="DEV",
                        help="a station on USB serial (as for sebiao label write): each new tag held to it gets "
                             "its smart label (the next free id, --kind, --color) and is enrolled / "
                             "通过 USB 读卡站写标签并登记")
    parser.add_argument("--count", type=int, default=1, help="with --port: how many tags, one after the other")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--token", help="the gateway's API token (default: http.token of --config) / 网关 API 令牌")
    parser.add_argument("--kind", choices=list(TOOL_KINDS), help="tool kind of every tag (no questions) / 器具种类")
    parser.add_argument("--color", choices=list(COLORS),
                        help="colour (default: the zone of the station that read the tag) / 色标颜色")
    parser.add_argument("--home", metavar="RACK", help="home rack (default: the rack that read the tag, if of the "
                                                       "colour; else the colour's first rack) / 固定存放架")
    parser.add_argument("--id", dest="tool_id", metavar="ID", help="tool id for a single tag (default: next free, "
                                                                     "e.g. KN-R-03) / 器具编号")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.port:
        return _at_reader(args)
    found = [Found(tag=tag) for tag in args.tag]  # given: an enrolled one is refused
    if args.from_gateway:  # read at the stations: those enrolled since (the gateway runs on) are skipped
        given = {f.tag.upper() for f in found}
        found += [f for f in unknown_tags(args.from_gateway, args.token or config.http.token)
                  if config.tool_by_tag(f.tag.upper()) is None and f.tag.upper() not in given]
    if not found:
        print("没有待登记的标签 / no tag to enrol")
        return 0
    if args.tool_id and len(found) != 1:
        raise SebiaoError("--id 只能用于一个标签 / --id names one tag only; leave it out for the next free ids")
    requests = [_request(config, args, f) for f in found]
    tools = enrol(args.config, requests)
    for tool in tools:
        print(f"已登记 / enrolled: {tool.id} {tool.kind} {tool.color} tag {tool.tag} home {tool.home}")
    if args.from_gateway:
        _answer_alarms(args.from_gateway, args.token or config.http.token, tools)
    _done(args.config, len(tools))
    return 0


def _done(config: str, count: int) -> None:
    print(f"共 {count} 件；旧版本保存为 / previous version kept as {config}.1")
    print(f"待打印标签 / labels to print: {len(pending_labels(config))} "
          f"(sebiao labels --config {config} --pending --out labels.pdf)")
    print("运行中的网关将在几秒内自动重启并开始跟踪新器具 / the running gateway restarts itself within seconds "
          "and tracks the new tools (started with --watch-config 0: restart it yourself)")


def _at_reader(args: argparse.Namespace) -> int:
    from edge_gateway.tooling.devices.ports import require_port

    if args.count < 1:
        raise SebiaoError(f"--count {args.count}: 至少 1 / at least 1")
    if not (args.kind and args.color):
        raise SebiaoError("--port 需要 --kind 和 --color / --port needs --kind and --color (written on each label)")
    require_port(args.port)
    import serial

    try:
        with serial.Serial(args.port, args.baud, timeout=0.5) as link:
            tools = enrol_at_reader(args.config, link, args.port, args.kind, args.color, args.home, args.count)
    except serial.SerialException as exc:
        raise SebiaoError(f"{args.port}: cannot open the serial port: {exc}") from None
    _done(args.config, len(tools))
    return 0


def enrol_at_reader(config_path: str, link: Line, port: str, kind: str, color: str, home: str | None,
                    count: int, say=print) -> list[Tool]:
    """``count`` new tags held to the station on ``link`` one after the other: each gets the smart label of
    the next free id (``SEBIAO LABEL``, docs/device-tooling.md) and is enrolled at once, so a tag labelled
    is a tool in the file even when the run is cut short."""
    out = []
    for n in range(1, count + 1):
        config = load_config(config_path)
        # every check the file gets, before anything is written on a tag (its UID stands in as an unused one)
        stand_in = next(t for t in ("FFFFFFFF", "FFFFFFFE") if config.tool_by_tag(t) is None)
        tool_id = enrol(config_path, [Request(tag=stand_in, kind=kind, color=color, home=home)], dry_run=True)[0].id
        say(f"请在 60 秒内把第 {n} 个新标签放到读卡器上 / hold new tag {n} of {count} to the reader within 60 s "
            f"({tool_id})")
        written = write_label(link, f"{PREFIX}LABEL {tool_id} {kind} {color}\n", port)
        owner = config.tool_by_tag(written.uid)
        if owner is not None:  # the firmware writes whatever tag is there: put the owner's label back
            raise SebiaoError(f"标签 {written.uid} 已登记为 {owner.id}，其标签已被写为 {tool_id}：请运行 "
                              f"sebiao label write --tool {owner.id} 恢复 / tag {written.uid} is already enrolled as "
                              f"{owner.id} and its label now says {tool_id}: rewrite it with "
                              f"sebiao label write --tool {owner.id}")
        out += enrol(config_path, [Request(tag=written.uid, kind=kind, color=color, home=home, id=written.tool)])
        say(f"已登记 / enrolled: {tool_id} {kind} {color} tag {written.uid}")
    return out


@dataclass(frozen=True, kw_only=True)
class Found:
    """A tag to enrol: where it was first read, and its smart label's content if it has one."""

    tag: str
    station: str | None = None
    label: dict[str, str | None] | None = None


def unknown_tags(base: str, token: str | None) -> list[Found]:
    """The tags the gateway read that no tool has, in the order first read (``GET /api/unknown-tags``)."""
    rows = _http(base, "/api/unknown-tags", token, wait=RESTART_WAIT)  # it may be starting on the last enrolment
    return [Found(tag=r["tag"], station=r.get("station"), label=r.get("label")) for r in rows if r.get("tag")]


def _answer_alarms(base: str, token: str | None, tools: list[Tool]) -> None:
    """Clear the enrolled tags' active unknown-tag alarms, saying as what (the gateway's own lifecycle)."""
    by_tag = {t.tag: t for t in tools}
    try:
        alarms = [a for a in _http(base, "/api/alarms?state=active&limit=5000", token, wait=RESTART_WAIT)
                  if a.get("type") == "unknown_tag" and a.get("tag") in by_tag]
        for alarm in alarms:
            tool = by_tag[alarm["tag"]]
            body = strict_json.dumps({"by": "sebiao enroll", "comment": f"已登记为 {tool.id} / enrolled as {tool.id}"})
            _http(base, f"/api/alarms/{alarm['id']}/clear", token, body.encode(), wait=RESTART_WAIT)
    except SebiaoError as exc:  # enrolled all the same: the owner clears them in the console
        print(f"未能清除未登记标签报警 / the unknown-tag alarms were not cleared: {exc}", file=sys.stderr)


def _http(base: str, path: str, token: str | None, body: bytes | None = None, wait: float = 0.0):
    """The gateway's JSON answer to GET ``path`` (or to a POST of ``body``). A connection refused is tried
    again for ``wait`` seconds: the gateway starts again on the new file from the first write on."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(base.rstrip("/") + path, data=body, headers=headers,
                                     method="POST" if body is not None else "GET")
    deadline, said = time.monotonic() + wait, False
    while True:
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - the installer's URL
                return strict_json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SebiaoError(f"--from-gateway {base}{path}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise SebiaoError(f"--from-gateway {base}: 无法连接网关 / cannot reach the gateway: {exc}") from exc
            if not said:
                said = True
                print(f"网关无应答，等待它（重新）启动，最多 {wait:.0f} 秒 / the gateway does not answer: waiting up to "
                      f"{wait:.0f} s for it to (re)start", file=sys.stderr)
            time.sleep(0.5)


def _from_label(found: Found, config: WorkshopConfig) -> tuple[str | None, str | None, str | None]:
    """Kind, colour and id as the tag's smart label names them (each None when absent, unknown or taken)."""
    label = found.label or {}
    kind = label.get("kind") if label.get("kind") in TOOL_KINDS else None
    color = label.get("color") if label.get("color") in COLORS else None
    tool = label.get("tool")
    free = isinstance(tool, str) and re.fullmatch(TOOL_ID, tool) and config.tool(tool) is None
    return kind, color, tool if free else None


def _request(config: WorkshopConfig, args: argparse.Namespace, found: Found) -> Request:
    """The label's kind and colour first (they are written on the tool), then the flags, then the zone of the
    station that read it; asked at the terminal when no kind is known."""
    tag, station_id = found.tag, found.station
    station = config.station(station_id) if station_id else None
    label_kind, label_color, label_id = _from_label(found, config)
    color = label_color or args.color or (station.zone if station and station.zone in COLORS else None)
    kind = label_kind or args.kind
    tool_id = args.tool_id or label_id
    if kind:
        if color is None:
            raise SebiaoError(f"tag {tag}: 请给出 --color / give --color (no station's zone to take it from)")
        return Request(tag=tag, kind=kind, color=color, home=args.home or _read_home(station, color), id=tool_id)
    if not sys.stdin.isatty():
        raise SebiaoError("没有 --kind 时需要在终端中回答问题 / without --kind the command asks at a terminal: "
                          "give --kind (and --color) in scripts")
    where = f"（在 {station_id} 读到 / read at {station_id}）" if station_id else ""
    print(f"\n标签 / tag {tag}{where}")
    kind = _ask("种类 / kind", list(KIND_PREFIX), "knife")
    color = _ask("颜色 / colour", list(COLORS), color or "red")
    home = _ask("固定存放架 / home rack", [s.id for s in config.stations if s.kind.value == "rack"],
                args.home or _read_home(station, color) or default_home(config, color) or "")
    tool_id = input(f"编号 / id [{tool_id or next_id(kind, color, {t.id for t in config.tools})}]: ").strip() or tool_id
    return Request(tag=tag, kind=kind, color=color, home=home, id=tool_id)


def _read_home(station: Station | None, color: str) -> str | None:
    """The rack that read the tag, when it is a rack of the tool's colour: installers enrol each tool where it
    will live (a zone with two racks, such as knives and boards, keeps each on its own); else None (the first
    rack of the colour)."""
    if station is not None and station.kind is StationKind.RACK and station.zone == color:
        return station.id
    return None


def _ask(what: str, choices: list[str], default: str) -> str:
    while True:
        answer = input(f"{what} ({', '.join(choices)}) [{default}]: ").strip() or default
        if answer in choices:
            return answer
        print(f"  '{answer}' 不在可选项中 / is not one of the choices")
