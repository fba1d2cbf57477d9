"""The fields every sink section shares (``influx:``, ``cloud:``), parsed once.

A sink is an HTTP server the gateway ships its outbox to; both sections take
the same ``url`` rules and the same two durations, with the same error texts
(``workshop.yaml: cloud.timeout_seconds: must be a number of seconds, got 'ten'``)::

    url: https://host:port     # http:// or https:// with a host, no query or fragment
    timeout_seconds: 10        # one HTTP request (0.1 .. 300)
    retry_max_seconds: 30      # longest back-off after errors (0.1 .. 3600)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sebiao_common.yamlfile import Node

TIMING_KEYS = ("timeout_seconds", "retry_max_seconds")


@dataclass(frozen=True)
class Timing:
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not (0.1 <= self.timeout_seconds <= 300 and 0.1 <= self.retry_max_seconds <= 3600):
            raise ValueError(f"sink timing out of range: {self}")


def parse_timing(node: Node) -> Timing:
    """``timeout_seconds`` and ``retry_max_seconds`` of a sink section (defaults when absent)."""
    return Timing(timeout_seconds=seconds(node.get("timeout_seconds"), 10.0, 0.1, 300),
                  retry_max_seconds=seconds(node.get("retry_max_seconds"), 30.0, 0.1, 3600))


def seconds(node: Node | None, default: float, low: float, high: float) -> float:
    if node is None:
        return default
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise node.fail(f"must be a number of seconds, got {value!r}", f"必须是秒数，实际是 {value!r}")
    if not low <= value <= high:
        raise node.fail(f"must be between {low} and {high} seconds, got {value}",
                        f"必须在 {low} 到 {high} 秒之间，实际是 {value}")
    return float(value)


def http_url(child: Node, no_query: str) -> str:
    """A base URL without its trailing slash; ``no_query`` ends the error about a query or fragment."""
    url = child.string().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise child.fail(f"{url!r} is not an http:// or https:// URL with a host",
                         f"{url!r} 不是带主机名的 http:// 或 https:// 地址")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise child.fail(f"{url!r}: {exc}", f"{url!r}：端口不对") from exc
    if parts.query or parts.fragment:
        raise child.fail(f"{url!r}: {no_query}")
    return url
