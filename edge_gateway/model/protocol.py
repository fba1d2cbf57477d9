"""MQTT protocol v1: topics and payloads, as plain functions apart from the socket.

Documented in ``docs/protocol.md``; the example payloads in
``tests/vectors/protocol_v1.json`` are the test vectors shared with the firmware.
Decoding raises :class:`PayloadError` whose ``reason`` is the metrics label.
Payloads are read and written as strict JSON (``sebiao_common.strict_json``: no
NaN or infinity, no lone surrogate, bounded nesting), and a status' health
fields are held to ``sebiao_common.station_health``'s bounds, because the
gateway keeps them and forwards them to the cloud.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from edge_gateway.errors import PayloadError
from edge_gateway.model.disinfection import MAX_INTERVAL_S, MAX_SAMPLES, MAX_TEMP_DC, MIN_TEMP_DC, Cycle
from sebiao_common import strict_json
from sebiao_common.ids import SLUG, normalize_tag
from sebiao_common.station_health import health_problem

VERSION = 1
ROOT = "sebiao"
MAX_PAYLOAD_BYTES = 4096
# A cycle carries up to 1440 samples (a day at one a minute): its own, larger limit. The broker's packet
# limit is sized for the largest message of any channel (MAX_MESSAGE_BYTES).
MAX_CYCLE_BYTES = 12 * 1024
MAX_MESSAGE_BYTES = max(MAX_PAYLOAD_BYTES, MAX_CYCLE_BYTES)
EARLIEST_TS_MS = 1_577_836_800_000  # 2020-01-01: anything older is a clock that was never set
MAX_SEQ = 2**53 - 1  # exact in every JSON implementation
MAX_BUFFER_DEPTH = 2**31 - 1  # a status' buffer_depth: the cloud keeps it in a 32-bit column, SQLite in 64
STATION_CHANNELS = ("event", "status", "cmd", "cycle")
ACTIONS = ("placed", "removed")

T = TypeVar("T")

_SLUG = re.compile(SLUG)
_BOOT = re.compile(r"[0-9a-fA-F]{8}")

REJECT_REASONS = (
    "too_large", "bad_json", "missing_field", "bad_type", "bad_value",
    "unsupported_version", "unknown_station", "replay", "bad_topic",
)


@dataclass(frozen=True, kw_only=True)
class Topic:
    """``sebiao/{workshop}/{station}/{channel}`` or ``sebiao/{workshop}/alarm``."""

    workshop: str
    channel: str
    station: str | None = None

    def __post_init__(self) -> None:
        if not _SLUG.fullmatch(self.workshop):
            raise PayloadError("bad_topic", f"bad workshop id {self.workshop!r}")
        if self.channel == "alarm":
            if self.station is not None:
                raise PayloadError("bad_topic", "alarm topics have no station")
        elif self.channel in STATION_CHANNELS:
            if self.station is None or not _SLUG.fullmatch(self.station):
                raise PayloadError("bad_topic", f"bad station id {self.station!r}")
        else:
            raise PayloadError("bad_topic", f"unknown channel {self.channel!r}")

    def __str__(self) -> str:
        if self.station is None:
            return f"{ROOT}/{self.workshop}/{self.channel}"
        return f"{ROOT}/{self.workshop}/{self.station}/{self.channel}"

    @classmethod
    def parse(cls, topic: str) -> "Topic":
        parts = topic.split("/")
        if len(parts) == 3 and parts[0] == ROOT and parts[2] == "alarm":
            return cls(workshop=parts[1], channel="alarm")
        if len(parts) == 4 and parts[0] == ROOT:
            return cls(workshop=parts[1], channel=parts[3], station=parts[2])
        raise PayloadError("bad_topic", f"{topic!r} is not sebiao/{{workshop}}/{{station}}/{{channel}}")


def event_topic(workshop: str, station: str) -> str:
    return str(Topic(workshop=workshop, channel="event", station=station))


def status_topic(workshop: str, station: str) -> str:
    return str(Topic(workshop=workshop, channel="status", station=station))


def cmd_topic(workshop: str, station: str) -> str:
    return str(Topic(workshop=workshop, channel="cmd", station=station))


def cycle_topic(workshop: str, station: str) -> str:
    return str(Topic(workshop=workshop, channel="cycle", station=station))


def alarm_topic(workshop: str) -> str:
    return str(Topic(workshop=workshop, channel="alarm"))


def events_filter(workshop: str) -> str:
    """Every station's event topic: what the gateway takes (over MQTT, or in-process from the embedded broker)."""
    return f"{ROOT}/{workshop}/+/event"


def subscriptions(workshop: str) -> tuple[str, str, str]:
    return (events_filter(workshop), f"{ROOT}/{workshop}/+/status", f"{ROOT}/{workshop}/+/cycle")


@dataclass(frozen=True, kw_only=True)
class Label:
    """The smart label's content, as a station read it from the tag (optional)."""

    tool: str
    kind: str | None = None
    color: str | None = None


@dataclass(frozen=True, kw_only=True)
class StationEvent:
    station: str
    boot: str
    seq: int
    ts: int  # ms since the epoch as the station sent it; 0 = its clock was not set
    tag: str
    action: str
    label: Label | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.station, self.boot, self.seq)


@dataclass(frozen=True, kw_only=True)
class StationStatus:
    station: str
    online: bool
    health: Mapping[str, object] = field(default_factory=dict, compare=False)  # the status' other fields, as sent


def decode_json(payload: bytes, limit: int = MAX_PAYLOAD_BYTES) -> dict[str, object]:
    if len(payload) > limit:
        raise PayloadError("too_large", f"{len(payload)} bytes, the limit is {limit}")
    try:
        data = strict_json.loads(payload)
    except strict_json.JsonError as exc:
        raise PayloadError("bad_json", str(exc)[:200]) from exc
    if not isinstance(data, dict):
        raise PayloadError("bad_json", f"the payload is a JSON {type(data).__name__}, not an object")
    _check_version(data)
    return data


def _check_version(data: Mapping[str, object]) -> None:
    if "v" not in data:
        raise PayloadError("missing_field", "'v' is missing")
    version = data["v"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise PayloadError("bad_type", f"'v' must be an integer, got {version!r}"[:200])
    if version != VERSION:
        raise PayloadError("unsupported_version", f"protocol version {version}, this gateway speaks {VERSION}")


def _field(data: Mapping[str, object], name: str, kind: type[T]) -> T:
    if name not in data:
        raise PayloadError("missing_field", f"'{name}' is missing")
    value = data[name]
    if isinstance(value, bool) and kind is not bool:
        raise PayloadError("bad_type", f"'{name}' must not be a boolean")
    if not isinstance(value, kind):
        raise PayloadError("bad_type", f"'{name}' has the wrong type: {type(value).__name__}")
    return value


def _boot_seq(data: Mapping[str, object]) -> tuple[str, int]:
    boot = _field(data, "boot", str)
    if not _BOOT.fullmatch(boot):
        raise PayloadError("bad_value", f"'boot' must be 8 hex digits, got {boot!r}"[:200])
    seq = _field(data, "seq", int)
    if not 0 <= seq <= MAX_SEQ:
        raise PayloadError("bad_value", f"'seq' out of range: {seq}"[:200])
    return boot.lower(), seq


def decode_event(station: str, payload: bytes) -> StationEvent:
    """The event as the station sent it. Its ``ts`` is the station's clock, judged by the engine against the
    gateway's (``model/station_clock.py``): an event is never refused for its time, only for a malformed one."""
    data = decode_json(payload)
    boot, seq = _boot_seq(data)
    ts = _field(data, "ts", int)
    if ts != 0 and ts < EARLIEST_TS_MS:
        raise PayloadError("bad_value", f"'ts' {ts} is before 2020; send 0 while the clock is not set"[:200])
    if ts > MAX_SEQ:
        raise PayloadError("bad_value", f"'ts' {ts} is beyond any clock (at most 2^53 - 1 ms)"[:200])
    action = _field(data, "action", str)
    if action not in ACTIONS:
        raise PayloadError("bad_value", f"'action' must be placed or removed, got {action!r}"[:200])
    try:
        tag = normalize_tag(_field(data, "tag", str))
    except ValueError as exc:
        raise PayloadError("bad_value", f"'tag': {exc}"[:200]) from exc
    return StationEvent(station=station, boot=boot, seq=seq, ts=ts, tag=tag, action=action,
                        label=_label(data.get("label")))


def _label(value: object) -> Label | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError("bad_type", "'label' must be an object")
    parts: dict[str, str | None] = {}
    for name in ("tool", "kind", "color"):
        item = value.get(name)
        if item is not None and (not isinstance(item, str) or len(item) > 64):
            raise PayloadError("bad_type", f"'label.{name}' must be a string of at most 64 characters")
        parts[name] = item
    tool = parts["tool"]
    if not tool:
        raise PayloadError("missing_field", "'label.tool' is missing")
    return Label(tool=tool, kind=parts["kind"], color=parts["color"])


def encode_event(event: StationEvent) -> bytes:
    body: dict[str, object] = {"v": VERSION, "boot": event.boot, "seq": event.seq, "ts": event.ts,
                               "tag": event.tag, "action": event.action}
    if event.label is not None:
        body["label"] = {k: v for k, v in vars(event.label).items() if v is not None}
    return strict_json.dumps(body, separators=(",", ":")).encode()


def decode_status(station: str, payload: bytes) -> StationStatus:
    data = decode_json(payload)
    online = _field(data, "online", bool)
    depth = data.get("buffer_depth")
    if isinstance(depth, int) and not isinstance(depth, bool) and not 0 <= depth <= MAX_BUFFER_DEPTH:
        raise PayloadError("bad_value", f"'buffer_depth' out of range: {depth}"[:200])
    _played(data.get("played"))
    health = {k: v for k, v in data.items() if k not in ("v", "online")}
    problem = health_problem(health)
    if problem is not None:
        name, _, en = problem
        raise PayloadError("too_large", (f"health field {name!r}: {en}" if name else en)[:200])
    return StationStatus(station=station, online=online, health=health)


FEEDBACK_PATTERNS = ("misuse", "clear", "test")  # what a station's LED and buzzer can play (cmd: feedback)


def _played(value: object) -> None:
    """A status' ``played``: ``{"pattern", "seq", "sent_at"}``, the last feedback command with a ``seq`` the
    station played to its end (the commissioning check waits for it), and the station's clock when it sent
    the status (0: not set). Absent from stations that never got one."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise PayloadError("bad_type", "'played' must be an object")
    pattern, seq, sent_at = value.get("pattern"), value.get("seq"), value.get("sent_at", 0)
    if not isinstance(pattern, str) or pattern not in FEEDBACK_PATTERNS:
        raise PayloadError("bad_value", f"'played.pattern' must be one of {', '.join(FEEDBACK_PATTERNS)}")
    for name, number in (("seq", seq), ("sent_at", sent_at)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise PayloadError("bad_type", f"'played.{name}' must be an integer")
        if not 0 <= number <= MAX_SEQ:
            raise PayloadError("bad_value", f"'played.{name}' out of range: {number}"[:200])


def decode_cycle(station: str, payload: bytes) -> Cycle:
    """A probed station's cycle: ``{"v":1,"boot","seq","ts":end ms,"start":ms,"interval_s","temps_dc":[...]}``.
    Unlike an event it needs a set clock: its samples are matched with the tools' times."""
    data = decode_json(payload, MAX_CYCLE_BYTES)
    boot, seq = _boot_seq(data)
    ts, start = _field(data, "ts", int), _field(data, "start", int)
    for name, value in (("ts", ts), ("start", start)):
        if not EARLIEST_TS_MS <= value <= MAX_SEQ:
            raise PayloadError("bad_value", f"'{name}' {value} is not a set clock's time (2020 .. 2^53 - 1 ms)"[:200])
    interval = _field(data, "interval_s", int)
    if not 1 <= interval <= MAX_INTERVAL_S:
        raise PayloadError("bad_value", f"'interval_s' must be 1 .. {MAX_INTERVAL_S}, got {interval}"[:200])
    temps = _field(data, "temps_dc", list)
    if not 1 <= len(temps) <= MAX_SAMPLES:
        raise PayloadError("bad_value", f"'temps_dc' must hold 1 .. {MAX_SAMPLES} samples, got {len(temps)}")
    for index, value in enumerate(temps):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PayloadError("bad_type", f"'temps_dc[{index}]' must be an integer (tenths of °C)")
        if not MIN_TEMP_DC <= value <= MAX_TEMP_DC:
            raise PayloadError("bad_value", f"'temps_dc[{index}]' {value} is outside -50 .. 500 °C")
    # The last sample is taken at or before the end; one interval of slack for where the station rounds.
    if start + (len(temps) - 1) * interval * 1000 > ts + interval * 1000:
        raise PayloadError("bad_value", f"{len(temps)} samples every {interval} s do not fit between 'start' "
                                        f"{start} and 'ts' {ts}"[:200])
    return Cycle(station=station, boot=boot, seq=seq, ts=ts, start=start, interval_s=interval, temps_dc=tuple(temps))


def encode_cycle(cycle: Cycle) -> bytes:
    return strict_json.dumps({"v": VERSION, "boot": cycle.boot, "seq": cycle.seq, "ts": cycle.ts,
                              "start": cycle.start, "interval_s": cycle.interval_s,
                              "temps_dc": list(cycle.temps_dc)}, separators=(",", ":")).encode()


def encode_status(online: bool, **health: object) -> bytes:
    return strict_json.dumps({"v": VERSION, "online": online, **health}, separators=(",", ":")).encode()


def encode_command(command: str, **fields: object) -> bytes:
    """Gateway to station on ``{station}/cmd``: ``{"v":1,"cmd":...}``."""
    return strict_json.dumps({"v": VERSION, "cmd": command, **fields}, separators=(",", ":"),
                             ensure_ascii=False).encode()
