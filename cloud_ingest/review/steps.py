"""What the review's records with steps share: a text field checked.

``text`` checks one text of a body (a note, a name, an item's text): a string, trimmed,
required or not, bounded; the error names the field.
"""

from __future__ import annotations

from typing import Any

from cloud_ingest.errors import BadRequest, Unprocessable


def text(value: Any, field: str, limit: int, required: bool = True) -> str | None:
    """``value`` as the text of ``field``: a string, trimmed, at most ``limit`` characters; None when blank
    and not ``required``."""
    if value is not None and not isinstance(value, str):
        raise BadRequest(field, "必须是字符串", "must be a string")
    trimmed = (value or "").strip()
    if required and not trimmed:
        raise Unprocessable(f"{field}: 必须填写", f"{field}: is required and may not be blank")
    if len(trimmed) > limit:
        raise BadRequest(field, f"至多 {limit} 字符", f"at most {limit} characters")
    return trimmed or None

