"""Where an InfluxDB is and how to write to it: one shape for the gateway's ``influx:``
section and the cloud's central InfluxDB (each side parses its own config into it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutboxSettings:
    max_rows: int = 1_000_000
    warn_percent: int = 80
    batch_lines: int = 1000


@dataclass(frozen=True)
class InfluxSettings:
    url: str
    api: str = "v2"
    token: str | None = None
    org: str | None = None
    bucket: str | None = None
    database: str | None = None
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0
    retry_max_seconds: float = 30.0
    summary_every_seconds: int = 60
    outbox: OutboxSettings = OutboxSettings()
    file: str = "workshop.yaml"

    @property
    def target(self) -> str:
        """Where the points go, in words: ``database 'sebiao'`` or ``bucket 'sebiao'``."""
        if self.api == "v1":
            rp = f", retention policy '{self.retention_policy}'" if self.retention_policy else ""
            return f"database '{self.database}'{rp}"
        return f"bucket '{self.bucket}' of org '{self.org}'"

    @property
    def query_db(self) -> str:
        """The database name InfluxQL's /query takes (v2 servers map it to the bucket by DBRP)."""
        return (self.database if self.api == "v1" else self.bucket) or ""
