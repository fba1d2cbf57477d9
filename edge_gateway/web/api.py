"""The gateway's local HTTP API (Starlette), contract in ``docs/http-api.md``.

Reads come from the store through a read-only connection (WAL gives a committed
snapshot); alarm actions go through the pipeline so there is one writer.
Bound to loopback by default. A bearer token from the config is required for
everything when bound beyond loopback, and for every POST wherever it is bound.
"""

from __future__ import annotations

import asyncio
import hmac
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge_gateway import __version__
from edge_gateway.core.metrics import Metrics
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.core.sink_status import SinkStatus
from edge_gateway.errors import AlarmActionError, PayloadError
from edge_gateway.model.alarms import LATCHED, alarm_json
from edge_gateway.model.protocol import decode_event
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store.writer import ALARM_COLUMNS, alarm_from_row, connect
from edge_gateway.web import days_api, secrets_api, stations_api
from edge_gateway.web.alarm_actions import MAX_ALARM_ID, ActionRefused, perform_action
from sebiao_common import strict_json


def _no_sinks() -> Mapping[str, SinkStatus]:
    return {}


def _no_clock() -> Mapping[str, object]:
    return {}


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    db_path: Path
    workshop: str
    pipeline: Pipeline
    metrics: Metrics
    token: str | None
    open_reads: bool  # True when bound to loopback: reads need no token
    broker_connected: Callable[[], bool]
    config: WorkshopConfig
    workers: Callable[[], Mapping[str, SinkStatus]] = _no_sinks  # the sink workers by name, for /healthz
    clock_health: Callable[[], Mapping[str, object]] = _no_clock  # the gateway's clock and its SNTP server


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class TokenAuth(BaseHTTPMiddleware):
    def __init__(self, app, ctx: ApiContext) -> None:
        super().__init__(app)
        self.ctx = ctx

    async def dispatch(self, request: Request, call_next):
        needs = request.method not in ("GET", "HEAD") or not self.ctx.open_reads
        if needs and not self._valid(request.headers.get("authorization", "")):
            if self.ctx.token is None:
                return error(403, "this gateway has no http.token in its config: changes are refused / "
                                  "未配置访问令牌，拒绝修改")
            return JSONResponse({"error": "a valid bearer token is required / 需要有效的访问令牌"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)

    def _valid(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return (self.ctx.token is not None and scheme.lower() == "bearer"
                and hmac.compare_digest(value.strip().encode(), self.ctx.token.encode()))


def _rows(ctx: ApiContext, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    conn = connect(ctx.db_path, readonly=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def tools(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    rows = {r["id"]: r for r in await asyncio.to_thread(_rows, ctx, "SELECT * FROM tools")}
    out = []
    for tool in ctx.config.tools:
        row = rows.get(tool.id)
        out.append({
            "id": tool.id, "kind": tool.kind, "color": tool.color, "tag": tool.tag, "home": tool.home,
            "tracked": tool.tag is not None, "marking": tool.marking, "marked_on": tool.marked_on,
            "state": row["location"] if row else "unknown",
            "station": row["station"] if row else None,
            "since": row["since"] if row and row["since"] else None,
            "washed": bool(row["washed"]) if row else False,
            "last_seen": row["last_seen"] if row and row["last_seen"] else None,
        })
    return JSONResponse(out)


UNKNOWN_TAGS_MAX = 1000


def _unknown_tags(ctx: ApiContext) -> list[dict[str, object]]:
    """Each tag no tool has that a station read (``placed``), in the order first read: where first, how often,
    when last, and the smart label its newest read carried (the station sends it when the tag has one)."""
    conn = connect(ctx.db_path, readonly=True)
    try:
        groups = conn.execute(
            "SELECT tag, min(id) AS first_id, max(id) AS last_id, count(*) AS reads, max(ts) AS last_seen "
            "FROM events WHERE tool IS NULL AND action = 'placed' GROUP BY tag ORDER BY first_id").fetchall()
        groups = [g for g in groups if ctx.config.tool_by_tag(g["tag"]) is None][:UNKNOWN_TAGS_MAX]
        ids = [g["first_id"] for g in groups] + [g["last_id"] for g in groups]
        rows = {r["id"]: r for chunk in range(0, len(ids), 500) for r in conn.execute(
            f"SELECT id, station, ts, payload FROM events WHERE id IN ({','.join('?' * len(ids[chunk:chunk + 500]))})",
            ids[chunk:chunk + 500])}
    finally:
        conn.close()
    out = []
    for g in groups:
        first, last = rows[g["first_id"]], rows[g["last_id"]]
        station = ctx.config.station(first["station"])
        try:
            label = decode_event(last["station"], last["payload"]).label
        except PayloadError:  # stored as received and decoded then: not expected, but never a 500
            label = None
        out.append({"tag": g["tag"], "station": first["station"], "zone": station.zone if station else None,
                    "first_seen": first["ts"], "last_seen": g["last_seen"], "reads": g["reads"],
                    "label": {k: v for k, v in vars(label).items()} if label else None})
    return out


async def unknown_tags(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    return JSONResponse(await asyncio.to_thread(_unknown_tags, ctx))


async def alarms(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    state = request.query_params.get("state", "active")
    if state not in ("active", "all", "cleared"):
        return error(400, f"state: {state!r} is not one of active, cleared, all")
    try:
        limit = int(request.query_params.get("limit", "500"))
    except ValueError:
        return error(400, "limit: must be a whole number")
    where = "" if state == "all" else "WHERE state = ?"
    args: tuple = () if state == "all" else (state,)
    sql = f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms {where} ORDER BY id DESC LIMIT ?"
    rows = await asyncio.to_thread(_rows, ctx, sql, args + (max(1, min(limit, 5000)),))
    return JSONResponse([alarm_json(alarm_from_row(r), ctx.workshop) for r in rows])


async def alarm_detail(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    alarm_id = request.path_params["alarm_id"]
    if alarm_id > MAX_ALARM_ID:  # beyond SQLite's INTEGER: no such alarm
        return error(404, f"alarm {alarm_id} does not exist")
    rows = await asyncio.to_thread(
        _rows, ctx, f"SELECT {','.join(ALARM_COLUMNS)} FROM alarms WHERE id = ?", (alarm_id,))
    if not rows:
        return error(404, f"alarm {alarm_id} does not exist")
    alarm = alarm_from_row(rows[0])
    history = await asyncio.to_thread(
        _rows, ctx, "SELECT at, action, state, acked, by, comment FROM alarm_history WHERE alarm_id = ? "
                    "ORDER BY id", (alarm_id,))
    evidence = []
    if alarm.tool:
        evidence = await asyncio.to_thread(
            _rows, ctx, "SELECT ts, station, action, late, note FROM events WHERE tool = ? AND ts <= ? "
                        "ORDER BY ts DESC LIMIT 20", (alarm.tool, alarm.last_ts))
    body = {**alarm_json(alarm, ctx.workshop),
            "history": [dict(r) | {"acked": bool(r["acked"])} for r in history],
            "evidence": [dict(r) | {"late": bool(r["late"])} for r in reversed(evidence)]}
    return JSONResponse(body)


CYCLE_COLUMNS = ("station", "boot", "seq", "start", "ts", "interval_s", "received_at", "method", "temp_c",
                 "hold_required", "max_temp_dc", "hold_seconds", "hold_start", "hold_end", "passed", "tools")
MAX_LIMIT = 5000
TIME_MAX = 2**53  # ms since the epoch: far beyond any clock, and exact in JSON


def _whole(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within ``low .. high``; ValueError names it."""
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}: must be a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low} and {high}")
    return value


async def cycles(request: Request) -> Response:
    """The disinfection cycles the gateway judged, newest first: ``station`` (one of the config's), ``since`` and
    ``until`` (the cycle's end, ms since the epoch, ``since`` included, ``until`` not), ``limit`` (1 .. 5000)."""
    ctx: ApiContext = request.app.state.ctx
    try:
        limit = _whole(request, "limit", 500, 1, MAX_LIMIT)
        since = _whole(request, "since", 0, 0, TIME_MAX)
        until = _whole(request, "until", TIME_MAX, 0, TIME_MAX)
    except ValueError as bad:
        return error(400, str(bad))
    station = request.query_params.get("station")
    if station is not None and station not in {s.id for s in ctx.config.stations}:
        return error(400, f"station: {station!r} is not a station of workshop {ctx.workshop}")
    where, args = "ts >= ? AND ts < ?", [since, until]
    if station is not None:
        where, args = where + " AND station = ?", args + [station]
    rows = await asyncio.to_thread(_rows, ctx, f"SELECT {','.join(CYCLE_COLUMNS)} FROM cycles WHERE {where} "
                                               "ORDER BY ts DESC, id DESC LIMIT ?", (*args, limit))
    return JSONResponse([_cycle_json(r) for r in rows])


def _cycle_json(row: sqlite3.Row) -> dict[str, object]:
    return {"station": row["station"], "boot": row["boot"], "seq": row["seq"], "start": row["start"],
            "ts": row["ts"], "interval_s": row["interval_s"], "received_at": row["received_at"],
            "method": row["method"], "temp_c": row["temp_c"], "hold_required_s": row["hold_required"],
            "max_temp_dc": row["max_temp_dc"], "hold_s": row["hold_seconds"], "hold_start": row["hold_start"],
            "hold_end": row["hold_end"], "passed": bool(row["passed"]), "tools": strict_json.loads(row["tools"])}


def _who(body: dict[str, object]) -> tuple[str, str | None]:
    by, comment = body.get("by"), body.get("comment")
    if not isinstance(by, str):
        raise AlarmActionError("请填写操作人的姓名 / 'by' must be a string naming the person")
    if comment is not None and not isinstance(comment, str):
        raise AlarmActionError("备注须为文字 / 'comment' must be a string")
    return by, comment


async def _act(request: Request, verb: str) -> Response:
    ctx: ApiContext = request.app.state.ctx
    try:
        alarm = await perform_action(request, ctx.pipeline, verb, _who)
    except ActionRefused as refused:
        return error(refused.status, refused.message)
    return JSONResponse(alarm_json(alarm, ctx.workshop))


async def ack(request: Request) -> Response:
    return await _act(request, "ack")


async def clear(request: Request) -> Response:
    return await _act(request, "clear")


def _counts(worker: SinkStatus) -> dict[str, object]:
    """What a worker that counts its messages since start (the notifier: sent, failed) adds to its entry."""
    counts = getattr(worker, "counts", None)
    return counts() if callable(counts) else {}


async def healthz(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    pipeline_ok = ctx.pipeline.alive and ctx.pipeline.failed is None
    broker_ok = ctx.broker_connected()
    sinks = {name: {"running": worker.alive, "depth": worker.depth(), "last_error": worker.last_error,
                    **_counts(worker)} for name, worker in ctx.workers().items()}
    sinks_ok = all(s["running"] and s["last_error"] is None for s in sinks.values())
    stored = ctx.pipeline.store_health.status
    writer = ctx.pipeline.engine.store
    store = {"ok": stored.ok, "error": stored.error, "since": stored.since, "failed_commits": stored.failed_commits,
             "dead_letters": {"rows": writer.dead_rows, "bytes": writer.dead_bytes, "dropped": writer.dead_dropped}}
    body = {"status": "ok" if pipeline_ok and broker_ok and sinks_ok and stored.ok else "degraded",
            "pipeline": "running" if pipeline_ok else "stopped",
            "broker": "connected" if broker_ok else "disconnected",
            "workshop": ctx.workshop, "version": __version__, "latched_types": sorted(LATCHED), "sinks": sinks, "store": store,
            "rate_limited": dict(ctx.metrics.rate_limited_by_station),
            "clock": {**ctx.clock_health(), "stations_not_set": await asyncio.to_thread(_stations_not_set, ctx)}}
    return JSONResponse(body, status_code=200 if pipeline_ok else 503)


def _stations_not_set(ctx: ApiContext) -> list[str]:
    """Stations whose newest status says their clock was never set (``clock_synced: false``): their events count
    at the gateway's receive time (docs/protocol.md, "Station clocks")."""
    out = []
    for row in _rows(ctx, "SELECT id, health FROM stations ORDER BY id"):
        try:
            health = strict_json.loads(row["health"])
        except ValueError:
            continue
        if isinstance(health, dict) and health.get("clock_synced") is False:
            out.append(row["id"])
    return out


async def setup(request: Request) -> Response:
    """The workshop's setup versions (hash and time; the newest whole) and the last accepted rules the cloud
    gave (docs/config.md, "The setup as evidence")."""
    ctx: ApiContext = request.app.state.ctx
    rows = await asyncio.to_thread(_rows, ctx, "SELECT version, at, hash, setup, queued FROM setup_versions "
                                               "ORDER BY version")
    accepted = await asyncio.to_thread(_rows, ctx, "SELECT value FROM meta WHERE key = 'accepted_setup'")
    current = rows[-1] if rows else None
    return JSONResponse({
        "current": None if current is None else {"version": current["version"], "at": current["at"],
                                                 "hash": current["hash"], "setup": strict_json.loads(current["setup"])},
        "versions": [{"version": r["version"], "at": r["at"], "hash": r["hash"], "queued": bool(r["queued"])}
                     for r in rows],
        "accepted": strict_json.loads(accepted[0]["value"]) if accepted else None})


async def metrics(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def build_app(ctx: ApiContext, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/api/tools", tools),
        Route("/api/unknown-tags", unknown_tags),
        Route("/api/setup", setup),
        Route("/api/alarms", alarms),
        Route("/api/alarms/{alarm_id:int}", alarm_detail),
        Route("/api/alarms/{alarm_id:int}/ack", ack, methods=["POST"]),
        Route("/api/alarms/{alarm_id:int}/clear", clear, methods=["POST"]),
        Route("/api/cycles", cycles),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *days_api.routes(),
        *stations_api.routes(),
        *secrets_api.routes(),
    ] + (extra_routes or [])
    app = Starlette(routes=routes, middleware=[Middleware(TokenAuth, ctx=ctx)])
    app.state.ctx = ctx
    return app
