"""``sebiao dashboards push``: upload the dashboards to a running Grafana through grafana-client.

The library's errors (and niquests' connection errors, which it lets through)
are converted here, at the boundary, into ``GrafanaError`` with a message that
says what to fix: the URL, the token, or the token's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar
from urllib.parse import urlparse

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from dashboards.generator.catalog import DASHBOARDS
from dashboards.generator.panels import DATASOURCE_UID
from dashboards.generator.render import dashboard_json
from sebiao_common.errors import SebiaoError

T = TypeVar("T")
DEFAULT_FOLDER = "色标 sebiao"
FOLDER_UID = "sebiao"


class GrafanaError(SebiaoError):
    """Grafana refused a request or could not be reached; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class InfluxSource:
    """The datasource to create or update in Grafana (optional: provisioning may own it)."""
    url: str
    database: str
    user: str | None = None
    password: str | None = None


@dataclass
class PushReport:
    grafana_version: str
    folder: str
    folder_created: bool
    dashboards: list[str] = field(default_factory=list)  # the URLs Grafana gave
    datasource: str = ""  # created / updated / present / missing


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise GrafanaError(f"--url {url!r}: expected http(s)://host[:port][/path], e.g. http://grafana:3000")


def _call(url: str, what: str, fn: Callable[[], T], missing_ok: bool = False) -> T | None:
    """Run one grafana-client call; its errors become GrafanaError. ``missing_ok``: a 404 gives None."""
    try:
        return fn()
    except GrafanaUnauthorizedError as exc:
        raise GrafanaError(f"Grafana at {url} refused the token (401) while {what}: check --token", 401) from exc
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise GrafanaError(f"Grafana at {url} refused {what} (403): the token lacks permission; "
                               "use a service account token with the Editor role (Admin for datasources)",
                               403) from exc
        if exc.status_code == 404 and missing_ok:
            return None
        if exc.status_code == 404:
            raise GrafanaError(f"{url} answered 404 while {what}: is this Grafana's base URL "
                               "(with its sub-path, if it is served under one)?", 404) from exc
        raise GrafanaError(f"Grafana at {url} refused {what}: {exc.message}", exc.status_code) from exc
    except GrafanaServerError as exc:
        raise GrafanaError(f"Grafana at {url} failed while {what}: {exc.message}", exc.status_code) from exc
    except GrafanaTimeoutError as exc:
        raise GrafanaError(f"Grafana at {url} did not answer in time while {what}") from exc
    except GrafanaException as exc:
        raise GrafanaError(f"Grafana at {url}: {what}: {exc.message}", exc.status_code or 0) from exc
    except niquests.exceptions.ConnectionError as exc:
        raise GrafanaError(f"cannot connect to Grafana at {url} ({_reason(exc)}): check --url") from exc
    except niquests.exceptions.RequestException as exc:
        raise GrafanaError(f"request to Grafana at {url} failed while {what}: {exc}") from exc
    except ValueError as exc:  # a 2xx answer that is not JSON: not a Grafana
        raise GrafanaError(f"{url} did not answer like Grafana while {what}: {exc}") from exc


def _reason(exc: Exception) -> str:
    text = str(exc)
    for hint, reason in (("Connection refused", "connection refused"), ("Name or service not known", "unknown host"),
                         ("nodename nor servname", "unknown host"), ("Temporary failure in name resolution",
                                                                     "unknown host")):
        if hint in text:
            return reason
    return text.split("\n")[0][:200]


def datasource_model(source: InfluxSource) -> dict[str, Any]:
    model: dict[str, Any] = {"name": "sebiao InfluxDB", "uid": DATASOURCE_UID, "type": "influxdb",
                             "access": "proxy", "url": source.url,
                             "jsonData": {"version": "InfluxQL", "dbName": source.database, "httpMode": "GET",
                                          "timeInterval": "10s"}}
    if source.user:
        model["user"] = source.user
    if source.password:
        model["secureJsonData"] = {"password": source.password}
    return model


def push(url: str, token: str, folder: str = DEFAULT_FOLDER, influx: InfluxSource | None = None,
         timeout: float = 10.0) -> PushReport:
    _check_url(url)
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    health = _call(url, "reading its version", api.health.check)  # /api/frontend/settings: buildInfo
    if not isinstance(health, dict) or "version" not in health:
        raise GrafanaError(f"{url} did not answer like Grafana (no buildInfo in /api/frontend/settings)")
    folders = _call(url, "listing folders", api.folder.get_all_folders)
    existing = next((f for f in folders if f.get("title") == folder or f.get("uid") == FOLDER_UID), None)
    created = existing is None
    if created:
        existing = _call(url, f"creating the folder {folder!r}", lambda: api.folder.create_folder(folder, uid=FOLDER_UID))
    report = PushReport(str(health["version"]), existing["title"], created)
    report.datasource = _datasource(url, api, influx)
    for stem in DASHBOARDS:
        model = dashboard_json(stem)
        body = {"dashboard": model, "folderUid": existing["uid"], "overwrite": True,
                "message": "sebiao dashboards push"}
        answer = _call(url, f"saving the dashboard {model['title']!r}", lambda: api.dashboard.update_dashboard(body))
        report.dashboards.append(url.rstrip("/") + str(answer.get("url", "")))
    return report


def _datasource(url: str, api: GrafanaApi, influx: InfluxSource | None) -> str:
    found = _call(url, "reading the datasource", lambda: api.datasource.get_datasource_by_uid(DATASOURCE_UID),
                  missing_ok=True)
    present = found is not None
    if influx is None:
        return "present" if present else "missing"
    model = datasource_model(influx)
    if present:
        _call(url, "updating the datasource", lambda: api.datasource.update_datasource_by_uid(DATASOURCE_UID, model))
        return "updated"
    _call(url, "creating the datasource", lambda: api.datasource.create_datasource(model))
    return "created"
