"""Reading from InfluxDB: the server's version (``/ping``) and InfluxQL over ``/query``.

InfluxQL over ``/query`` is answered by InfluxDB 1.x, 2.x (through its DBRP
mapping of database/retention policy to a bucket) and 3.x. v1 settings log in
with Basic auth, v2 settings with ``Authorization: Token``. urllib3 errors
become :class:`SinkError` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import urllib3

from sebiao_common import strict_json
from sebiao_common.errors import SinkError
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.influx.writer import server_message


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int
    data: Any
    text: str
    headers: dict[str, str]


class InfluxQueryClient:
    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        self.http = urllib3.PoolManager(num_pools=1, retries=False,
                                        timeout=urllib3.Timeout(connect=min(5.0, settings.timeout_seconds),
                                                                read=settings.timeout_seconds))
        if settings.api == "v2":
            self.headers = {"Authorization": f"Token {settings.token}"}
        elif settings.username:
            self.headers = urllib3.make_headers(basic_auth=f"{settings.username}:{settings.password}")
        else:
            self.headers = {}

    def close(self) -> None:
        self.http.clear()

    def get(self, path: str, fields: dict[str, str] | None = None) -> Answer:
        try:
            response = self.http.request("GET", self.settings.url + path, fields=fields, headers=self.headers)
        except urllib3.exceptions.HTTPError as exc:
            raise SinkError(f"cannot reach {self.settings.url}: {type(exc).__name__}: {exc}") from exc
        text = response.data.decode("utf-8", "replace")
        try:
            data = strict_json.loads(text) if text.strip() else None
        except ValueError:
            data = None
        return Answer(status=response.status, data=data, text=text,
                      headers={k.lower(): v for k, v in response.headers.items()})

    def version(self) -> str:
        """The server's version from /ping (X-Influxdb-Version), or what else it tells."""
        answer = self.get("/ping")
        if answer.status >= 400:
            raise SinkError(f"{self.settings.url}/ping answered HTTP {answer.status}: is this an InfluxDB URL?")
        version = answer.headers.get("x-influxdb-version")
        if version:
            build = answer.headers.get("x-influxdb-build")
            return f"InfluxDB {version}" + (f" ({build})" if build else "")
        info = self.get("/api/v1/status/buildinfo")  # VictoriaMetrics, which has no version header
        if info.status == 200 and isinstance(info.data, dict):
            return f"VictoriaMetrics {info.data.get('data', {}).get('version', 'unknown version')}"
        return "unknown (no X-Influxdb-Version header)"

    def query(self, q: str) -> list[dict[str, Any]]:
        """The rows of an InfluxQL query's first result, each series' tags merged into its rows."""
        answer = self.get("/query", {"db": self.settings.query_db, "q": q, "epoch": "ns",
                                     **({"rp": self.settings.retention_policy}
                                        if self.settings.retention_policy else {})})
        if answer.status != 200:
            raise SinkError(f"InfluxQL query refused (HTTP {answer.status}): {server_message(answer.text)}",
                            status=answer.status)
        results = (answer.data or {}).get("results") or [{}]
        if "error" in results[0]:
            raise SinkError(f"InfluxQL error: {results[0]['error']}", status=answer.status)
        rows = []
        for series in results[0].get("series", []):
            for values in series.get("values", []):
                rows.append({**series.get("tags", {}), **dict(zip(series["columns"], values))})
        return rows
