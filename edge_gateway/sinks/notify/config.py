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

from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlsplit

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.alarms import ALARM_TYPES, GatewayAlarmType
from sebiao_common.notify.channels import Channel, QuietHours, parse_channels, parse_quiet, parse_timezone
from sebiao_common.sink_settings import seconds
from sebiao_common.yamlfile import Node

NOTIFY_FAILED = GatewayAlarmType.NOTIFY_FAILED.value
NOTIFIABLE_TYPES = (*ALARM_TYPES, *(t.value for t in GatewayAlarmType))
DEFAULT_TYPES = (*ALARM_TYPES, NOTIFY_FAILED)
KEYS = ("console_url", "timezone", "timeout_seconds", "retry_max_seconds", "failed_after_minutes", "quiet_hours",
        "channels")
__all__ = ("Channel", "QuietHours", "NotifySettings", "notify_settings", "parse_notify")


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
    channels = parse_channels(node.child("channels"), NOTIFIABLE_TYPES, DEFAULT_TYPES)
    failed_after = node.get("failed_after_minutes")
    return NotifySettings(
        channels=channels, console_url=_console_url(node.get("console_url"), public_url),
        timezone=parse_timezone(node.get("timezone")),
        timeout_seconds=seconds(node.get("timeout_seconds"), 10.0, 0.1, 120),
        retry_max_seconds=seconds(node.get("retry_max_seconds"), 300.0, 0.1, 3600),
        failed_after_minutes=(float(failed_after.integer(1, 24 * 60)) if failed_after else 30.0),
        quiet_hours=parse_quiet(node.get("quiet_hours")), file=node.file)


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

