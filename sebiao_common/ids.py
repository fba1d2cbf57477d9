"""Ids and NFC tag UIDs: what a workshop, station or tool id may be, and one spelling of a tag.

A tag UID is written upper-case hex everywhere (config, MQTT, store, cloud),
so the same chip is never two tools.
"""

from __future__ import annotations

import re
from typing import Any

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_HINT = "use lowercase letters, digits and '-' (1 to 32 characters)"
TOOL_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
TOOL_ID_HINT = "use letters, digits, '-', '_' and '.' (1 to 32 characters)"
TAG_HEX_LENGTHS = (8, 14, 20)  # NFC UIDs of 4, 7 or 10 bytes
_HEX = re.compile(r"[0-9A-F]+")


def normalize_tag(value: Any) -> str:
    """An NFC UID as upper-case hex; raises ValueError naming what is wrong."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("标签 UID 要写成带引号的十六进制文字 / write the tag as a quoted hex string, "
                         "e.g. '04A224E2C65E80'")
    if not isinstance(value, str):
        raise ValueError("必须是十六进制文字 / must be a hex string")
    tag = value.strip().upper()
    if not _HEX.fullmatch(tag):
        raise ValueError(f"{value!r} 不是十六进制 / {value!r} is not hex")
    if len(tag) not in TAG_HEX_LENGTHS:
        raise ValueError(f"{value!r} 是 {len(tag) / 2:g} 字节，NFC 标签 UID 应为 4、7 或 10 字节 / "
                         f"{value!r} is {len(tag) / 2:g} bytes; an NFC UID has 4, 7 or 10 bytes")
    return tag
