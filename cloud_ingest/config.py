"""The cloud service's config (YAML), validated once at start-up.

Every error names the file, the field path and the reason
(``cloud.yaml: database.url: 'mysql://…' is not valid: …``)::

    database:
      url: sqlite:///var/lib/sebiao/cloud.db     # or postgresql+psycopg://user:pw@host/db
    listen: 127.0.0.1:8090
    session_secret: "at least 32 characters of randomness …"   # or session_secret_env: VARIABLE
    influx:                                       # optional: the central InfluxDB (docs/deploy.md)
      url: http://influx:8086                     # v2 write API: InfluxDB 1.8+, 2.x, Cloud, VictoriaMetrics
      database: sebiao                            # the bucket ("db/rp" on InfluxDB 1.8)
      token: ...                                  # optional (InfluxDB 2.x/Cloud; "user:password" on 1.8)
      org: ...                                    # optional (InfluxDB 2.x/Cloud)
      timeout_seconds: 10                         # one write request
      retry_max_seconds: 30                       # longest back-off while it is away
      batch_points: 5000                          # points per write request
    bootstrap_admin:                              # optional: created on start if no such user
      username: admin
      password_env: SEBIAO_CLOUD_ADMIN_PASSWORD   # or password: "…" (≥ 12 characters)
    limits:                                       # optional
      max_body_bytes: 1048576
      max_inflated_bytes: 16777216
      max_items: 5000
      busy_wait_ms: 250                           # a batch that waited this long for a free thread …
      busy_linger_seconds: 300                    # … asks its gateway to linger this long (0: never ask)
    trusted_proxies: [10.0.1.5, 10.0.2.0/24]      # optional: the reverse proxies whose X-Forwarded-For and
                                                  # X-Forwarded-Proto are believed (default: none)
    evidence:                                     # optional: signed checkpoints of the evidence chain
      signing_key: /etc/sebiao/evidence.key       # Ed25519, mode 0600, made by `sebiao cloud keygen`
      checkpoints: /var/lib/sebiao/evidence-checkpoints.jsonl   # appended to, never rewritten
      checkpoint_seconds: 10                      # how often a moved head is signed (0.05 .. 3600)
    public_pages:                                 # optional: the workshops' public pages /p/{slug} (defaults below)
      base_url: https://sebiao.example.gov.cn     # the address phones open (default: the one the gateway used)
      cache_seconds: 30                           # a page is built at most once per this (1 .. 600)
      silent_minutes: 15                          # no data for longer: the page says 数据中断 (1 .. 1440)
      per_minute: 120                             # requests per client address and minute (10 .. 100000)
      cache_entries: 2000                         # pages kept in memory (LRU; 10 .. 1000000)
      clients: 20000                              # client addresses counted at once (LRU; 100 .. 10000000)
    notify:                                       # optional: critical alarms to each district's office (docs/notify.md)
      base_url: https://sebiao.example.gov.cn     # links to the alarm's page (default: public_pages.base_url)
      timeout_seconds: 10                         # one HTTP request (0.1 .. 120)
      retry_max_seconds: 300                      # longest back-off while a channel fails (0.1 .. 3600)
      give_up_hours: 24                           # a message not accepted for this long is given up (1 .. 168)
      silent_hours: 24                            # the digest lists workshops with no data for longer (1 .. 720)
      districts:
        d-east:                                   # a district id
          timezone: Asia/Shanghai                 # quiet hours and the digest's time (default: the machine's)
          digest_at: "18:00"                      # optional: the daily digest's local time
          quiet_hours: {start: "22:00", end: "07:00", severities: [critical]}   # optional
          channels: [...]                         # as the gateway's notify.channels (wecom | dingtalk | webhook)
    freshness:                                    # optional: 最后上报 / 数据中断 on the inspectors' pages
      silent_after_minutes: 60                    # no batch for longer: 数据中断, and a ledger item (1 .. 10080)
      check_seconds: 60                           # how often each worker looks for silences (5 .. 3600)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import tzinfo
from pathlib import Path
from typing import Mapping

from sebiao_common.alarms import ALARM_TYPES
from sebiao_common.errors import ConfigError
from sebiao_common.net import parse_listen
from sebiao_common.notify.channels import (
    Channel,
    QuietHours,
    parse_channels,
    parse_quiet,
    parse_timezone,
    time_of_day,
)
from sebiao_common.proxies import parse_trusted_proxies
from sebiao_common.sink_settings import TIMING_KEYS, http_url, parse_timing, seconds
from sebiao_common.yamlfile import Node, load_yaml

USERNAME = r"[a-z0-9][a-z0-9_.-]{1,31}"
USERNAME_HINT = "use lowercase letters, digits, '_', '.', '-' (2 to 32 characters)"
MIN_PASSWORD = 12
DISTRICT_ID = r"[a-z0-9]+(?:-[a-z0-9]+){0,15}"  # access/admin.py's SLUG
DISTRICT_HINT = "lowercase letters and digits, words joined by '-'"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20       # compressed, as received
    max_inflated_bytes: int = 16 << 20  # after gunzip
    max_items: int = 5000
    # back-pressure: a batch that waited longer than busy_wait_ms for a free thread (others queued ahead of it) is
    # answered with "linger_seconds": busy_linger_seconds, which the gateway's push worker honours
    busy_wait_ms: int = 250
    busy_linger_seconds: int = 300

    def __post_init__(self) -> None:
        if not (0 < self.max_body_bytes <= self.max_inflated_bytes) or self.max_items < 1:
            raise ValueError("limits: need 0 < max_body_bytes <= max_inflated_bytes and max_items >= 1")


@dataclass(frozen=True)
class InfluxHook:
    """The central InfluxDB the drain workers write to (``influx/drain.py``), through the v2 write API."""

    url: str
    database: str
    token: str = ""
    org: str = ""
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 30.0
    batch_points: int = 5000

    def __post_init__(self) -> None:
        if not (self.url and self.database and 1 <= self.batch_points <= 50_000):
            raise ValueError(f"influx: incomplete settings {self}")


@dataclass(frozen=True)
class BootstrapAdmin:
    username: str
    password: str

    def __post_init__(self) -> None:
        if len(self.password) < MIN_PASSWORD:
            raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")


@dataclass(frozen=True, kw_only=True)
class EvidenceAnchor:
    """Where the chain's head is signed (``store/anchor.py``): the private key and the checkpoint file, both
    outside the database (paths relative to the config file), and how often."""

    signing_key: str
    checkpoints: str
    checkpoint_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class PublicPages:
    """The workshops' public pages (``cloud_ingest/public``, docs/public-page.md)."""

    base_url: str | None = None  # None: the scheme and host the gateway's own request used
    cache_seconds: float = 30.0
    silent_minutes: int = 15
    per_minute: int = 120  # a crowd behind one carrier-grade NAT shares an address: generous
    cache_entries: int = 2000
    clients: int = 20000


@dataclass(frozen=True, kw_only=True)
class DistrictNotify:
    """One district's channels (``cloud_ingest/notify``): its critical alarms as they arrive, the rest in a
    daily digest at ``digest_at`` (local time in ``timezone``)."""

    district: str
    channels: tuple[Channel, ...]
    timezone: tzinfo | None = None  # None: the machine's
    digest_at: clock_time | None = None  # None: no digest
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True, kw_only=True)
class Notify:
    districts: tuple[DistrictNotify, ...]
    base_url: str | None = None  # None: public_pages.base_url; both None: messages carry no link
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 300.0
    give_up_hours: float = 24.0
    silent_hours: float = 24.0


@dataclass(frozen=True, kw_only=True)
class Freshness:
    """When a workshop's data counts as interrupted (``reports/freshness.py``, ``review/silence.py``)."""

    silent_after_minutes: int = 60
    check_seconds: float = 60.0

    @property
    def silent_ms(self) -> int:
        return self.silent_after_minutes * 60_000


@dataclass(frozen=True)
class CloudConfig:
    file: str
    database_url: str
    host: str
    port: int
    session_secret: str
    influx: InfluxHook | None = None
    bootstrap_admin: BootstrapAdmin | None = None
    limits: Limits = Limits()
    trusted_proxies: tuple[str, ...] = ()  # addresses and CIDR networks (sebiao_common.proxies)
    evidence: EvidenceAnchor | None = None
    public_pages: PublicPages = PublicPages()
    notify: Notify | None = None
    freshness: Freshness = Freshness()

    def __post_init__(self) -> None:
        check_database_url(self.database_url)
        if len(self.session_secret) < 32:
            raise ValueError("session_secret must have at least 32 characters")


def check_database_url(url: str) -> str:
    """SQLite (``sqlite:///path``, ``sqlite://`` in memory) or PostgreSQL through psycopg 3."""
    if url.startswith("sqlite:///") or url == "sqlite://":
        return url
    if url.startswith("postgresql+psycopg://"):
        return url
    raise ValueError(f"{url.split('://')[0]!r}: use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB")


def load_cloud_config(path: str | Path, environ: dict[str, str] | None = None) -> CloudConfig:
    environ = os.environ if environ is None else environ
    name = str(path)
    root = Node(name, "", load_yaml(path)).mapping(
        required=("database",),
        optional=("session_secret", "session_secret_env", "listen", "influx", "bootstrap_admin", "limits",
                  "trusted_proxies", "evidence", "public_pages", "notify", "freshness"))
    db = root.child("database").mapping(required=("url",))
    url_node = db.child("url")
    database_url = url_node.string()
    url_node.convert(check_database_url)
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        # a relative SQLite path is taken relative to the config file, not the working directory
        relative = database_url[len("sqlite:///"):]
        database_url = "sqlite:///" + str((Path(name).parent / relative).resolve())
    listen = root.get("listen")
    host, port = ("127.0.0.1", 8090)
    if listen is not None:
        host, port = listen.convert(lambda v: _listen(v))
    secret, secret_value = _secret(root, "session_secret", environ)
    if len(secret_value) < 32:
        raise secret.fail("must have at least 32 characters (e.g. from `python -c 'import secrets; "
                          "print(secrets.token_urlsafe(32))'`)", "至少 32 个字符")
    influx = None
    if (node := root.get("influx")) is not None:
        node.mapping(required=("url", "database"),
                     optional=("token", "org", *TIMING_KEYS, "batch_points"))
        timing, batch = parse_timing(node), node.get("batch_points")
        influx = InfluxHook(http_url(node.child("url"), "the server's base URL, without query or fragment"),
                            node.child("database").string(),
                            node.child("token").string() if node.get("token") else "",
                            node.child("org").string() if node.get("org") else "",
                            timing.timeout_seconds, timing.retry_max_seconds,
                            batch.integer(1, 50_000) if batch else 5000)
    admin = None
    if (node := root.get("bootstrap_admin")) is not None:
        node.mapping(required=("username",), optional=("password", "password_env"))
        username = node.child("username").string(USERNAME, USERNAME_HINT)
        pw_node, password = _secret(node, "password", environ)
        if len(password) < MIN_PASSWORD:
            raise pw_node.fail(f"the password must have at least {MIN_PASSWORD} characters",
                               f"密码至少 {MIN_PASSWORD} 个字符")
        admin = BootstrapAdmin(username, password)
    limits = Limits()
    if (node := root.get("limits")) is not None:
        node.mapping(optional=("max_body_bytes", "max_inflated_bytes", "max_items", "busy_wait_ms",
                               "busy_linger_seconds"))
        values = {key: node.child(key).integer(0 if key == "busy_linger_seconds" else 1,
                                               3600 if key == "busy_linger_seconds" else 1 << 30)
                  for key in node.value if node.value[key] is not None}
        limits = node.convert(lambda _: Limits(**values))
    evidence = _evidence(node, name) if (node := root.get("evidence")) is not None else None
    pages = _public_pages(node) if (node := root.get("public_pages")) is not None else PublicPages()
    notify = _notify(node, pages.base_url) if (node := root.get("notify")) is not None else None
    return CloudConfig(file=name, database_url=database_url, host=host, port=port, session_secret=secret_value,
                       influx=influx, bootstrap_admin=admin, limits=limits,
                       trusted_proxies=parse_trusted_proxies(root.get("trusted_proxies")), evidence=evidence,
                       public_pages=pages, notify=notify,
                       freshness=_freshness(root.get("freshness")))


def _notify(node: Node, public_base: str | None) -> Notify:
    node.mapping(required=("districts",), optional=("base_url", "timeout_seconds", "retry_max_seconds",
                                                      "give_up_hours", "silent_hours"))
    districts = node.child("districts")
    if not isinstance(districts.value, dict):
        raise districts.fail("must be a mapping of district ids to their channels", "必须是“区编号: 通道设置”的键值表")
    if not districts.value:
        raise districts.fail("至少需要一个区 / needs at least one district")
    base = node.get("base_url")
    return Notify(
        districts=tuple(_district(districts, key) for key in districts.value),
        base_url=http_url(base, "the cloud's address people open, without query or fragment") if base else public_base,
        timeout_seconds=seconds(node.get("timeout_seconds"), 10.0, 0.1, 120),
        retry_max_seconds=seconds(node.get("retry_max_seconds"), 300.0, 0.1, 3600),
        give_up_hours=_hours(node.get("give_up_hours"), 24.0, 1, 168),
        silent_hours=_hours(node.get("silent_hours"), 24.0, 1, 720))


def _hours(node: Node | None, default: float, low: float, high: float) -> float:
    if node is None:
        return default
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise node.fail(f"must be a number of hours from {low} to {high}, got {value!r}",
                        f"必须是 {low} 到 {high} 之间的小时数，实际是 {value!r}")
    return float(value)


def _district(districts: Node, key: object) -> DistrictNotify:
    node = districts.child(key)  # type: ignore[arg-type]
    if not isinstance(key, str) or not re.fullmatch(DISTRICT_ID, key):
        raise node.fail(f"{key!r} is not a district id ({DISTRICT_HINT})", "不是有效的区编号")
    node.mapping(required=("channels",), optional=("timezone", "digest_at", "quiet_hours"))
    digest = node.get("digest_at")
    return DistrictNotify(district=key, channels=parse_channels(node.child("channels"), ALARM_TYPES, ALARM_TYPES),
                          timezone=parse_timezone(node.get("timezone")),
                          digest_at=time_of_day(digest) if digest is not None else None,
                          quiet_hours=parse_quiet(node.get("quiet_hours")))


def _freshness(node: Node | None) -> Freshness:
    if node is None:
        return Freshness()
    node.mapping(optional=("silent_after_minutes", "check_seconds"))
    minutes = node.get("silent_after_minutes")
    return Freshness(silent_after_minutes=minutes.integer(1, 10080) if minutes is not None else 60,
                     check_seconds=seconds(node.get("check_seconds"), 60.0, 5, 3600))


def _public_pages(node: Node) -> PublicPages:
    node.mapping(optional=("base_url", "cache_seconds", "silent_minutes", "per_minute", "cache_entries", "clients"))

    def whole(key: str, low: int, high: int, default: int) -> int:
        return node.child(key).integer(low, high) if node.get(key) is not None else default
    base = node.get("base_url")
    return PublicPages(
        base_url=http_url(base, "the public base URL phones open, without query or fragment") if base else None,
        cache_seconds=seconds(node.get("cache_seconds"), 30.0, 1, 600),
        silent_minutes=whole("silent_minutes", 1, 1440, 15), per_minute=whole("per_minute", 10, 100_000, 120),
        cache_entries=whole("cache_entries", 10, 1_000_000, 2000), clients=whole("clients", 100, 10_000_000, 20000))


def _evidence(node: Node, name: str) -> EvidenceAnchor:
    node.mapping(required=("signing_key", "checkpoints"), optional=("checkpoint_seconds",))
    paths = {key: str((Path(name).parent / node.child(key).string()).resolve())
             for key in ("signing_key", "checkpoints")}
    if paths["signing_key"] == paths["checkpoints"]:
        raise node.child("checkpoints").fail("must be another file than signing_key", "不能与 signing_key 是同一个文件")
    return EvidenceAnchor(**paths, checkpoint_seconds=seconds(node.get("checkpoint_seconds"), 10.0, 0.05, 3600))


def _secret(node: Node, key: str, environ: Mapping[str, str]) -> tuple[Node, str]:
    """``key`` written in the file, or ``key_env`` naming the environment variable that holds it
    (so that a config file can be shared without its secrets): exactly one of the two."""
    given = [k for k in (key, key + "_env") if k in node.value]
    if len(given) != 1:
        raise node.fail(f"give exactly one of '{key}' and '{key}_env'", f"'{key}' 和 '{key}_env' 只能给一个，也必须给一个")
    child = node.child(given[0])
    if given[0] == key:
        return child, child.string()
    var = child.string(r"[A-Za-z_][A-Za-z0-9_]*", "must be an environment variable name")
    if not environ.get(var):
        raise child.fail(f"the environment variable {var} is not set or empty", f"环境变量 {var} 未设置或为空")
    return child, environ[var]


def _listen(value: object) -> tuple[str, int]:
    if not isinstance(value, str):
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8090")
    try:
        return parse_listen(value, "listen")
    except ConfigError as exc:
        raise ValueError(exc.reason) from exc
