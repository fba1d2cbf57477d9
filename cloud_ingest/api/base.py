"""What every JSON route of the API shares: the engine, limits and clock, and the three steps of a call.

``ApiBase.who`` authenticates the request's bearer token in the caller's
connection, ``ApiBase.read_json`` reads a strict JSON body (at most
``MAX_JSON_BODY``; ``read_raw`` any body within a bound, refused as soon as
it is over, before any token is read), ``ApiBase.call`` runs the database
work in the thread pool (SQLAlchemy is synchronous here) and answers JSON;
``ApiBase.write`` is the three together for a request that changes something. Route modules build
their handlers with ``reader`` (``fn(conn, who, request)`` in a read transaction), ``writer`` (the
caller authenticated before its JSON object is judged, then ``fn(conn, who, request, body)`` in one write
transaction) and ``binary`` (a file: a photo, a PDF). A ``CloudError`` becomes
its status and ``{"error": "中文 / English"}``; nothing else is caught, so a
defect is a 500 with a traceback in the log.

``http_api.Api`` and the route modules ``rectification`` and ``reports`` all
use this public base, never each other's private helpers.
"""

from __future__ import annotations

from typing import Any, Callable

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cloud_ingest.access.auth import Principal, authenticate, bearer
from cloud_ingest.config import Limits
from cloud_ingest.errors import BadRequest, CloudError, PayloadTooLarge
from cloud_ingest.store import db
from sebiao_common import strict_json
from sebiao_common.clock import now_ms
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

MAX_JSON_BODY = 64 * 1024  # admin and review requests


class ApiBase:
    def __init__(self, engine: Engine, limits: Limits, clock: Callable[[], int] = now_ms) -> None:
        self.engine, self.limits, self.clock = engine, limits, clock

    async def call(self, fn: Callable[[], Any], status: int = 200,
                   limiter: anyio.CapacityLimiter | None = None) -> JSONResponse:
        """``fn()`` in the thread pool (or in ``limiter``'s own threads), its result as JSON; a ``CloudError`` as
        its status and body."""
        try:
            result = await (anyio.to_thread.run_sync(fn, limiter=limiter) if limiter else run_in_threadpool(fn))
            return JSONResponse(result, status_code=status)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())

    def who(self, request: Request, conn: Connection) -> Principal:
        """The request's caller, by its bearer token (401 without a valid one)."""
        return authenticate(conn, bearer(request.headers.get("authorization")), now=self.clock())

    @staticmethod
    async def read_raw(request: Request, limit: int) -> bytes:
        """The request's body, or PayloadTooLarge (413) at once when it announces or streams more than ``limit``."""
        try:
            return await read_body(request, limit)
        except BodyTooLarge as exc:
            raise PayloadTooLarge("请求体过大", f"the body is over {exc.limit} bytes") from exc

    async def read_json(self, request: Request, limit: int = MAX_JSON_BODY) -> Any:
        """The request's JSON body (empty: ``{}``); PayloadTooLarge over ``limit`` (``MAX_JSON_BODY`` but where
        photos ride in it), BadRequest when it is not strict JSON."""
        raw = await self.read_raw(request, limit)
        try:
            return strict_json.loads(raw or b"{}")
        except strict_json.JsonError as exc:
            where = strict_json.json_path(exc.path)
            raise BadRequest(where, f"不是有效的 JSON：{exc.zh}", f"not valid JSON: {exc.en}") from exc

    async def write(self, request: Request, fn: Callable[[Connection, Any], Any], status: int = 200) -> JSONResponse:
        """The JSON body read, then ``fn(conn, body)`` in one write transaction, its result as JSON."""
        try:
            body = await self.read_json(request)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())

        def work() -> Any:
            with db.write(self.engine) as conn:
                return fn(conn, body)
        return await self.call(work, status)

    def reader(self, fn: Callable[[Connection, Principal, Request], Any]) -> Callable[[Request], Any]:
        """A GET handler: ``fn(conn, who, request)`` in a read transaction, its result as JSON."""
        async def handler(request: Request) -> JSONResponse:
            def work() -> Any:
                with db.read(self.engine) as conn:
                    return fn(conn, self.who(request, conn), request)
            return await self.call(work)
        return handler

    def writer(self, fn: Callable[[Connection, Principal, Request, dict], Any], status: int = 200,
               limit: int = MAX_JSON_BODY) -> Callable[[Request], Any]:
        """A handler that changes something: the JSON body read within ``limit``, then in one write transaction
        the caller authenticated (before its body is judged: an anonymous caller learns nothing), the body
        required to be an object, and ``fn(conn, who, request, body)``."""
        async def handler(request: Request) -> JSONResponse:
            try:
                body = await self.read_json(request, limit)
            except CloudError as exc:
                return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())

            def work() -> Any:
                with db.write(self.engine) as conn:
                    who = self.who(request, conn)
                    if not isinstance(body, dict):
                        raise BadRequest("", "请求体必须是 JSON 对象", "the body must be a JSON object")
                    return fn(conn, who, request, body)
            return await self.call(work, status)
        return handler

    async def binary(self, request: Request,
                     fn: Callable[[Connection, Principal], tuple[str, bytes, dict[str, str]]]) -> Response:
        """A file for the caller: ``fn(conn, who)`` gives its type, bytes and headers (a refusal as JSON)."""
        def work() -> tuple[str, bytes, dict[str, str]]:
            with db.read(self.engine) as conn:
                return fn(conn, self.who(request, conn))
        try:
            kind, data, headers = await run_in_threadpool(work)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
        return Response(data, media_type=kind, headers=headers)
