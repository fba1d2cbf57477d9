"""The ingest batch: unpacking (gzip, size limits) and validation into frozen items.

The format is in ``docs/cloud-ingest.md``. Every refusal is a ``BatchError``
naming the field (``items[12].seq``) and the reason, Chinese first. Nothing
is stored here: ``cloud_ingest.ingest.storing`` stores a ``Batch`` whole, in one transaction.

Whatever an item holds that the database could not take is refused here, as a
400 naming that item, so the gateway sets that one item aside and sends the
rest (a 5xx would make it send the same batch for ever): the body is strict
JSON (``sebiao_common.strict_json``: no NaN or infinity, no lone surrogate,
the path of a nesting too deep), a string holds no NUL (PostgreSQL's text
cannot), a setup's hash is its canonical JSON's SHA-256, an integer fits its column (``count`` and ``buffer_depth`` are
32-bit), and a status' health keeps ``sebiao_common.station_health``'s bounds.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from cloud_ingest.config import Limits
from cloud_ingest.errors import BatchError, PayloadTooLarge
from cloud_ingest.store.canonical import canonical_json
from sebiao_common import strict_json
from sebiao_common.alarms import ALARM_TYPES, MAX_COMMENT_CHARS, MAX_PERSON_CHARS, SEVERITIES
from sebiao_common.domain import COLORS
from sebiao_common.station_health import MAX_TOTAL_BYTES, health_problem

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
BOOT = re.compile(r"[0-9a-f]{8}")
TAG = re.compile(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}")
TOOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
HASH = re.compile(r"[0-9a-f]{64}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TRAINING_CHARS = 200  # a training's topic, as the gateway holds it (edge_gateway/model/day.py)
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
EARLIEST_TS = 1_577_836_800_000  # 2020-01-01, as on the gateway
MAX_INT = (1 << 63) - 1  # BIGINT
MAX_INT32 = (1 << 31) - 1  # INTEGER: alarms.count, station_status.buffer_depth
ALARM_ACTIONS = ("raised", "repeated", "acknowledged", "cleared")
ALARM_STATES = ("active", "cleared")
STATION_KINDS = ("rack", "sink", "disinfect")
CYCLE_METHODS = ("cabinet", "boiling", "dishwasher", "hot_wash")
MAX_CYCLE_TOOLS = 256
ZONES = tuple(COLORS)
STATUS_KEYS = ("kind", "station", "station_kind", "zone", "ts", "online", "buffer_depth")  # the rest is health


@dataclass(frozen=True, slots=True)  # slots: one made per item, thousands a second
class EventItem:
    station: str
    boot: str
    seq: int
    ts: int
    tag: str
    action: str
    tool: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AlarmItem:
    """One alarm transition (``seq`` is the gateway's alarm_history id) with the alarm as it was after it."""

    alarm_id: int
    seq: int
    at: int
    action: str
    by: str
    comment: str | None
    type: str
    severity: str
    state: str
    acked: bool
    latched: bool
    count: int
    tool: str | None
    tag: str | None
    station: str | None
    ts: int
    last_ts: int
    raised_at: int
    updated_at: int
    late: bool
    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class StatusItem:
    station: str
    ts: int
    online: bool
    buffer_depth: int | None
    health: str  # canonical JSON of the other fields
    # from the gateway's workshop config; None from older gateways, which do not send them
    station_kind: str | None = None  # rack | sink
    zone: str | None = None  # a colour key of sebiao_common.domain


@dataclass(frozen=True, slots=True)
class CycleItem:
    """A probed station's disinfection cycle with the gateway's verdict and the tools that were in it."""

    station: str
    station_kind: str  # disinfect | sink
    boot: str
    seq: int
    start: int
    ts: int  # the cycle's end
    method: str
    temp_c: float  # the threshold it was judged by
    hold_required_s: int
    max_temp_dc: int
    hold_s: int
    passed: bool
    tools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetupItem:
    """One version of the workshop's setup (stations, tools, rules, exceptions): ``setup`` is its canonical JSON,
    whose SHA-256 the gateway sent as ``hash`` and this module checked."""

    version: int
    at: int
    hash: str
    setup: str


@dataclass(frozen=True, slots=True)
class SilencedItem:
    """An alarm a recorded exception stopped at the gateway (never shown there as an alarm)."""

    type: str
    severity: str
    subject: str
    tool: str | None
    tag: str | None
    station: str | None
    ts: int
    late: bool
    text_zh: str
    text_en: str
    exception: str  # canonical JSON: the exception as the setup holds it, or {"relaxed": {...}} (_silenced_by)
    setup_version: int | None


@dataclass(frozen=True, slots=True)
class TrainingItem:
    """A staff training record the gateway keeps (``sebiao training``, ``/api/training``): ``id`` is its id there."""

    id: int
    day: str  # YYYY-MM-DD
    who: str
    topic: str
    by: str
    recorded_at: int


Item = EventItem | AlarmItem | StatusItem | CycleItem | SetupItem | SilencedItem | TrainingItem


@dataclass(frozen=True)
class Batch:
    workshop: str
    batch: str
    digest: str  # sha256 of the inflated body: the same batch id must always carry the same body
    items: tuple[Item, ...]


def inflate(body: bytes, content_encoding: str | None, limits: Limits) -> bytes:
    if len(body) > limits.max_body_bytes:
        raise PayloadTooLarge("请求体过大", f"the body has {len(body)} bytes; at most {limits.max_body_bytes}")
    if (content_encoding or "").strip().lower() != "gzip":
        raise BatchError("", "批次必须以 gzip 压缩（Content-Encoding: gzip）",
                         "the batch must be gzip-compressed (Content-Encoding: gzip)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limits.max_inflated_bytes + 1)
    except zlib.error as exc:
        raise BatchError("", "不是有效的 gzip 数据", f"not valid gzip data: {exc}") from exc
    if len(out) > limits.max_inflated_bytes:
        raise PayloadTooLarge("解压后过大", f"the batch inflates to more than {limits.max_inflated_bytes} bytes")
    if not inflater.eof:
        raise BatchError("", "gzip 数据不完整", "the gzip data is truncated")
    return out


def parse_batch(raw: bytes, limits: Limits) -> Batch:
    try:
        # items are checked field by field below, health values by their bounds: no second walk for depth
        doc = strict_json.loads(raw, max_depth=None)
    except strict_json.JsonError as exc:
        raise BatchError(strict_json.json_path(exc.path), f"不是有效的 UTF-8 JSON：{exc.zh}",
                         f"not valid UTF-8 JSON: {exc.en}") from exc
    root = _Obj("", doc, ("v", "workshop", "batch", "items"), ("sent_at", "gateway"))
    if root.int("v", 1, 1) != 1:
        raise BatchError("v", "不支持的版本", "unsupported version")
    workshop = root.str("workshop", SLUG, "小写字母、数字和 '-'", "lowercase letters, digits and '-'")
    batch_id = root.str("batch", BATCH_ID, "1 到 64 个字母、数字或 _.:-", "1 to 64 letters, digits or _.:-")
    items = doc["items"]
    if not isinstance(items, list):
        raise BatchError("items", "必须是列表", "must be a list")
    if not items:
        raise BatchError("items", "不能为空", "must not be empty")
    if len(items) > limits.max_items:
        raise PayloadTooLarge("条目过多", f"items: {len(items)} items; at most {limits.max_items} per batch")
    parsed = tuple(_item(f"items[{i}]", value, workshop) for i, value in enumerate(items))
    return Batch(workshop, batch_id, hashlib.sha256(raw).hexdigest(), parsed)


# The fast paths below take the common, well-formed event and status items in a few checks; any item
# they do not accept (a wrong field, an unusual shape) goes through the full reading in ``_item``, which
# then names the field and the reason. They accept exactly what ``_item`` accepts, with the same result.
_EVENT_REQUIRED = frozenset(("kind", "station", "boot", "seq", "ts", "tag", "action"))
_EVENT_KEYS = _EVENT_REQUIRED | {"tool", "note"}
_STATUS_FIXED = STATUS_KEYS
_slug, _boot, _tag, _tool = SLUG.fullmatch, BOOT.fullmatch, TAG.fullmatch, TOOL.fullmatch
_STATION_KINDS, _ZONES = frozenset(STATION_KINDS), frozenset(ZONES)


def _fast_event(v: dict) -> EventItem | None:
    keys = v.keys()
    if not (_EVENT_REQUIRED <= keys <= _EVENT_KEYS):
        return None
    station, boot, seq, ts, tag, action = v["station"], v["boot"], v["seq"], v["ts"], v["tag"], v["action"]
    tool, note = v.get("tool"), v.get("note")
    if (type(station) is str and len(station) <= 32 and _slug(station) and type(boot) is str and _boot(boot)
            and type(seq) is int and 0 <= seq <= MAX_INT and type(ts) is int and EARLIEST_TS <= ts <= MAX_INT
            and type(tag) is str and _tag(tag) and action in ("placed", "removed")
            and (tool is None or (type(tool) is str and _tool(tool)))
            and (note is None or (type(note) is str and note.strip() and len(note) <= 4000 and "\0" not in note))):
        return EventItem(station, boot, seq, ts, tag, action, tool, note)
    return None


def _fast_status(v: dict) -> StatusItem | None:
    station, ts, online, depth = v.get("station"), v.get("ts"), v.get("online"), v.get("buffer_depth")
    station_kind, zone = v.get("station_kind"), v.get("zone")
    if (type(station) is str and len(station) <= 32 and _slug(station) and type(ts) is int
            and EARLIEST_TS <= ts <= MAX_INT and type(online) is bool
            and (depth is None or (type(depth) is int and 0 <= depth <= MAX_INT32))
            and (station_kind is None or (type(station_kind) is str and station_kind in _STATION_KINDS))
            and (zone is None or (type(zone) is str and zone in _ZONES))):
        health = {k: x for k, x in v.items() if k not in _STATUS_FIXED}
        if health_problem(health) is None:
            text = canonical_json(health)
            if len(text.encode()) <= MAX_TOTAL_BYTES:
                return StatusItem(station, ts, online, depth, text, station_kind, zone)
    return None


def _item(path: str, value: Any, workshop: str) -> Item:
    if not isinstance(value, dict):
        raise BatchError(path, "必须是对象", "must be an object")
    kind = value.get("kind")
    fast = _fast_event(value) if kind == "event" else _fast_status(value) if kind == "status" else None
    if fast is not None:
        return fast
    if kind == "event":
        o = _Obj(path, value, ("kind", "station", "boot", "seq", "ts", "tag", "action"), ("tool", "note"))
        return EventItem(o.slug("station"), o.str("boot", BOOT, "8 位小写十六进制", "8 lowercase hex digits"),
                         o.int("seq", 0), o.ts("ts"), o.str("tag", TAG, "4、7 或 10 字节的大写十六进制",
                                                             "upper-case hex of 4, 7 or 10 bytes"),
                         o.choice("action", ("placed", "removed")), o.opt_str("tool", TOOL), o.opt_str("note"))
    if kind == "alarm":
        o = _Obj(path, value, ("kind", "alarm", "transition"))
        a = _Obj(f"{path}.alarm", value["alarm"], (
            "id", "type", "severity", "state", "acked", "latched", "count", "ts", "last_ts", "raised_at",
            "updated_at", "late", "text"), ("workshop", "tool", "tag", "station"))
        t = _Obj(f"{path}.transition", value["transition"], ("seq", "at", "action", "state", "acked", "by"),
                 ("comment",))
        if "workshop" in a.value and a.value["workshop"] != workshop:
            raise BatchError(f"{path}.alarm.workshop", f"必须是本批次的作坊 {workshop!r}",
                             f"must be the batch's workshop {workshop!r}")
        txt = _Obj(f"{path}.alarm.text", a.value["text"], ("zh", "en"))
        return AlarmItem(
            a.int("id", 1), t.int("seq", 1), t.ts("at"), t.choice("action", ALARM_ACTIONS),
            t.str("by", longest=MAX_PERSON_CHARS), t.opt_str("comment", longest=MAX_COMMENT_CHARS),
            a.choice("type", ALARM_TYPES), a.choice("severity", SEVERITIES),
            a.choice("state", ALARM_STATES), a.bool("acked"), a.bool("latched"), a.int("count", 1, MAX_INT32),
            a.opt_str("tool", TOOL), a.opt_str("tag", TAG), a.opt_slug("station"), a.ts("ts"), a.ts("last_ts"),
            a.ts("raised_at"), a.ts("updated_at"), a.bool("late"), txt.str("zh"), txt.str("en"))
    if kind == "status":
        o = _Obj(path, value, ("kind", "station", "ts", "online"), None)
        depth = o.value.get("buffer_depth")
        return StatusItem(o.slug("station"), o.ts("ts"), o.bool("online"),
                          None if depth is None else o.int("buffer_depth", 0, MAX_INT32),
                          _health(path, {k: v for k, v in value.items() if k not in STATUS_KEYS}),
                          o.opt_choice("station_kind", STATION_KINDS), o.opt_choice("zone", ZONES))
    if kind == "cycle":
        return _cycle(path, value)
    if kind == "setup":
        return _setup(path, value)
    if kind == "training":
        o = _Obj(path, value, ("kind", "id", "day", "who", "topic", "by", "recorded_at"))
        day = o.str("day", DAY, "YYYY-MM-DD", "YYYY-MM-DD", 10)
        try:
            date.fromisoformat(day)
        except ValueError:
            raise BatchError(f"{path}.day", "不是有效日期", "is not a valid date") from None
        return TrainingItem(o.int("id", 1), day, o.str("who", longest=MAX_PERSON_CHARS),
                            o.str("topic", longest=MAX_TRAINING_CHARS), o.str("by", longest=MAX_PERSON_CHARS),
                            o.ts("recorded_at"))
    if kind == "silenced":
        o = _Obj(path, value, ("kind", "type", "severity", "subject", "ts", "text"),
                 ("tool", "tag", "station", "late", "setup_version", "exception", "relaxed"))
        txt = _Obj(f"{path}.text", value["text"], ("zh", "en"))
        why = _silenced_by(path, value)
        version = o.value.get("setup_version")
        return SilencedItem(o.choice("type", ALARM_TYPES), o.choice("severity", SEVERITIES),
                            o.str("subject", longest=64), o.opt_str("tool", TOOL), o.opt_str("tag", TAG),
                            o.opt_slug("station"), o.ts("ts"), o.bool("late") if "late" in o.value else False,
                            txt.str("zh"), txt.str("en"), why,
                            None if version is None else o.int("setup_version", 1))
    raise BatchError(f"{path}.kind", "必须是 event、alarm、status、cycle、setup、silenced 或 training 之一",
                     "must be one of event, alarm, status, cycle, setup, silenced, training")


def _cycle(path: str, value: dict) -> CycleItem:
    o = _Obj(path, value, ("kind", "station", "station_kind", "boot", "seq", "start", "ts", "method", "temp_c",
                           "hold_required_s", "max_temp_dc", "hold_s", "passed", "tools"))
    temp = value["temp_c"]
    if isinstance(temp, bool) or not isinstance(temp, (int, float)) or not 0 <= temp <= 500:
        raise BatchError(f"{path}.temp_c", "必须是 0 到 500 之间的温度（°C）", "must be a temperature of 0 .. 500 °C")
    tools = value["tools"]
    if not isinstance(tools, list) or len(tools) > MAX_CYCLE_TOOLS:
        raise BatchError(f"{path}.tools", f"必须是至多 {MAX_CYCLE_TOOLS} 个器具编号的列表",
                         f"must be a list of at most {MAX_CYCLE_TOOLS} tool ids")
    for index, tool in enumerate(tools):
        if not isinstance(tool, str) or not TOOL.fullmatch(tool):
            raise BatchError(f"{path}.tools[{index}]", "不是器具编号", "is not a tool id")
    start, end = o.ts("start"), o.ts("ts")
    if end < start:
        raise BatchError(f"{path}.ts", "结束时间早于开始时间", "the end is before the start")
    return CycleItem(o.slug("station"), o.choice("station_kind", ("disinfect", "sink")),
                     o.str("boot", BOOT, "8 位小写十六进制", "8 lowercase hex digits"), o.int("seq", 0), start, end,
                     o.choice("method", CYCLE_METHODS), float(temp), o.int("hold_required_s", 0, MAX_INT32),
                     o.int("max_temp_dc", -500, 5000), o.int("hold_s", 0, MAX_INT32), o.bool("passed"),
                     tuple(tools))


def _silenced_by(path: str, value: dict[str, Any]) -> str:
    """What silenced an alarm, as canonical JSON: the recorded ``exception`` (an object with ``station`` and
    ``reason``), or ``{"relaxed": {"accepted_version": n | null}}``: a relaxed requirement, found by judging
    under the last accepted rules."""
    if value.get("exception") is not None:
        rule = _Obj(f"{path}.exception", value["exception"], ("station", "reason"), None)
        rule.str("reason")
        return canonical_json(rule.value)
    relaxed = _Obj(f"{path}.relaxed", value.get("relaxed"), ("accepted_version",))
    if relaxed.value["accepted_version"] is not None:
        relaxed.int("accepted_version", 1)
    return canonical_json({"relaxed": relaxed.value})


def _setup(path: str, value: dict[str, Any]) -> SetupItem:
    o = _Obj(path, value, ("kind", "version", "at", "hash", "setup"))
    digest = o.str("hash", HASH, "64 位小写十六进制", "64 lowercase hex digits")
    setup = value["setup"]
    if not isinstance(setup, dict) or not {"stations", "tools", "rules"} <= setup.keys():
        raise BatchError(f"{path}.setup", "必须是含 stations、tools、rules 的对象",
                         "must be an object with stations, tools and rules")
    try:
        text = canonical_json(setup)
    except ValueError as exc:
        raise BatchError(f"{path}.setup", "无法写成规范 JSON", f"cannot be written as canonical JSON: {exc}") from exc
    if hashlib.sha256(text.encode()).hexdigest() != digest:
        raise BatchError(f"{path}.hash", "与 setup 的规范 JSON 的 SHA-256 不符",
                         "does not match the SHA-256 of the setup's canonical JSON")
    return SetupItem(o.int("version", 1), o.ts("at"), digest, text)


def _health(path: str, health: dict[str, Any]) -> str:
    """A status' health fields as canonical JSON, once they keep their bounds."""
    problem = health_problem(health)
    if problem is not None:
        name, zh, en = problem
        raise BatchError(f"{path}.{strict_json.json_path((name,))}" if name else path, zh, en)
    text = canonical_json(health)
    if len(text.encode()) > MAX_TOTAL_BYTES:
        raise BatchError(path, f"健康字段合计超过 {MAX_TOTAL_BYTES} 字节",
                         f"the health fields together are over {MAX_TOTAL_BYTES} bytes")
    return text


class _Obj:
    """One JSON object of the batch, read field by field with its path."""

    def __init__(self, path: str, value: Any, required: tuple[str, ...],
                 optional: tuple[str, ...] | None = ()) -> None:
        """``optional=None``: other keys are allowed (a status's health fields)."""
        self.path, self.value = path, value
        if not isinstance(value, dict):
            raise BatchError(path, "必须是对象", "must be an object")
        for key in required:
            if key not in value:
                raise BatchError(self._at(key), "缺少必填字段", "missing required field")
        if optional is not None:
            for key in value:
                if key not in required and key not in optional:
                    raise BatchError(self._at(key), "未知字段", "unknown field")

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _fail(self, key: str, zh: str, en: str) -> BatchError:
        return BatchError(self._at(key), zh, en)

    def int(self, key: str, low: int = 0, high: int = MAX_INT) -> int:
        v = self.value[key]
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise self._fail(key, f"必须是 ≥ {low} 的整数", f"must be an integer ≥ {low}")
        return v

    def ts(self, key: str) -> int:
        v = self.value[key]
        if isinstance(v, bool) or not isinstance(v, int) or not EARLIEST_TS <= v <= MAX_INT:
            raise self._fail(key, "必须是 2020 年以后的毫秒时间戳", "must be a time in ms since the epoch, after 2020")
        return v

    def bool(self, key: str) -> bool:
        v = self.value[key]
        if not isinstance(v, bool):
            raise self._fail(key, "必须是 true 或 false", "must be true or false")
        return v

    def str(self, key: str, pattern: re.Pattern[str] | None = None, zh: str = "", en: str = "",
            longest: int = 4000) -> str:
        v = self.value[key]
        if not isinstance(v, str) or not v.strip() or len(v) > longest:
            raise self._fail(key, f"必须是非空字符串（至多 {longest} 字符）",
                             f"must be a non-empty string (at most {longest} characters)")
        if "\0" in v:
            raise self._fail(key, "不能含有 NUL 字符", "must not hold a NUL character")
        if pattern is not None and not pattern.fullmatch(v):
            raise self._fail(key, f"格式不对：{zh or pattern.pattern}", f"malformed: {en or pattern.pattern}")
        return v

    def slug(self, key: str) -> str:
        return self.str(key, SLUG, "小写字母、数字和 '-'", "lowercase letters, digits and '-'", 32)

    def opt_str(self, key: str, pattern: re.Pattern[str] | None = None, longest: int = 4000) -> str | None:
        return None if self.value.get(key) is None else self.str(key, pattern, longest=longest)

    def opt_slug(self, key: str) -> str | None:
        return None if self.value.get(key) is None else self.slug(key)

    def opt_choice(self, key: str, options: tuple[str, ...]) -> str | None:
        return None if self.value.get(key) is None else self.choice(key, options)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        v = self.value[key]
        if v not in options:
            listed = ", ".join(options)
            raise self._fail(key, f"必须是以下之一：{listed}", f"must be one of: {listed}")
        return v
