"""``sebiao influx check``: can this gateway write to its InfluxDB, and how far behind is it?

Connects (``/ping``: the server's version), writes a probe point through the
same sink the gateway uses, reads it back with InfluxQL over ``/query`` (or,
for VictoriaMetrics, which has no InfluxQL, through ``/api/v1/export``), and
reads the outbox depth and the age of its oldest row from the gateway's data
dir. Every failure is a :class:`SinkError` that says what to fix.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from edge_gateway.errors import StoreError
from edge_gateway.sinks.influx.outbox import OutboxState, read_state
from edge_gateway.sinks.influx.query import InfluxQueryClient
from sebiao_common import strict_json
from sebiao_common.clock import Clock
from sebiao_common.errors import SinkError
from sebiao_common.http_answers import OK
from sebiao_common.influx.lines import tag
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.influx.writer import WriteResult, make_sink

PROBE = "sebiao_probe"


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    version: str
    target: str
    read_back: str  # how the probe was read back
    outbox: OutboxState | None
    outbox_note: str = ""


def explain(result: WriteResult, settings: InfluxSettings) -> str:
    """A write failure in words, with the config key to fix."""
    where = f"{settings.url} ({settings.target})"
    status, reason = result.status, result.reason
    if status == 0:
        return f"cannot reach {settings.url}: {reason} (check influx.url)"
    if status in (401, 403):
        keys = "influx.token" if settings.api == "v2" else "influx.username and influx.password"
        return f"{where} refused our credentials (HTTP {status}: {reason}): check {keys}"
    if status == 404:
        if settings.api == "v1" and "database not found" in reason:
            return (f"{where}: the database does not exist (HTTP 404: {reason}): fix influx.database "
                    f"or create it (CREATE DATABASE \"{settings.database}\")")
        if settings.api == "v2" and ("bucket" in reason or "organization" in reason or "org" in reason):
            return f"{where}: {reason} (HTTP 404): check influx.bucket and influx.org"
        hint = " (InfluxDB 1.7 and older have no /api/v2/write: use api: v1)" if settings.api == "v2" else ""
        return f"{where}: HTTP 404 ({reason or 'not found'}): check influx.url{hint}"
    if "retention policy not found" in reason:
        return f"{where}: {reason}: fix influx.retention_policy"
    return f"{where} refused the probe point (HTTP {status}): {reason}"


def check(settings: InfluxSettings, workshop: str, data_dir: Path | None, *, clock: Clock) -> CheckReport:
    """``clock`` (ms since the epoch) stamps the probe point; the command hands it the system clock."""
    client = InfluxQueryClient(settings)
    try:
        version = client.version()
        value = secrets.randbelow(1 << 40)
        sink = make_sink(settings)
        try:
            result = sink.write(f"{PROBE},workshop={tag(workshop)} value={value}i {clock() * 1_000_000}")
        finally:
            sink.close()
        if result.outcome != OK:
            raise SinkError(explain(result, settings), status=result.status)
        read_back = _read_back(client, settings, workshop, value, version.startswith("VictoriaMetrics"))
    finally:
        client.close()
    outbox, note = None, ""
    if data_dir is not None:
        try:
            outbox = read_state(Path(data_dir) / "gateway.sqlite3")
        except StoreError as exc:
            note = str(exc)
    return CheckReport(version=version, target=settings.target, read_back=read_back, outbox=outbox, outbox_note=note)


def _read_back(client: InfluxQueryClient, settings: InfluxSettings, workshop: str, value: int,
               victoria: bool) -> str:
    deadline = time.monotonic() + 10
    quoted = workshop.replace("\\", "\\\\").replace("'", "\\'")
    while True:
        if victoria:  # its /query only answers Grafana's SHOW DATABASES
            rows, how = _victoria_export(client, workshop) or [], "/api/v1/export (VictoriaMetrics: no InfluxQL)"
        else:
            rows, how = _influxql(client, settings, workshop, quoted)
        if rows and rows[0].get("last") == value:
            return how
        if time.monotonic() > deadline:
            raise SinkError(f"the probe was accepted but could not be read back from {settings.target} "
                            f"within 10 s (got {rows[:1]})")
        time.sleep(0.2)


def _influxql(client: InfluxQueryClient, settings: InfluxSettings, workshop: str, quoted: str
              ) -> tuple[list, str]:
    try:
        return client.query(f"SELECT last(value) FROM {PROBE} WHERE workshop='{quoted}'"), "InfluxQL /query"
    except SinkError as exc:
        if exc.status in (400, 404):
            raise SinkError(f"the probe was written, but {settings.url} does not answer InfluxQL on /query "
                            f"for {settings.target}: {exc}", status=exc.status) from exc
        raise


def _victoria_export(client: InfluxQueryClient, workshop: str) -> list[dict] | None:
    answer = client.get("/api/v1/export", {"match[]": f'{PROBE}_value{{workshop="{workshop}"}}', "start": "0"})
    if answer.status != 200:
        return None
    values = [v for line in answer.text.splitlines() if line.strip() for v in strict_json.loads(line)["values"]]
    return [{"last": int(values[-1])}] if values else []
