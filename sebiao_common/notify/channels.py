"""A notify channel's settings and their strict parsing (the gateway's ``notify:`` and the cloud's
``notify.districts.<id>``: the same keys, the same error texts, naming file, field and reason)::

    - name: 老板群
      kind: wecom              # wecom | dingtalk | webhook
      url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...
      secret: SEC...           # dingtalk: the robot's signing secret; webhook: the HMAC key (optional)
      types: [cross_zone]      # default: the caller's default types
      transitions: [raised]    # raised | cleared | acknowledged (default: raised)

    quiet_hours: {start: "22:00", end: "07:00", severities: [critical]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import tzinfo
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sebiao_common.alarms import ALARM_TYPES, SEVERITIES
from sebiao_common.net import is_loopback
from sebiao_common.yamlfile import Node

KINDS = ("wecom", "dingtalk", "webhook")
TRANSITIONS = ("raised", "cleared", "acknowledged")
# The robots' own hosts; a loopback host stands in for them in tests and local relays.
ROBOT_HOSTS = {"wecom": ("qyapi.weixin.qq.com", "key"), "dingtalk": ("oapi.dingtalk.com", "access_token")}
CHANNEL_KEYS = ("name", "kind", "url", "secret", "types", "transitions")


@dataclass(frozen=True, kw_only=True)
class Channel:
    name: str
    kind: str
    url: str
    secret: str | None = None
    types: tuple[str, ...] = ALARM_TYPES
    transitions: tuple[str, ...] = ("raised",)

    def wants(self, alarm_type: str, action: str) -> bool:
        return alarm_type in self.types and action in self.transitions


@dataclass(frozen=True, kw_only=True)
class QuietHours:
    start: clock_time
    end: clock_time
    severities: tuple[str, ...] = ()

    def quiet_at(self, local: clock_time) -> bool:
        """Whether the local time of day falls in the window (which may pass midnight)."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_channels(node: Node, type_choices: tuple[str, ...], default_types: tuple[str, ...]) -> tuple[Channel, ...]:
    """The ``channels:`` list: at least one, names unique."""
    channels = tuple(parse_channel(c, type_choices, default_types) for c in node.items())
    if not channels:
        raise node.fail("至少需要一个通道 / needs at least one channel")
    names = [c.name for c in channels]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise node.child(index).child("name").fail(f"通道名称重复 / the channel name {name!r} is used twice")
    return channels


def parse_channel(node: Node, type_choices: tuple[str, ...], default_types: tuple[str, ...]) -> Channel:
    node.mapping(required=("name", "kind", "url"), optional=CHANNEL_KEYS)
    name = node.child("name").string(r"[^\s/][^/]{0,39}", "1 to 40 characters, no '/'").strip()
    kind = node.child("kind").choice(KINDS)
    url = _url(node.child("url"), kind)
    secret_node = node.get("secret")
    secret = secret_node.string(r"\S{8,256}", "8 to 256 characters without spaces") if secret_node else None
    types = _list(node.get("types"), type_choices) or default_types
    transitions = _list(node.get("transitions"), TRANSITIONS) or ("raised",)
    return Channel(name=name, kind=kind, url=url, secret=secret, types=types, transitions=transitions)


def _list(node: Node | None, choices: tuple[str, ...]) -> tuple[str, ...]:
    if node is None:
        return ()
    values = tuple(item.choice(choices) for item in node.items())
    if not values:
        raise node.fail("不能为空（删去此键即为默认） / must not be empty (leave the key out for the default)")
    return values


def _url(node: Node, kind: str) -> str:
    url = node.string().strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise node.fail(f"{url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise node.fail(f"不是有效的 http(s) 地址 / {url!r} is not an http:// or https:// URL with a host")
    if kind == "webhook":
        return url
    host, key = ROBOT_HOSTS[kind]
    if not is_loopback(parts.hostname) and (parts.hostname != host or parts.scheme != "https"):
        raise node.fail(f"机器人地址应为 https://{host}/… / a {kind} robot's URL is https://{host}/..., "
                        f"got {url!r}")
    if not parse_qs(parts.query).get(key, [""])[0].strip():
        raise node.fail(f"地址缺少 {key}= 参数（复制机器人的完整 Webhook 地址） / the URL has no {key}= "
                        "(paste the robot's whole webhook address)")
    return url


def parse_timezone(node: Node | None) -> tzinfo | None:
    if node is None:
        return None
    name = node.string()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise node.fail(f"未知时区 / unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from exc


def parse_quiet(node: Node | None) -> QuietHours | None:
    if node is None:
        return None
    node.mapping(required=("start", "end"), optional=("severities",))
    start, end = time_of_day(node.child("start")), time_of_day(node.child("end"))
    if start == end:
        raise node.child("end").fail("与 start 相同 / is the same as start: the window would be empty")
    severities = node.get("severities")
    return QuietHours(start=start, end=end,
                      severities=tuple(s.choice(SEVERITIES) for s in severities.items()) if severities else ())


def time_of_day(node: Node) -> clock_time:
    value = node.value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value) if isinstance(value, str) else None
    if match is None:  # YAML reads an unquoted 22:00 as a number of minutes (sexagesimal) in some loaders
        raise node.fail(f"应为带引号的 \"HH:MM\" / must be a quoted \"HH:MM\" time of day, got {value!r}")
    return clock_time(int(match.group(1)), int(match.group(2)))
