"""Line protocol primitives, and the ``alarm`` point both the gateway and the cloud write.

Tags are escaped once per value; timestamps are nanoseconds with a per-source
sequence folded into the sub-millisecond digits (``ts_ms * 1_000_000 + seq %
1_000_000``), so two points of one source in the same millisecond never
collide and a point sent twice overwrites itself. The schema is
``docs/influxdb.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

NS_PER_MS = 1_000_000
SUB_MS = 1_000_000

_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": " ", "\r": " ", "\t": " "})


def tag(value: str) -> str:
    """A tag value (or key) escaped for line protocol; a trailing backslash is dropped."""
    return str(value).translate(_TAG_ESCAPES).rstrip("\\")


def string_field(value: str) -> str:
    """A quoted string field value; line breaks become spaces (not every server takes them)."""
    text = str(value)
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return f'"{text}"'


def boolean(value: bool) -> str:
    return "true" if value else "false"


def timestamp_ns(ts_ms: int, seq: int) -> int:
    return ts_ms * NS_PER_MS + seq % SUB_MS


def head(measurement: str, tags: list[str]) -> str:
    """``measurement,tags `` with the tags sorted by key, as InfluxDB stores them."""
    return ",".join([measurement] + sorted(tags)) + " "


@dataclass(frozen=True, kw_only=True, slots=True)
class AlarmPoint:
    """One alarm transition, as the ``alarm`` measurement holds it.

    ``tags`` are the point's scope (workshop, district, and the station's and
    tool's tags where the writer knows them); ``seq`` orders transitions of the
    same millisecond (the gateway's history id, the cloud's transition seq).
    """

    tags: list[str]
    alarm_id: int
    type: str
    severity: str
    state: str
    transition: str
    count: int
    acked: bool
    latched: bool
    late: bool
    ts: int  # the event that raised it (ms)
    last_ts: int  # the newest occurrence (ms)
    at: int  # when this transition was made (ms)
    seq: int
    by: str
    text_zh: str
    text_en: str
    tool: str | None = None
    tag_uid: str | None = None
    comment: str | None = None


def alarm_line(p: AlarmPoint) -> str:
    tags = p.tags + [f"severity={tag(p.severity)}", f"state={tag(p.state)}", f"transition={tag(p.transition)}",
                     f"type={tag(p.type)}"]
    fields = [f"alarm_id={p.alarm_id}i", f"count={p.count}i", f"acked={boolean(p.acked)}",
              f"latched={boolean(p.latched)}", f"late={boolean(p.late)}", f"event_ms={p.ts}i",
              f"by={string_field(p.by)}", f"text_en={string_field(p.text_en)}", f"text_zh={string_field(p.text_zh)}"]
    if p.tool:
        fields.append(f"tool={string_field(p.tool)}")
    if p.tag_uid:
        fields.append(f"tag_uid={string_field(p.tag_uid)}")
    if p.comment:
        fields.append(f"comment={string_field(p.comment)}")
    # raised / repeated: when it happened (event time); acknowledged / cleared: when it was done.
    at = {"raised": p.ts, "repeated": p.last_ts}.get(p.transition, p.at)
    return head("alarm", tags) + ",".join(fields) + f" {timestamp_ns(at, p.seq)}"
