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
      public_key: evidence.key.pub     # optional: the cloud's Ed25519 public key (PEM inline, or a file relative
                                       # to this config): the gateway then fetches the grade the regulator
                                       # published (GET {url}/api/v1/grade) and shows it once it verifies
      grade_poll_seconds: 600          # how often the grade is fetched (2..86400), and once at start
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.grade_statement import load_public_key
from sebiao_common.sink_settings import TIMING_KEYS, http_url, parse_timing, seconds
from sebiao_common.yamlfile import Node

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEYS = ("url", "token", "batch_items", "linger_seconds", *TIMING_KEYS, "max_rows", "warn_percent", "public_key",
        "grade_poll_seconds")


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
    public_key: Ed25519PublicKey | None = None  # the cloud's: without it no grade is fetched, none is shown
    grade_poll_seconds: float = 600.0
    file: str = "workshop.yaml"

    @property
    def warn_rows(self) -> int:
        """The depth at which the ``outbox_backlog`` alarm (subject ``cloud``) is raised."""
        return self.max_rows * self.warn_percent // 100

    @property
    def ingest_url(self) -> str:
        return f"{self.url}/api/v1/ingest"

    @property
    def grade_url(self) -> str:
        return f"{self.url}/api/v1/grade"

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
        public_key=_public_key(node),
        grade_poll_seconds=seconds(node.get("grade_poll_seconds"), 600.0, 2, 86400),
        file=node.file)


def _public_key(node: Node) -> Ed25519PublicKey | None:
    """``cloud.public_key``: PEM text, or a file relative to the config file."""
    key = node.get("public_key")
    if key is None:
        return None
    value = key.string()
    try:
        return load_public_key(value, Path(node.file).parent)
    except ValueError as exc:
        raise key.fail(f"不是云端的 Ed25519 公钥（PEM，或其文件；由 sebiao cloud keygen 生成的 KEY.pub） / not the "
                       f"cloud's Ed25519 public key (PEM, or a PEM file: the KEY.pub of `sebiao cloud keygen`): "
                       f"{exc}") from exc


def _url(node: Node) -> str:
    return http_url(node.child("url"), "the service's base URL, without query or fragment")
