"""Writing line protocol to InfluxDB: two write APIs behind one sink.

- ``api: v2`` (default): influxdb-client's *synchronous* write API, to
  ``/api/v2/write`` (InfluxDB 1.8+, 2.x, 3.x, Cloud, VictoriaMetrics). Not its
  batching write API: its ``flush()`` does nothing and its buffer is unbounded;
  the outbox is our buffer.
- ``api: v1``: ``POST /write`` for InfluxDB 1.x up to 1.7 (database, retention
  policy, user and password), gzip-compressed, through urllib3.

A sink never raises for what the server answers or for a lost connection: it
returns a :class:`WriteResult` (status 0 = no answer), which
:func:`classify` sorts into what the drain worker does next. Library
exceptions (urllib3, influxdb-client) are converted here.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

import urllib3

from sebiao_common import strict_json
from sebiao_common.http_answers import REFUSED, classify, parse_retry_after, sink_pool
from sebiao_common.influx.settings import InfluxSettings

# Our precision names -> what each API's ``precision`` parameter calls them.
PRECISION_V1 = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}
PRECISION_V2 = {"ns": "ns", "us": "us", "ms": "ms", "s": "s"}
PRECISION = "ns"  # every point's timestamp is in nanoseconds (docs/influxdb.md)



@dataclass(frozen=True)
class WriteResult:
    status: int  # HTTP status; 0 when no answer came (connection refused, reset, timeout)
    reason: str = ""  # the server's message, or the connection error
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def outcome(self) -> str:
        if self.status == 500 and "retention policy not found" in self.reason:
            return REFUSED  # InfluxDB 1.x answers a wrong retention policy with 500: a config error
        return classify(self.status)


def server_message(body: bytes | str | None) -> str:
    """The message of an InfluxDB error body (1.x ``{"error": ...}``, 2.x ``{"message": ...}``) or the text."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        data = strict_json.loads(text)
    except strict_json.JsonError:
        return text.strip()[:2000]
    if isinstance(data, dict):
        for key in ("error", "message"):
            if isinstance(data.get(key), str):
                return data[key][:2000]
    return text.strip()[:2000]


class Sink(Protocol):
    def write(self, body: str) -> WriteResult: ...
    def close(self) -> None: ...


class V1Sink:
    """``POST {url}/write?db=..&rp=..&precision=n`` with a gzip body and Basic auth."""

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        params = {"db": settings.database, "precision": PRECISION_V1[PRECISION]}
        if settings.retention_policy:
            params["rp"] = settings.retention_policy
        self.url = f"{settings.url}/write?{urlencode(params)}"
        self.headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip"}
        if settings.username:
            self.headers.update(urllib3.make_headers(basic_auth=f"{settings.username}:{settings.password}"))
        self.http = sink_pool(settings.timeout_seconds)

    def write(self, body: str) -> WriteResult:
        data = gzip.compress(body.encode("utf-8"), compresslevel=1)
        try:
            response = self.http.request("POST", self.url, body=data, headers=self.headers)
        except urllib3.exceptions.HTTPError as exc:
            return WriteResult(0, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status < 300:
            return WriteResult(response.status)
        return WriteResult(response.status, server_message(response.data),
                           parse_retry_after(response.headers.get("Retry-After")))

    def close(self) -> None:
        self.http.clear()


class V2Sink:
    """influxdb-client's synchronous write API to ``/api/v2/write`` (gzip on)."""

    def __init__(self, settings: InfluxSettings) -> None:
        from influxdb_client import (  # heavy: only when used
            InfluxDBClient,
            WritePrecision,
        )
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.settings = settings
        # retries=False: the outbox decides about retries; the client's own would hide the answers.
        self.client = InfluxDBClient(url=settings.url, token=settings.token, org=settings.org,
                                     timeout=int(settings.timeout_seconds * 1000), enable_gzip=True,
                                     retries=False)
        self.api = self.client.write_api(write_options=SYNCHRONOUS)
        self.precision = getattr(WritePrecision, PRECISION_V2[PRECISION].upper())

    def write(self, body: str) -> WriteResult:
        from influxdb_client.rest import ApiException

        try:
            self.api.write(bucket=self.settings.bucket, org=self.settings.org, record=body.encode("utf-8"),
                           write_precision=self.precision)
        except ApiException as exc:
            headers = exc.headers or {}
            return WriteResult(exc.status or 0, server_message(exc.body) or str(exc.reason or ""),
                               parse_retry_after(headers.get("Retry-After")))
        except urllib3.exceptions.HTTPError as exc:
            return WriteResult(0, f"{type(exc).__name__}: {exc}"[:500])
        return WriteResult(204)

    def close(self) -> None:
        self.client.close()


def make_sink(settings: InfluxSettings) -> Sink:
    return V1Sink(settings) if settings.api == "v1" else V2Sink(settings)
