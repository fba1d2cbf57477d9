"""The ``display:`` section of the workshop config: the live display and the owner's console.

Parsed here, by the part that owns it, with the same precise errors as the rest
of the config (file, field path, reason)::

    display:
      title: 透明作坊                  # shown under the workshop's name (Chinese)
      title_en: Open workshop          # the same in English
      public_misuse: counts            # counts | hidden: cross-zone misuse on the public page
      public_url: http://192.168.1.20:8080/display   # encoded in the QR code (default: as the TV asked)
      activity_items: 8                # recent activity lines on the public page (0 hides them)
      console_password: a-long-secret  # the console's login (default: http.token)
      label_stale_days: 7              # a tag not read for this many days needs a look
      session_hours: 12                # how long a console login lasts
      trusted_proxies: [127.0.0.1]     # reverse proxies whose X-Forwarded-For names the client (default: none)
      grade_max_age_hours: 72          # the regulator's grade is shown while the cloud confirmed it this
                                       # recently (1..8760): a gateway cut off from the cloud stops showing it
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.proxies import parse_trusted_proxies
from sebiao_common.yamlfile import Node

MISUSE_MODES = ("counts", "hidden")
MIN_PASSWORD = 10


@dataclass(frozen=True, kw_only=True)
class DisplaySettings:
    title: str = "透明作坊"
    title_en: str = "Open workshop"
    public_misuse: str = "counts"
    public_url: str | None = None
    activity_items: int = 8
    console_password: str | None = None  # None: the console logs in with http.token
    label_stale_days: int = 7
    session_hours: int = 12
    trusted_proxies: tuple[str, ...] = ()  # addresses and CIDR networks (sebiao_common.proxies)
    grade_max_age_hours: int = 72

    @property
    def show_misuse(self) -> bool:
        return self.public_misuse == "counts"


def display_settings(config: WorkshopConfig) -> DisplaySettings:
    return parse_display(config.section("display"), config.file)


def parse_display(data: object, file: str = "workshop.yaml") -> DisplaySettings:
    if data is None:
        return DisplaySettings()
    node = Node(file, "display", data).mapping(optional=(
        "title", "title_en", "public_misuse", "public_url", "activity_items", "console_password",
        "label_stale_days", "session_hours", "trusted_proxies", "grade_max_age_hours"))
    defaults = DisplaySettings()

    def text(key: str, default: str | None, limit: int = 60) -> str | None:
        child = node.get(key)
        if child is None:
            return default
        value = child.string().strip()
        if len(value) > limit:
            raise child.fail(f"is {len(value)} characters long, at most {limit} fit on the screen",
                             f"有 {len(value)} 个字符，屏幕上最多放得下 {limit} 个")
        return value

    def number(key: str, default: int, low: int, high: int) -> int:
        child = node.get(key)
        return child.integer(low, high) if child is not None else default

    misuse = node.get("public_misuse")
    return DisplaySettings(
        title=text("title", defaults.title) or defaults.title,
        title_en=text("title_en", defaults.title_en) or defaults.title_en,
        public_misuse=misuse.choice(MISUSE_MODES) if misuse else defaults.public_misuse,
        public_url=_public_url(node.get("public_url")),
        activity_items=number("activity_items", defaults.activity_items, 0, 30),
        console_password=_password(node.get("console_password")),
        label_stale_days=number("label_stale_days", defaults.label_stale_days, 1, 365),
        session_hours=number("session_hours", defaults.session_hours, 1, 24 * 30),
        trusted_proxies=parse_trusted_proxies(node.get("trusted_proxies")),
        grade_max_age_hours=number("grade_max_age_hours", defaults.grade_max_age_hours, 1, 24 * 365),
    )


def _public_url(node: Node | None) -> str | None:
    if node is None:
        return None
    value = node.string().strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise node.fail(f"{value!r} is not an http:// or https:// URL with a host "
                        "(the address a phone on the workshop's network opens)",
                        f"{value!r} 不是带主机名的 http:// 或 https:// 地址（作坊网络里的手机能打开的地址）")
    if len(value) > 200:
        raise node.fail("is longer than 200 characters: too long for a QR code read from a screen",
                        "超过 200 个字符：屏幕上的二维码太密，扫不出来")
    return value


def _password(node: Node | None) -> str | None:
    if node is None:
        return None
    value = node.value
    if not isinstance(value, str):
        raise node.fail("must be a quoted string", "必须是带引号的文字")
    if len(value) < MIN_PASSWORD:
        raise node.fail(f"a console password must have at least {MIN_PASSWORD} characters",
                        f"后台密码至少 {MIN_PASSWORD} 个字符")
    return value
