"""Alarm texts in Simplified Chinese first and English second.

Every colour is named in words with its shape symbol, never by colour alone.
"""

from __future__ import annotations

from edge_gateway.model.workshop import Station, Tool
from sebiao_common.domain import COLORS, KINDS


def _tool(tool: Tool) -> tuple[str, str]:
    color, kind = COLORS[tool.color], KINDS[tool.kind]
    return (f"{color.symbol}{color.zh}{kind.zh} {tool.id}", f"{color.symbol} {color.en} {kind.en} {tool.id}")


def _station(station: Station) -> tuple[str, str]:
    color = COLORS[station.zone]
    zh_kind = station.kind.zh
    en = f"{color.symbol} {color.en} {station.kind.value} {station.id}"
    return (f"{color.symbol}{color.zh}{zh_kind} {station.name or station.id}", en)


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
    tz, te = _tool(tool)
    return (f"超时未归还：{tz} 已取出超过 {minutes} 分钟", f"Overdue: {te} has been out for more than {minutes} min")


def misplaced(tool: Tool, station: Station) -> tuple[str, str]:
    (tz, te), (sz, se) = _tool(tool), _station(station)
    return (f"未定位存放：{tz} 放在 {sz}，不是它的固定位置 {tool.home}",
            f"Misplaced: {te} put on {se}, its home is {tool.home}")


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
