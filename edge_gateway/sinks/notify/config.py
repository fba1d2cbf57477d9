"""The ``notify:`` section of the workshop config, parsed strictly (``docs/config.md``, ``docs/notify.md``).

Errors name the file, the field path and the reason, Chinese first::

    notify:
      console_url: http://192.168.1.20:8080/console   # optional; default: display.public_url's host + /console
      timezone: Asia/Shanghai      # optional IANA name for the times in messages and quiet hours (default: the machine's)
      timeout_seconds: 10          # one HTTP request
      retry_max_seconds: 300       # longest back-off while a channel fails
      failed_after_minutes: 30     # the notify_failed alarm after a channel has failed this long
      quiet_hours:                 # optional: in this local window only these severities are sent; the rest wait
        start: "22:00"
        end: "07:00"
        severities: [critical]
      channels:
        - name: 老板群
          kind: wecom              # wecom | dingtalk | webhook
          url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...
          secret: SEC...           # dingtalk: the robot's signing secret; webhook: the HMAC key (optional)
          types: [cross_zone, cross_zone_wash]   # default: every workshop alarm type and notify_failed
          transitions: [raised]    # raised | cleared | acknowledged (default: raised)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import tzinfo
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.alarms import ALARM_TYPES, SEVERITIES, GatewayAlarmType
from sebiao_common.net import is_loopback
from sebiao_common.sink_settings import seconds
from sebiao_common.yamlfile import Node

KINDS = ("wecom", "dingtalk", "webhook")
TRANSITIONS = ("raised", "cleared", "acknowledged")
NOTIFY_FAILED = GatewayAlarmType.NOTIFY_FAILED.value
NOTIFIABLE_TYPES = (*ALARM_TYPES, *(t.value for t in GatewayAlarmType))
DEFAULT_TYPES = (*ALARM_TYPES, NOTIFY_FAILED)
# The robots' own hosts; a loopback host stands in for them in tests and local relays.
ROBOT_HOSTS = {"wecom": ("qyapi.weixin.qq.com", "key"), "dingtalk": ("oapi.dingtalk.com", "access_token")}
KEYS = ("console_url", "timezone", "timeout_seconds", "retry_max_seconds", "failed_after_minutes", "quiet_hours",
        "channels")
CHANNEL_KEYS = ("name", "kind", "url", "secret", "types", "transitions")


@dataclass(frozen=True, kw_only=True)
class Channel:
    name: str
    kind: str
    url: str
    secret: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
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


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    channels: tuple[Channel, ...]
    console_url: str | None = None
    timezone: tzinfo | None = None  # None: the machine's
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 300.0
    failed_after_minutes: float = 30.0
    quiet_hours: QuietHours | None = None
    file: str = "workshop.yaml"


def notify_settings(config: WorkshopConfig) -> NotifySettings | None:
    """The parsed section, or None when the config has no ``notify:``."""
    raw = config.section("notify")
    if raw is None:
        return None
    display = config.section("display")
    public = display.get("public_url") if isinstance(display, dict) else None
    return parse_notify(Node(config.file, "notify", raw), public if isinstance(public, str) else None)


def parse_notify(node: Node, public_url: str | None = None) -> NotifySettings:
    node.mapping(required=("channels",), optional=KEYS)
    channels = tuple(_channel(c) for c in node.child("channels").items())
    if not channels:
        raise node.child("channels").fail("至少需要一个通道 / needs at least one channel")
    names = [c.name for c in channels]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise node.child("channels").child(index).child("name").fail(
                f"通道名称重复 / the channel name {name!r} is used twice")
    failed_after = node.get("failed_after_minutes")
    return NotifySettings(
        channels=channels, console_url=_console_url(node.get("console_url"), public_url),
        timezone=_timezone(node.get("timezone")),
        timeout_seconds=seconds(node.get("timeout_seconds"), 10.0, 0.1, 120),
        retry_max_seconds=seconds(node.get("retry_max_seconds"), 300.0, 0.1, 3600),
        failed_after_minutes=(float(failed_after.integer(1, 24 * 60)) if failed_after else 30.0),
        quiet_hours=_quiet(node.get("quiet_hours")), file=node.file)


def _channel(node: Node) -> Channel:
    node.mapping(required=("name", "kind", "url"), optional=CHANNEL_KEYS)
    name = node.child("name").string(r"[^\s/][^/]{0,39}", "1 to 40 characters, no '/'").strip()
    kind = node.child("kind").choice(KINDS)
    url = _url(node.child("url"), kind)
    secret_node = node.get("secret")
    secret = secret_node.string(r"\S{8,256}", "8 to 256 characters without spaces") if secret_node else None
    types = _list(node.get("types"), NOTIFIABLE_TYPES) or DEFAULT_TYPES
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


def _console_url(node: Node | None, public_url: str | None) -> str | None:
    if node is not None:
        url = node.string().strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise node.fail(f"不是有效的 http(s) 地址 / {url!r} is not an http:// or https:// URL with a host")
        return url
    if public_url:  # the display's address (…/display): the console is on the same gateway
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}/console"
    return None


def _timezone(node: Node | None) -> tzinfo | None:
    if node is None:
        return None
    name = node.string()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise node.fail(f"未知时区 / unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from exc


def _quiet(node: Node | None) -> QuietHours | None:
    if node is None:
        return None
    node.mapping(required=("start", "end"), optional=("severities",))
    start, end = _time_of_day(node.child("start")), _time_of_day(node.child("end"))
    if start == end:
        raise node.child("end").fail("与 start 相同 / is the same as start: the window would be empty")
    severities = node.get("severities")
    return QuietHours(start=start, end=end,
                      severities=tuple(s.choice(SEVERITIES) for s in severities.items()) if severities else ())


def _time_of_day(node: Node) -> clock_time:
    value = node.value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value) if isinstance(value, str) else None
    if match is None:  # YAML reads an unquoted 22:00 as a number of minutes (sexagesimal) in some loaders
        raise node.fail(f"应为带引号的 \"HH:MM\" / must be a quoted \"HH:MM\" time of day, got {value!r}")
    return clock_time(int(match.group(1)), int(match.group(2)))
