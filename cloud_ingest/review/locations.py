"""Where a workshop is: the latitude and longitude of its record (登记信息), WGS-84 decimal degrees.

WGS-84 because it is what a phone's GPS gives, what the ``geo:`` URI means
(RFC 5870), and what every converter starts from. Chinese map apps (高德,
腾讯) show GCJ-02, a few hundred metres off: the field's label and the docs
say which datum is meant, and a coordinate copied from such an app is
stored as given (nothing can tell one datum from the other by the numbers).

The record stores millionths of a degree (``latitude_e6``, ``longitude_e6``,
integers: the evidence chain's facts are the same bytes on SQLite and
PostgreSQL, which a float need not be; 1e-6° is about 0.1 m): more digits are
rounded to six. A value is a JSON number or decimal text (the form's),
finite, the latitude in [-90, 90] and the longitude in [-180, 180], and the
two are given together or both left empty; each refusal names its field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Mapping

from cloud_ingest.errors import BadRequest

DATUM = "WGS-84"
FIELDS = ("latitude", "longitude")
LIMIT = {"latitude": 90, "longitude": 180}
WORDS = {"latitude": ("纬度", "latitude"), "longitude": ("经度", "longitude")}
SCALE = 1_000_000
DECIMAL = re.compile(r"[+-]?([0-9]{1,3}(\.[0-9]*)?|\.[0-9]+)")  # what a person types: 40.6571, -109.8, +0.5


def _number(key: str, value: Any) -> Decimal:
    zh, en = WORDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest(key, f"{zh}必须是十进制度数（如 40.657123）或 null",
                         f"the {en} must be decimal degrees (like 40.657123) or null")
    if isinstance(value, float) and not math.isfinite(value):  # 1e999 reads as infinity
        raise BadRequest(key, f"{zh}必须是有限的数", f"the {en} must be a finite number")
    if isinstance(value, str) and not DECIMAL.fullmatch(value):
        raise BadRequest(key, f"{zh}必须是十进制度数（如 40.657123），不带度分秒或字母",
                         f"the {en} must be decimal degrees (like 40.657123), without ° ′ ″ or letters")
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation as exc:  # not reached by the checks above; said plainly if it ever is
        raise BadRequest(key, f"{zh}不是数", f"the {en} is not a number") from exc


def parse(key: str, value: Any) -> int | None:
    """One coordinate in millionths of a degree; None or "" (an emptied field) is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    # a Chinese keyboard's full-width digits and point (４０．６) read as the ASCII ones
    number = _number(key, unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value)
    limit = LIMIT[key]
    if not -limit <= number <= limit:
        zh, en = WORDS[key]
        raise BadRequest(key, f"{zh}须在 -{limit} 到 {limit} 度之间（{DATUM}）",
                         f"the {en} must lie in [-{limit}, {limit}] degrees ({DATUM})")
    return int((number * SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def checked(body: Mapping[str, Any], before: Mapping[str, int | None]) -> dict[str, int | None]:
    """The location after a save: the coordinates given replace the stored ones, the other stays; then both or
    neither (the one left empty is named)."""
    out = {key: parse(key, body[key]) if key in body else before[key] for key in FIELDS}
    if (out["latitude"] is None) != (out["longitude"] is None):
        missing = "latitude" if out["latitude"] is None else "longitude"
        raise BadRequest(missing, "纬度和经度须同时填写或同时留空",
                         "give both the latitude and the longitude, or neither")
    return out


def degrees(e6: int | None) -> float | None:
    """Millionths of a degree as decimal degrees (40657123 → 40.657123)."""
    return None if e6 is None else e6 / SCALE


def text(e6: int) -> str:
    """Decimal degrees as text, six digits at most and no trailing zeros (40.6571, -109.8, 0)."""
    sign = "-" if e6 < 0 else ""
    whole, part = divmod(abs(e6), SCALE)
    return f"{sign}{whole}" + (f".{part:06d}".rstrip("0") if part else "")


def geo_uri(lat_e6: int, lon_e6: int) -> str:
    """The ``geo:`` URI (RFC 5870, WGS-84) that a phone hands to its map app."""
    return f"geo:{text(lat_e6)},{text(lon_e6)}"


__all__ = ["DATUM", "FIELDS", "checked", "degrees", "geo_uri", "parse", "text"]
