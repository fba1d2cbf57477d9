"""The ``cloud:`` section of the workshop config, parsed strictly.

Errors name the file, the field path and the reason
(``workshop.yaml: cloud.token: missing ...``)::

    cloud:
      url: https://cloud.example.org   # the cloud service; batches go to {url}/api/v1/ingest
      token: sbg_...                   # the workshop's gateway token (issued by the cloud's admin)
      batch_items: 500                 # items per batch (1..5000)
      timeout_seconds: 10              # one HTTP request
      retry_max_seconds: 30            # longest back-off while the cloud is unreachable
"""

from __future__ import annotations

from dataclasses import dataclass

from urllib.parse import urlsplit

from .config import WorkshopConfig
from .influx_config import _seconds
from .yamlfile import Node

KEYS = ("url", "token", "batch_items", "timeout_seconds", "retry_max_seconds")


@dataclass(frozen=True)
class CloudSettings:
    url: str
    token: str
    batch_items: int = 500
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 30.0
    file: str = "workshop.yaml"

    @property
    def ingest_url(self) -> str:
        return f"{self.url}/api/v1/ingest"


def cloud_settings(config: WorkshopConfig) -> CloudSettings | None:
    """The parsed section, or None when the config has no ``cloud:``."""
    raw = config.section("cloud")
    if raw is None:
        return None
    return parse_cloud(Node(config.file, "cloud", raw))


def parse_cloud(node: Node) -> CloudSettings:
    node.mapping(required=("url", "token"), optional=KEYS)
    token = node.child("token").string(r"\S{16,512}", "a gateway token without spaces, at least 16 characters")
    batch = node.get("batch_items")
    return CloudSettings(
        url=_url(node), token=token,
        batch_items=batch.integer(1, 5000) if batch else 500,
        timeout_seconds=_seconds(node.get("timeout_seconds"), 10.0, 0.1, 300),
        retry_max_seconds=_seconds(node.get("retry_max_seconds"), 30.0, 0.1, 3600),
        file=node.file)


def _url(node: Node) -> str:
    child = node.child("url")
    url = child.string().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise child.fail(f"{url!r} is not an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise child.fail(f"{url!r}: {exc}") from exc
    if parts.query or parts.fragment:
        raise child.fail(f"{url!r}: the service's base URL, without query or fragment")
    return url
