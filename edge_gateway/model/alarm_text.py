"""Alarm texts in Simplified Chinese first and English second.

Every colour is named in words with its shape symbol, never by colour alone.
They speak to the owner: a tool by its colour, kind and number ("红色刀具
KN-R-01"), a station by the name the workshop gave it (its id only when it has
none), a span of time in hours and minutes. Ids, topics and tags as such are the
installer's: the console keeps them under 技术详情. Texts already stored keep
their words (an alarm's text is written once, when it is raised or repeated).
"""

from __future__ import annotations

from collections.abc import Callable

from edge_gateway.model.workshop import Station, Tool
from sebiao_common.domain import COLORS, KINDS
from sebiao_common.station_health import RESET_CAUSE_NAMES


def _tool(tool: Tool) -> tuple[str, str]:
    color, kind = COLORS[tool.color], KINDS[tool.kind]
    return (f"{color.symbol}{color.zh}{kind.zh} {tool.id}", f"{color.symbol} {color.en} {kind.en} {tool.id}")


def _station(station: Station) -> tuple[str, str]:
    """The zone's colour and the station's name; its kind too when the name does not already say it."""
    color = COLORS[station.zone]
    name = station.name or station.id
    zh_kind = "" if station.kind.zh[-1:] in name else station.kind.zh  # 生肉刀具架 says it is a rack
    return (f"{color.symbol}{color.zh}{zh_kind} {name}", f"{color.symbol} {color.en} {station.kind.value} {name}")


def _home(tool: Tool, home: Station | None) -> tuple[str, str]:
    return _station(home) if home is not None else (tool.home, tool.home)


def duration(minutes: int) -> tuple[str, str]:
    """A span in the owner's words: "4 小时" / "4 h", "1 小时 30 分钟" / "1 h 30 min", "45 分钟" / "45 min"."""
    hours, rest = divmod(max(0, minutes), 60)
    zh = " ".join(p for p in (f"{hours} 小时" if hours else "", f"{rest} 分钟" if rest or not hours else "") if p)
    en = " ".join(p for p in (f"{hours} h" if hours else "", f"{rest} min" if rest or not hours else "") if p)
    return zh, en


def cross_zone(tool: Tool, station: Station) -> tuple[str, str]:
    (tz, te), (sz, se) = _tool(tool), _station(station)
    return (f"跨区放置：{tz} 被放到 {sz}", f"Cross-zone: {te} placed on {se}")


def cross_zone_wash(tool: Tool, station: Station) -> tuple[str, str]:
    (tz, te), (sz, se) = _tool(tool), _station(station)
    return (f"跨区清洗：{tz} 在 {sz} 清洗", f"Cross-zone wash: {te} washed at {se}")


def unwashed_return(tool: Tool, station: Station) -> tuple[str, str]:
    (tz, te), (sz, se) = _tool(tool), _station(station)
    return (f"未清洗归位：{tz} 使用后未经本区清洗池清洗就放回 {sz}",
            f"Unwashed return: {te} returned to {se} without a wash at a sink of its colour")


def undisinfected_return(tool: Tool, station: Station) -> tuple[str, str]:
    (tz, te), (sz, se) = _tool(tool), _station(station)
    return (f"未消毒归位：{tz} 使用后未经合格的消毒周期就放回 {sz}",
            f"Undisinfected return: {te} returned to {se} without a passing disinfection cycle")


def overdue(tool: Tool, minutes: int) -> tuple[str, str]:
    (tz, te), (dz, de) = _tool(tool), duration(minutes)
    return (f"超时未归还：{tz} 已取出超过 {dz}", f"Overdue: {te} has been out for more than {de}")


def misplaced(tool: Tool, station: Station, home: Station | None = None) -> tuple[str, str]:
    """``home``: the tool's home station, named by its name (its id when not given)."""
    (tz, te), (sz, se), (hz, he) = _tool(tool), _station(station), _home(tool, home)
    return (f"未定位存放：{tz} 放在 {sz}，不是它的固定位置 {hz}",
            f"Misplaced: {te} put on {se}, its home is {he}")


def roll_call(tool: Tool, home: Station | None, what: Callable[[tuple[str, str]], tuple[str, str]]
              ) -> tuple[str, str]:
    """``what(home_words)``: what is missing, given the home rack in words."""
    (tz, te), (wz, we) = _tool(tool), what(_home(tool, home))
    return (f"收工点检：{tz} {wz}", f"Closing roll call: {te} {we}")


def unknown_tag(tag: str, station: Station) -> tuple[str, str]:
    sz, se = _station(station)
    return (f"未登记标签：{sz} 读到未登记的标签 {tag}", f"Unknown tag: {se} read tag {tag}, which no tool has")


def station_offline(station: Station, will: bool) -> tuple[str, str]:
    sz, se = _station(station)
    if will:
        return (f"读卡站离线：{sz} 断开连接", f"Station offline: {se} disconnected")
    return (f"读卡站离线：{sz} 长时间无消息", f"Station offline: {se} has not been heard from")


def station_clock_ahead(station: Station, span: tuple[str, str]) -> tuple[str, str]:
    sz, se = _station(station)
    return (f"读卡站时钟错误：{sz} 的时钟快了 {span[0]}，其事件按网关接收时间记录",
            f"Station clock wrong: {se} is {span[1]} ahead; its events count at the gateway's receive time")


def station_clock_back(station: Station, span: tuple[str, str], earlier_events: bool) -> tuple[str, str]:
    """``earlier_events``: the time lies before events the station sent earlier (else: before any buffer's reach)."""
    sz, se = _station(station)
    if earlier_events:
        return (f"读卡站时钟错误：{sz} 的时钟倒退了 {span[0]}（早于它之前发出的事件），其事件按网关接收时间记录",
                f"Station clock wrong: {se} went {span[1]} back (before its earlier events); its events count "
                "at the gateway's receive time")
    return (f"读卡站时钟错误：{sz} 的时间比网关早 {span[0]}，超出缓存可能保留的时长，其事件按网关接收时间记录",
            f"Station clock wrong: {se} is {span[1]} behind the gateway, more than a buffer keeps; its events "
            "count at the gateway's receive time")


def reset_causes(causes: dict[str, int]) -> tuple[str, str]:
    """``{"watchdog": 2, "power_on": 1}`` as "看门狗 2 次、上电 1 次" / "watchdog 2, power on 1", most first."""
    ordered = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
    words = [(RESET_CAUSE_NAMES.get(c, (c, c)), n) for c, n in ordered]
    return "、".join(f"{zh} {n} 次" for (zh, _), n in words), ", ".join(f"{en} {n}" for (_, en), n in words)


def station_resets(station: Station, count: int, minutes: int, causes: dict[str, int]) -> tuple[str, str]:
    sz, se = _station(station)
    (dz, de), (cz, ce) = duration(minutes), reset_causes(causes)
    return (f"读卡站反复重启：{sz} 在 {dz} 内重启了 {count} 次（{cz}），重启期间的取放可能没有记录",
            f"Station keeps resetting: {se} reset {count} times within {de} ({ce}); takes and returns while it "
            "restarts may go unrecorded")


def reader_fault(station: Station) -> tuple[str, str]:
    sz, se = _station(station)
    return (f"读卡器故障：{sz} 的读卡器不响应，读不到标签，这里的取放没有记录。请检查读卡器的连线或更换读卡器",
            f"Reader fault: {se}'s reader does not answer; no tag is read, so takes and returns there go "
            "unrecorded. Check the reader's wiring or replace it")
