"""The ``cloud:`` section of the workshop config, parsed strictly.

Errors name the file, the field path and the reason
(``workshop.yaml: cloud.token: missing ...``)::

    cloud:
      url: https://cloud.example.org   # the cloud service; batches go to {url}/api/v1/ingest
      token: sbg_...                   # the workshop's gateway token (issued by the cloud's admin)
      batch_items: 500                 # items per batch (1..5000)
      linger_seconds: 30               # wait up to this for a fuller batch (0..300; 0 = send at once);
                                       # a full batch or a waiting alarm transition goes at once
      timeout_seconds: 10              # one HTTP request
      retry_max_seconds: 30            # longest back-off while the cloud is unreachable
      max_rows: 1000000                # cloud outbox bound: past it the oldest *status* rows are dropped
      warn_percent: 80                 # the outbox_backlog alarm (subject cloud) is raised at this fill
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.sink_settings import TIMING_KEYS, http_url, parse_timing, seconds
from sebiao_common.yamlfile import Node

KEYS = ("url", "token", "batch_items", "linger_seconds", *TIMING_KEYS, "max_rows", "warn_percent")


@dataclass(frozen=True, kw_only=True)
class CloudSettings:
    url: str
    token: str
    batch_items: int = 500
    # How long the oldest waiting row may wait for a fuller batch: one request per
    # gateway every few seconds instead of one per poll, which is what a city of
    # gateways costs the cloud. Full batches and alarm transitions never wait.
    linger_seconds: float = 30.0
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 30.0
    max_rows: int = 1_000_000  # past this, the oldest status rows are dropped (events and alarms never)
    warn_percent: int = 80
    file: str = "workshop.yaml"

    @property
    def warn_rows(self) -> int:
        """The depth at which the ``outbox_backlog`` alarm (subject ``cloud``) is raised."""
        return self.max_rows * self.warn_percent // 100

    @property
    def ingest_url(self) -> str:
        return f"{self.url}/api/v1/ingest"

    def __post_init__(self) -> None:
        if not 0 <= self.linger_seconds <= 300:
            raise ValueError(f"cloud linger_seconds out of range: {self.linger_seconds}")


def cloud_settings(config: WorkshopConfig) -> CloudSettings | None:
    """The parsed section, or None when the config has no ``cloud:``."""
    raw = config.section("cloud")
    if raw is None:
        return None
    return parse_cloud(Node(config.file, "cloud", raw))


def parse_cloud(node: Node) -> CloudSettings:
    node.mapping(required=("url", "token"), optional=KEYS)
    token = node.child("token").string(r"\S{16,512}", "a gateway token without spaces, at least 16 characters")
    batch, max_rows, warn = node.get("batch_items"), node.get("max_rows"), node.get("warn_percent")
    url, timing = _url(node), parse_timing(node)
    return CloudSettings(
        url=url, token=token,
        batch_items=batch.integer(1, 5000) if batch else 500,
        linger_seconds=seconds(node.get("linger_seconds"), 30.0, 0, 300),
        timeout_seconds=timing.timeout_seconds, retry_max_seconds=timing.retry_max_seconds,
        max_rows=max_rows.integer(100, 100_000_000) if max_rows else 1_000_000,
        warn_percent=warn.integer(1, 99) if warn else 80,
        file=node.file)


def _url(node: Node) -> str:
    return http_url(node.child("url"), "the service's base URL, without query or fragment")
