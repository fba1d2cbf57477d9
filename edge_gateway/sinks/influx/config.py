"""The ``influx:`` section of the workshop config, parsed strictly.

Errors name the file, the field path and the reason, like the rest of the
config (``workshop.yaml: influx.bucket: missing ...``)::

    influx:
      api: v2                    # v2 (default) | v1
      url: http://127.0.0.1:8086
      token: ...                 # v2
      org: ...                   # v2
      bucket: sebiao             # v2
      database: sebiao           # v1
      retention_policy: autogen  # v1, optional
      username: ...              # v1, optional
      password: ...              # v1, optional
      timeout_seconds: 10        # one HTTP request
      retry_max_seconds: 30      # longest back-off after errors
      summary_every_seconds: 60  # zone_summary and station_status snapshots
      outbox:
        max_rows: 1000000        # past this, the oldest telemetry rows are dropped
        warn_percent: 80         # the outbox_backlog alarm is raised at this fill
        batch_lines: 1000        # lines per write request
"""

from __future__ import annotations

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.errors import ConfigError
from sebiao_common.influx.settings import InfluxSettings, OutboxSettings
from sebiao_common.sink_settings import TIMING_KEYS, http_url, parse_timing
from sebiao_common.yamlfile import Node

APIS = ("v2", "v1")
V1_ONLY = ("database", "retention_policy", "username", "password")
V2_ONLY = ("token", "org", "bucket")
COMMON = ("api", "url", *TIMING_KEYS, "summary_every_seconds", "outbox")


def influx_settings(config: WorkshopConfig) -> InfluxSettings | None:
    """The parsed section, or None when the config has no ``influx:``."""
    raw = config.section("influx")
    if raw is None:
        return None
    return parse_influx(Node(config.file, "influx", raw))


def parse_influx(node: Node) -> InfluxSettings:
    node.mapping(optional=COMMON + V1_ONLY + V2_ONLY)
    api_node = node.get("api")
    api = api_node.choice(APIS) if api_node else "v2"
    url = _url(node)
    other = V2_ONLY if api == "v1" else V1_ONLY
    for key in other:
        if node.get(key) is not None:
            raise node.child(key).fail(f"is for api: {'v2' if api == 'v1' else 'v1'}; this section has api: {api}",
                                       f"只用于 api: {'v2' if api == 'v1' else 'v1'}，本节是 api: {api}")
    values: dict[str, str] = {}
    if api == "v2":
        for key in V2_ONLY:
            child = node.get(key)
            if child is None:
                raise node.fail(f"missing required key '{key}' (api: v2 needs url, token, org and bucket)",
                                f"缺少必填的键 '{key}'（api: v2 需要 url、token、org 和 bucket）")
            values[key] = child.string()
    else:
        database = node.get("database")
        if database is None:
            raise node.fail("missing required key 'database' (api: v1 needs url and database)",
                            "缺少必填的键 'database'（api: v1 需要 url 和 database）")
        values["database"] = database.string()
        for key in ("retention_policy", "username", "password"):
            child = node.get(key)
            if child is not None:
                values[key] = child.string()
        if ("username" in values) != ("password" in values):
            missing = "password" if "username" in values else "username"
            raise node.fail(f"missing required key '{missing}' (username and password go together)",
                            f"缺少必填的键 '{missing}'（username 和 password 要一起给）")
    timing = parse_timing(node)
    return InfluxSettings(
        url=url, api=api, **values,
        timeout_seconds=timing.timeout_seconds, retry_max_seconds=timing.retry_max_seconds,
        summary_every_seconds=(node.get("summary_every_seconds").integer(1, 86400)
                               if node.get("summary_every_seconds") else 60),
        outbox=_outbox(node.get("outbox")),
        file=node.file,
    )


def _url(node: Node) -> str:
    child = node.get("url")
    if child is None:
        raise node.fail("missing required key 'url'", "缺少必填的键 'url'")
    return http_url(child, "no query or fragment here; the database or bucket has its own key")


def _outbox(node: Node | None) -> OutboxSettings:
    if node is None:
        return OutboxSettings()
    node.mapping(optional=("max_rows", "warn_percent", "batch_lines"))
    max_rows = node.get("max_rows").integer(100, 100_000_000) if node.get("max_rows") else 1_000_000
    warn = node.get("warn_percent").integer(1, 99) if node.get("warn_percent") else 80
    batch = node.get("batch_lines").integer(1, 5000) if node.get("batch_lines") else OutboxSettings.batch_lines
    return OutboxSettings(max_rows=max_rows, warn_percent=warn, batch_lines=batch)


def require_influx(config: WorkshopConfig) -> InfluxSettings:
    settings = influx_settings(config)
    if settings is None:
        raise ConfigError(config.file, "influx", "the config has no influx: section")
    return settings
