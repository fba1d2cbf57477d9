"""What the commissioning check found, judged from the gateway's answers (``GET /api/stations``, ``/api/tools``,
``/healthz``) and the installer's answers. Pure: no HTTP, no clock, no terminal.

A result says only what the system saw: a station that did not answer its test is "no answer", not "broken"; a
test not sent (the station offline) is "not sent", a confirmation given by ``--yes`` says so, and a tool the
readers have not seen at home is "not seen at home", whatever it may really be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sebiao_common.domain import COLORS, KINDS

CLOCK_OK_MS = 5_000  # a station's clock against the gateway's: NTP keeps it within a second, the status's way adds less

# the LED and buzzer test's outcome (docs/device-tooling.md, the commissioning step)
PLAYED, NO_ANSWER, NOT_SENT, REFUSED = "played", "no_answer", "not_sent", "refused"
TEST_TEXT = {PLAYED: ("已播放", "played"), NO_ANSWER: ("无应答", "no answer"),
             NOT_SENT: ("未发送（不在线）", "not sent (offline)"), REFUSED: ("网关拒绝发送", "refused by the gateway")}
# the installer's answer: what a person saw and heard
SEEN, NOT_SEEN, BY_YES, NOT_ASKED = "seen", "not_seen", "by_yes", "not_asked"
SEEN_TEXT = {SEEN: ("看到并听到", "seen and heard"), NOT_SEEN: ("未看到或未听到", "not seen or not heard"),
             BY_YES: ("未经人工确认（--yes）", "--yes, not a person"),
             NOT_ASKED: ("未询问", "not asked")}


@dataclass(frozen=True, kw_only=True)
class StationResult:
    id: str
    name: str
    zone: str
    online: bool
    clock_synced: bool | None  # None: the station never reported it
    clock_alarm: bool  # a station_clock alarm is active
    clock_offset_ms: int | None  # measured with the test's confirmation, when the station's clock is set
    test: str  # PLAYED, NO_ANSWER, NOT_SENT, REFUSED
    seen: str  # SEEN, NOT_SEEN, BY_YES, NOT_ASKED
    confirmed_by: str | None  # the installer's name, "--yes", or None when not asked
    detail: str | None = None  # the gateway's refusal

    @property
    def clock_ok(self) -> bool:
        offset_ok = self.clock_offset_ms is None or abs(self.clock_offset_ms) <= CLOCK_OK_MS
        return self.clock_synced is True and not self.clock_alarm and offset_ok

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        out = []
        if not self.online:
            out.append(("不在线", "offline"))
        if not self.clock_ok:
            out.append(clock_problem(self))
        if self.test != PLAYED:
            zh, en = TEST_TEXT[self.test]
            out.append((f"{zh}（{self.detail}）", f"{en} ({self.detail})") if self.detail else (zh, en))
        elif self.seen == NOT_SEEN:
            out.append(("安装人员未看到灯光或未听到蜂鸣", "the installer did not see the lights or hear the buzzer"))
        return tuple(out)

    @property
    def passed(self) -> bool:
        return not self.problems


def clock_problem(station: StationResult) -> tuple[str, str]:
    if station.clock_synced is None:
        return "未报告时钟", "clock not reported"
    if station.clock_synced is False:
        return "时钟未设置", "clock not set"
    if station.clock_alarm:
        return "时钟报警中", "station_clock alarm active"
    seconds = station.clock_offset_ms / 1000 if station.clock_offset_ms is not None else 0
    return f"时钟偏差 {seconds:+.1f} 秒", f"clock off by {seconds:+.1f} s"


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    id: str
    kind: str
    color: str
    home: str
    tagged: bool
    state: str  # the gateway's: on_rack, out, at_sink, unknown
    station: str | None  # where it is, or the station it last left

    @property
    def name_zh(self) -> str:
        """Colour name, shape and kind: colour is never the only signal (``红色圆形 刀具 KN-R-01``)."""
        color, kind = COLORS.get(self.color), KINDS.get(self.kind)
        return f"{color.zh if color else self.color}{color.shape_zh if color else ''} {kind.zh if kind else self.kind} {self.id}"

    @property
    def name_en(self) -> str:
        color, kind = COLORS.get(self.color), KINDS.get(self.kind)
        return f"{color.en if color else self.color} {color.shape if color else ''} {kind.en if kind else self.kind}"

    @property
    def at_home(self) -> bool:
        return self.state == "on_rack" and self.station == self.home

    @property
    def where(self) -> tuple[str, str]:
        """Where the readers last saw it, in words."""
        if not self.tagged:
            return "未贴标签，未检查", "no tag, not checked"
        if self.at_home:
            return "在固定位置", "seen at home"
        return {"on_rack": (f"在 {self.station}", f"on {self.station}"), "out": ("已取走", "taken"),
                "at_sink": (f"在清洗池 {self.station}", f"at sink {self.station}")}.get(
            self.state, ("从未被读到", "never read"))

    @property
    def problem(self) -> tuple[str, str] | None:
        if not self.tagged or self.at_home:
            return None  # no tag: no reader can see it; listed as not checked, never as passed
        zh, en = self.where
        return f"未在固定位置 {self.home} 看到（{zh}）", f"not seen at home {self.home} ({en})"


@dataclass(frozen=True, kw_only=True)
class Commissioning:
    workshop_id: str
    workshop_name: str
    at: str  # local date and time of the check, as printed
    gateway: str  # its URL
    gateway_version: str | None
    gateway_clock_synchronised: bool | None
    stations: tuple[StationResult, ...]
    tools: tuple[ToolResult, ...]
    installer: str | None = None  # who ran the check (--installer, or asked), also with --yes

    @property
    def failures(self) -> tuple[tuple[str, str], ...]:
        """Every failed item, Chinese and English, naming the station or the tool."""
        out = []
        for station in self.stations:
            for zh, en in station.problems:
                out.append((f"读卡站 {station.id}（{station.name}）：{zh}", f"station {station.id}: {en}"))
        for tool in self.tools:
            if tool.problem is not None:
                out.append((f"器具 {tool.name_zh}：{tool.problem[0]}", f"tool {tool.id} ({tool.name_en}): "
                                                                        f"{tool.problem[1]}"))
        return tuple(out)

    @property
    def passed(self) -> bool:
        return not self.failures and bool(self.stations)


def station_result(row: Mapping[str, object], test: str, seen: str, confirmed_by: str | None,
                   offset_ms: int | None = None, detail: str | None = None) -> StationResult:
    """One station from its ``GET /api/stations`` row (as read after its test) and the test's outcome."""
    synced = row.get("clock_synced")
    return StationResult(id=str(row["id"]), name=str(row.get("name") or row["id"]), zone=str(row.get("zone") or ""),
                         online=row.get("online") is True, clock_synced=synced if isinstance(synced, bool) else None,
                         clock_alarm=row.get("clock_alarm") is True, clock_offset_ms=offset_ms, test=test, seen=seen,
                         confirmed_by=confirmed_by, detail=detail)


def tool_results(rows: Sequence[Mapping[str, object]]) -> tuple[ToolResult, ...]:
    """The tools of ``GET /api/tools``."""
    return tuple(ToolResult(id=str(r["id"]), kind=str(r["kind"]), color=str(r["color"]), home=str(r["home"]),
                            tagged=r.get("tag") is not None, state=str(r.get("state") or "unknown"),
                            station=r.get("station") if isinstance(r.get("station"), str) else None) for r in rows)


def played(row: Mapping[str, object], seq: int) -> bool:
    """The station's newest status confirms the test ``seq`` played to its end."""
    got = row.get("played")
    return isinstance(got, dict) and got.get("seq") == seq and got.get("pattern") == "test"
