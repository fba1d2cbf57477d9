"""Canonical JSON: one byte string per value, so a hash over it is reproducible.

Keys sorted, no whitespace, UTF-8 (not ``\\u`` escapes), no NaN or infinity.
"""

from __future__ import annotations

from typing import Any

from sebiao_common import strict_json


def canonical_json(value: Any) -> str:
    return strict_json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
