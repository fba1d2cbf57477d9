"""The fleet over HTTP (``docs/http-api.md``, "Fleet"; ``docs/fleet.md``).

``/api/fleet/...`` is part of the HTTP API (``web/api.py`` builds the app, these are its extra routes): the same
bearer token, a POST always needing it. ``routes(fleet)``:

- ``POST /api/fleet/releases``: a release, as ``{"manifest","signature","files":{path: data}}`` (base64), at most
  ``MAX_UPLOAD`` bytes (read through ``read_body``); verified with ``fleet.release_key`` before it is kept;
- ``POST /api/fleet/jobs``: ``{"release", "stations"?, "wave_size"?}`` starts a job; ``GET /api/fleet/jobs/current``
  (the newest), ``GET /api/fleet/jobs/{id}``, ``POST /api/fleet/jobs/current/stop``;
- ``GET /api/fleet/stations``: each station's version, update state, online and buffer.

``Downloads`` wraps the whole app: ``GET /fw/{token}/{name}`` is answered before the token middleware and the
Host check (a station has neither; the token in the path is its capability), from the release held in memory,
for a valid token only, else 404; never a path of the disk.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from edge_gateway.fleet import jobs
from edge_gateway.fleet.release import ReleaseError
from edge_gateway.fleet.service import Fleet, Refused, public_job
from edge_gateway.fleet.waves import Job
from edge_gateway.store.writer import connect
from sebiao_common import strict_json
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

MAX_UPLOAD = 1024 * 1024  # a release holds at most 512 KiB of files: base64 and the manifest fit in 1 MiB
MAX_BODY = 16 * 1024
ANSWER_SECONDS = 10
PREFIX = "/fw/"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message[:1000]}, status_code=status)


async def _json(request: Request, limit: int) -> dict[str, object]:
    try:
        body = strict_json.loads((await read_body(request, limit)).decode("utf-8"))
    except BodyTooLarge:
        raise Refused(413, f"请求超过 {limit} 字节", f"the body is over {limit} bytes") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, "请求不是 JSON", f"the body is not JSON: {exc}"[:300]) from None
    if not isinstance(body, dict):
        raise Refused(400, "请求须为 JSON 对象", "the body must be a JSON object")
    return body


def _b64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise Refused(400, f"{name} 须为 base64 文本", f"{name} must be a base64 string"[:300])
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(400, f"{name} 不是 base64", f"{name} is not base64"[:300]) from None


def _rows(request: Request, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    conn = connect(request.app.state.ctx.db_path, readonly=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def _on_pipeline(request: Request, action):
    future = request.app.state.ctx.pipeline.call(action)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_SECONDS)
    except TimeoutError:
        raise Refused(504, f"网关未在 {ANSWER_SECONDS} 秒内处理", f"the gateway did not answer within "
                                                            f"{ANSWER_SECONDS} s") from None


def routes(fleet: Fleet) -> list[BaseRoute]:
    def refusals(handler):
        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as refused:
                return _error(refused.status, str(refused))
            except ReleaseError as bad:
                return _error(422, str(bad))
        return answer

    async def upload(request: Request) -> Response:
        body = await _json(request, MAX_UPLOAD)
        files = body.get("files")
        if not isinstance(files, dict):
            raise Refused(400, "files 须为对象 {路径: base64}", "files must be an object {path: base64}")
        parts = {str(path): _b64(data, f"files[{path!r}]") for path, data in files.items()}
        manifest, signature = _b64(body.get("manifest"), "manifest"), _b64(body.get("signature"), "signature")
        release = await asyncio.to_thread(fleet.take, manifest, signature, parts)
        return JSONResponse({"release": release.id, "version": release.version, "files": len(release.files)},
                            status_code=201)

    async def start(request: Request) -> Response:
        body = await _json(request, MAX_BODY)
        config = request.app.state.ctx.config
        release_id, stations, wave = body.get("release"), body.get("stations"), body.get("wave_size")
        if not isinstance(release_id, str):
            raise Refused(400, "release 须为发布包编号", "release must be a release id (from the upload)")
        if stations is not None and (not isinstance(stations, list) or not all(isinstance(s, str) for s in stations)):
            raise Refused(400, "stations 须为读卡站编号列表", "stations must be a list of station ids")
        unknown = [s for s in stations or () if config.station(s) is None]
        if unknown:
            raise Refused(400, f"读卡站 {unknown[0]!r} 不在配置中", f"station {unknown[0]!r} is not a station of "
                                                            f"workshop {config.workshop.id}"[:300])
        if wave is not None and (isinstance(wave, bool) or not isinstance(wave, int) or not 1 <= wave <= 50):
            raise Refused(400, "wave_size 须为 1..50", "wave_size must be 1 .. 50")
        served = await asyncio.to_thread(fleet.prepared, release_id)
        job = await _on_pipeline(request, lambda engine, now, out: fleet.start(
            served, tuple(stations or ()), wave, engine, now, out))
        return JSONResponse(public_job(job), status_code=201)

    async def current(request: Request) -> Response:
        job = fleet.job
        return JSONResponse({"job": public_job(job) if job is not None else None})

    async def one(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        if job_id > 2**63 - 1:
            raise Refused(404, f"没有任务 {job_id}", f"no job {job_id}")

        def read() -> Job | None:
            conn = connect(request.app.state.ctx.db_path, readonly=True)
            try:
                return jobs.by_id(conn, job_id)
            finally:
                conn.close()

        job = await asyncio.to_thread(read)
        if job is None:
            raise Refused(404, f"没有任务 {job_id}", f"no job {job_id}")
        return JSONResponse(public_job(job))

    async def stop(request: Request) -> Response:
        job = await _on_pipeline(request, lambda engine, now, out: fleet.stop(now))
        return JSONResponse(public_job(job))

    async def stations(request: Request) -> Response:
        ctx = request.app.state.ctx
        rows = {r["id"]: r for r in await asyncio.to_thread(_rows, request, "SELECT * FROM stations")}
        job = fleet.job
        out = []
        for station in ctx.config.stations:
            row = rows.get(station.id)
            try:
                health = strict_json.loads(row["health"]) if row else {}
            except ValueError:
                health = {}
            health = health if isinstance(health, dict) else {}
            target = job.target(station.id) if job is not None else None
            out.append({"id": station.id, "name": station.name, "online": bool(row["online"]) if row else False,
                        "buffer_depth": row["buffer_depth"] if row else None,
                        "fw": health.get("fw") if isinstance(health.get("fw"), str) else None,
                        "settings": health.get("settings") if isinstance(health.get("settings"), str) else None,
                        "update": health.get("update") if isinstance(health.get("update"), dict) else None,
                        "job": None if target is None or job is None else {
                            "id": job.id, "state": target.state, "progress": target.progress, "error": target.error}})
        return JSONResponse(out)

    return [
        Route("/api/fleet/releases", refusals(upload), methods=["POST"]),
        Route("/api/fleet/jobs", refusals(start), methods=["POST"]),
        Route("/api/fleet/jobs/current", refusals(current)),
        Route("/api/fleet/jobs/current/stop", refusals(stop), methods=["POST"]),
        Route("/api/fleet/jobs/{job_id:int}", refusals(one)),
        Route("/api/fleet/stations", refusals(stations)),
    ]


class Downloads:
    """``/fw/{token}/{name}`` for the stations, in front of the rest of the app (which sees every other path)."""

    def __init__(self, app: ASGIApp, fleet: Fleet) -> None:
        self.app, self.fleet = app, fleet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        token, _, name = scope["path"][len(PREFIX):].partition("/")
        found = self.fleet.download(token, name) if scope["method"] in ("GET", "HEAD") else None
        if found is None:
            response = Response(b"not found\n", status_code=404, media_type="text/plain")
        else:
            data, kind = found
            response = Response(data if scope["method"] == "GET" else b"", media_type=kind,
                                headers={"content-length": str(len(data)), "cache-control": "no-store"})
        await response(scope, receive, send)
