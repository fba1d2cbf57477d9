"""The bounds of a station status' health fields, the same at the gateway and in the cloud.

A station's status (``docs/protocol.md``) carries, besides ``v`` and
``online``, the health fields it reports (``fw``, ``rssi``, ``reader``…): the
gateway keeps the newest, shows them on the owner's console, and forwards them
with every status item to the cloud, which stores each one. Unbounded, one
station (or one gateway token) could fill both with a few megabytes a status;
bounded, a status is refused as a whole when one field is over:

- at most ``MAX_FIELDS`` fields, each name at most ``MAX_NAME_CHARS`` characters;
- each value at most ``MAX_VALUE_BYTES`` as compact UTF-8 JSON, nested at most
  ``MAX_VALUE_DEPTH`` levels of arrays and objects;
- all of them together at most ``MAX_TOTAL_BYTES`` (at the gateway the whole
  status payload is at most that; the cloud checks the health it stores).

The firmware's own health (about 300 bytes, ``reader`` one level deep) is far
inside them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sebiao_common import strict_json

MAX_FIELDS = 32
MAX_NAME_CHARS = 32
MAX_VALUE_BYTES = 1024
MAX_VALUE_DEPTH = 4
MAX_TOTAL_BYTES = 4096


def health_problem(health: Mapping[str, object]) -> tuple[str, str, str] | None:
    """The first bound ``health`` breaks, as (the field's name, or "" for the count; Chinese; English),
    or None when it keeps them all."""
    if len(health) > MAX_FIELDS:
        return "", f"健康字段超过 {MAX_FIELDS} 个", f"more than {MAX_FIELDS} health fields ({len(health)})"
    for name, value in health.items():
        if len(name) > MAX_NAME_CHARS:
            return name, f"字段名超过 {MAX_NAME_CHARS} 个字符", f"a field name longer than {MAX_NAME_CHARS} characters"
        if _deeper_than(value, MAX_VALUE_DEPTH):
            return name, f"嵌套超过 {MAX_VALUE_DEPTH} 层", f"nested deeper than {MAX_VALUE_DEPTH} levels"
        size = _size(value)
        if size > MAX_VALUE_BYTES:
            return name, f"值超过 {MAX_VALUE_BYTES} 字节", f"the value has {size} bytes, at most {MAX_VALUE_BYTES}"
    return None


def _size(value: object) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) + 2
    if isinstance(value, (dict, list)):
        return len(strict_json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8",
                                                                                            "surrogatepass"))
    return len(str(value))  # a number, true, false, null: short, unless an integer of many digits


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels of arrays and objects (without recursion: the
    value may come from a document whose nesting was not bounded yet)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


# A station's reset causes (its status' ``reset_cause``, firmware ``board.reset_cause()``): (zh, en). The console's
# JavaScript keeps a copy (``tests/common/test_vocabulary.py`` checks it says the same).
RESET_CAUSE_NAMES: dict[str, tuple[str, str]] = {
    "power_on": ("上电", "power on"), "hard": ("硬件复位", "hard reset"), "watchdog": ("看门狗", "watchdog"),
    "deepsleep": ("休眠唤醒", "deep-sleep wake"), "soft": ("软件复位", "soft reset"), "unknown": ("原因未知", "unknown"),
}
# The last update's ``state`` (docs/fleet.md): (zh, en, symbol); the symbol tells the outcome without a colour.
UPDATE_STATE_NAMES: dict[str, tuple[str, str, str]] = {
    "refused": ("未开始", "refused", "!"), "downloading": ("下载中", "downloading", "…"),
    "switching": ("切换中", "switching", "…"), "trial": ("试运行", "on trial", "…"),
    "confirmed": ("已确认", "confirmed", "✓"), "rolled_back": ("已回退", "rolled back", "✗"),
    "failed": ("失败", "failed", "✗"),
}
