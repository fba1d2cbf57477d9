"""What a virtual station prints: Chinese first, English second; a colour always
with its shape symbol and name (never colour alone)."""

from __future__ import annotations

from sebiao_common.domain import COLORS, TOOL_KINDS

ACTIONS = {
    "placed": ("放上", "placed"),
    "removed": ("取走", "removed"),
}
PATTERNS = {
    "misuse": ("误用：红灯亮、蜂鸣三声", "misuse: red LED on, three beeps"),
    "clear": ("已解除：绿灯亮", "clear: green LED on"),
    "test": ("测试：红灯、绿灯、蜂鸣依次，然后恢复", "test: red, green, buzzer in turn, then as before"),
}


def color_text(color: str) -> str:
    c = COLORS.get(color)
    return f"{c.symbol} {c.zh} {c.en}" if c else color


def kind_text(kind: str) -> str:
    k = TOOL_KINDS.get(kind)
    return f"{k.zh} {k.en}" if k else kind


def label_text(label: dict | None) -> str:
    if not label:
        return "无标签内容 / no label"
    return f"{label.get('tool', '?')} {color_text(label.get('color', ''))} {kind_text(label.get('kind', ''))}"


def event_line(station: str, action: str, tag: str, label: dict | None) -> str:
    zh, en = ACTIONS.get(action, (action, action))
    return f"[{station}] {zh} / {en}  {tag}  ({label_text(label)})"


PROBE_FAULTS = {
    "ok": ("探头恢复正常", "probe answering again"),
    "absent": ("探头无应答（模拟断线）", "probe silent (a broken wire, simulated)"),
    "crc": ("探头数据校验错误（模拟干扰）", "probe CRC errors (noise, simulated)"),
    "stuck85": ("探头卡在 85 °C 上电值（模拟掉电）", "probe stuck at its 85 °C power-on value (simulated brown-out)"),
}


def cycle_line(station: str, seconds: float, interval_s: int, temps_dc: list[int]) -> str:
    """A finished cycle: how long, how hot, how many samples."""
    top = max(temps_dc) / 10 if temps_dc else 0.0
    took = f"{seconds:.0f} 秒 / s" if seconds < 120 else f"{seconds / 60:.1f} 分钟 / min"
    return (f"[{station}] 消毒/热洗周期结束 / cycle ended: {took}, "
            f"最高 / max {top:.1f} °C, {len(temps_dc)} 个读数 / samples (每 / every {interval_s} s)")


def probe_line(station: str, celsius: float, seconds: float) -> str:
    if seconds:
        return f"[{station}] 探头温度 {seconds:g} 秒内变为 {celsius:g} °C / probe to {celsius:g} °C over {seconds:g} s"
    return f"[{station}] 探头温度 {celsius:g} °C / probe at {celsius:g} °C"


def command_line(station: str, cmd: dict) -> str:
    name = cmd.get("cmd")
    if name == "feedback":
        zh, en = PATTERNS.get(cmd.get("pattern"), (cmd.get("pattern"), cmd.get("pattern")))
        return f"[{station}] 网关反馈 / gateway feedback: {zh} / {en}"
    if name == "provision":
        return f"[{station}] 写标签待命 / provisioning armed: {cmd.get('tool')} (60 s)"
    if name == "update":
        return f"[{station}] 固件更新 / firmware update: {cmd.get('version')}"
    if name == "settings":
        return f"[{station}] 远程参数 / remote settings, version {cmd.get('version')}"
    if name == "secrets":  # the values never go on the screen
        return f"[{station}] 新的 Wi-Fi 或代理密码，试用中 / a new Wi-Fi or broker password on trial, version " \
               f"{cmd.get('version')}"
    return f"[{station}] 命令 / command: {name}"


def update_line(station: str, update: dict) -> str:
    """The station's update state (docs/fleet.md "Status") as it changes."""
    state = update.get("state")
    more = f" {update['done']}/{update['of']}" if state == "downloading" else ""
    more += f" ({update['error']})" if update.get("error") else ""
    return f"[{station}] 固件更新 / update {update.get('version')}: {state}{more}"
