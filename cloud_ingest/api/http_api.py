"""The HTTP layer: Starlette routes that parse the request, call one function, answer JSON.

``Api.routes`` gives every route of ``/api/v1`` and ``/healthz``: ingest,
the alarm queue, admin and login here, with those of ``rectification``,
``grades``, ``reports``, ``setups`` and ``workshops``. The steps every route shares are ``base.ApiBase``'s: database
work runs in the thread pool (SQLAlchemy is synchronous here); a
``CloudError`` becomes its status and ``{"error": "中文 / English"}``;
nothing else is caught, so a defect is a 500 with a traceback in the log.
"""

from __future__ import annotations

from time import monotonic
from typing import Any, Callable

import anyio
from sqlalchemy import Connection, Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}, which the routes below name
from cloud_ingest.access import admin
from cloud_ingest.access.auth import GatewayGate, bearer
from cloud_ingest.access.login import Logins
from cloud_ingest.api import grades as http_grades
from cloud_ingest.api import inspections as http_inspections
from cloud_ingest.api import ledger as http_ledger
from cloud_ingest.api import rectification as http_rectification
from cloud_ingest.api import reports as http_reports
from cloud_ingest.api import setups as http_setups
from cloud_ingest.api import workshops as http_workshops
from cloud_ingest.api.base import ApiBase
from cloud_ingest.config import Limits
from cloud_ingest.errors import BadRequest, CloudError, Unauthorized
from cloud_ingest.influx.outbox import health as influx_health
from cloud_ingest.ingest.storing import Signed, store_batch
from cloud_ingest.notify.worker import health as notify_health
from cloud_ingest.review import review
from cloud_ingest.store import db
from cloud_ingest.store.anchor import Signer
from cloud_ingest.store.sequencer import Sequencer
from cloud_ingest.wire.batch import inflate, parse_batch
from sebiao_common import batch_signature
from sebiao_common.clock import now_ms
from sebiao_common.http_answers import ALARM_HEADER
from sebiao_common.proxies import client_address

# The ingest's threads. Few: a batch's Python work holds the GIL, and with 40 threads at it (anyio's default) a
# batch that carries an alarm waited its turn behind all of them even in a lane of its own. The batches wait for
# a thread as coroutines instead (the wait that back-pressure measures); the other routes keep anyio's pool.
INGEST_THREADS = 8
ALARM_LANE_THREADS = 4  # batches that carry an alarm: a few a second in a province, never behind the queue


class Api(ApiBase):
    def __init__(self, engine: Engine, limits: Limits, clock: Callable[[], int] = now_ms, *,
                 logins: Logins | None = None, status: Callable[[], dict] | None = None,
                 signer: Signer | None = None) -> None:
        """``logins``: the password check and brake, shared with the pages' login (``build_app``);
        ``status``: more of /healthz (the evidence checkpoints' signer, when configured);
        ``signer``: the key that signs the grade statements (``evidence.signing_key``), when configured."""
        super().__init__(engine, limits, clock)
        self.signer = signer
        self.gate = GatewayGate()
        self.sequencer = Sequencer(engine)  # this worker's evidence chain steps, one round for many batches
        self._lanes: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None  # (batches, with an alarm)
        self.logins = logins or Logins()
        self.status = status

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/ingest", self.ingest, methods=["POST"]),
            Route("/api/v1/login", self.login, methods=["POST"]),
            Route("/api/v1/workshops", self.workshops, methods=["GET"]),
            Route("/api/v1/alarms", self.alarms, methods=["GET"]),
            Route("/api/v1/alarms/{id:rowid}", self.alarm, methods=["GET"]),
            Route("/api/v1/alarms/{id:rowid}/ack", self.ack, methods=["POST"]),
            Route("/api/v1/alarms/{id:rowid}/clear", self.clear, methods=["POST"]),
            Route("/api/v1/admin/districts", self.create_district, methods=["POST"]),
            Route("/api/v1/admin/workshops", self.create_workshop, methods=["POST"]),
            Route("/api/v1/logout", self.logout, methods=["POST"]),
            Route("/api/v1/admin/users", self.create_user, methods=["POST"]),
            Route("/api/v1/admin/users", self.list_users, methods=["GET"]),
            Route("/api/v1/admin/users/{id:rowid}/disable", self.disable_user, methods=["POST"]),
            Route("/api/v1/admin/users/{id:rowid}/enable", self.enable_user, methods=["POST"]),
            Route("/api/v1/admin/tokens", self.issue_token, methods=["POST"]),
            Route("/api/v1/admin/tokens", self.list_tokens, methods=["GET"]),
            Route("/api/v1/admin/tokens/{id:rowid}/revoke", self.revoke_token, methods=["POST"]),
            Route("/api/v1/admin/tokens/{id:rowid}/key", self.set_gateway_key, methods=["POST"]),
            *http_rectification.routes(self),
            *http_grades.routes(self, self.signer),
            *http_reports.routes(self),
            *http_setups.routes(self),
            *http_workshops.routes(self),
            *http_ledger.routes(self),
            *http_inspections.routes(self),
            Route("/healthz", self.health, methods=["GET"]),
        ]

    # -- ingest ---------------------------------------------------------------------

    async def ingest(self, request: Request) -> JSONResponse:
        arrived = monotonic()
        try:  # before the token is checked: refused as soon as it is over max_body_bytes, never kept whole
            raw = await self.read_raw(request, self.limits.max_body_bytes)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        encoding = request.headers.get("content-encoding")
        signature = request.headers.get(batch_signature.HEADER)  # checked in the storing transaction

        def work() -> dict:
            busy = self._busy(arrived)  # how long it waited for a free thread: the requests queued ahead of it
            # a cheap first check so that nobody unknown makes us inflate and parse (GatewayGate); the one
            # that decides, the token held, is in the transaction that stores: a revocation in between wins
            secret = bearer(request.headers.get("authorization"))
            self.gate.check(self.engine, secret, self.clock())
            batch = parse_batch(inflate(raw, encoding, self.limits), self.limits)
            signed = Signed(header=signature, body=raw)
            try:
                answer = store_batch(self.engine, batch, secret, self.clock(), signed, self.sequencer.chained).json()
            except Unauthorized:
                self.gate.forget(secret)  # revoked or expired meanwhile: not parsed again on the gate's word
                raise
            return {**answer, **busy}
        if self._lanes is None:  # made in the event loop, on first use
            self._lanes = (anyio.CapacityLimiter(INGEST_THREADS), anyio.CapacityLimiter(ALARM_LANE_THREADS))
        # a batch that carries an alarm: its own threads, ahead of the queue of the others
        return await self.call(work, limiter=self._lanes[request.headers.get(ALARM_HEADER) == "1"])

    def _busy(self, arrived: float) -> dict:
        """Back-pressure: a batch that waited behind others for a thread asks its gateway to send less often (the
        push worker lingers ``linger_seconds``; alarms still go at once). Absent when the cloud keeps up."""
        late = (monotonic() - arrived) * 1000 > self.limits.busy_wait_ms
        return {"linger_seconds": self.limits.busy_linger_seconds} if late and self.limits.busy_linger_seconds else {}

    # -- review ---------------------------------------------------------------------

    async def workshops(self, request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(self.engine) as conn:
                return review.list_workshops(conn, self.who(request, conn), self.clock())
        return await self.call(work)

    async def alarms(self, request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(self.engine) as conn:
                who = self.who(request, conn)
                return review.list_alarms(conn, who, review.AlarmFilter.from_query(request.query_params))
        return await self.call(work)

    async def alarm(self, request: Request) -> JSONResponse:
        def work() -> dict:
            with db.read(self.engine) as conn:
                return review.get_alarm(conn, self.who(request, conn), request.path_params["id"])
        return await self.call(work)

    async def ack(self, request: Request) -> JSONResponse:
        return await self._review(request, review.acknowledge)

    async def clear(self, request: Request) -> JSONResponse:
        return await self._review(request, review.clear)

    async def _review(self, request: Request, step: Callable[..., dict]) -> JSONResponse:
        def work(conn: Connection, body: Any) -> dict:
            note = body.get("note") if isinstance(body, dict) else None
            if note is not None and not isinstance(note, str):
                raise BadRequest("note", "必须是字符串", "must be a string")
            return step(conn, self.who(request, conn), request.path_params["id"], note or None, self.clock())
        return await self.write(request, work)

    # -- admin ----------------------------------------------------------------------

    async def _admin(self, request: Request, fn: Callable[..., dict], *args: Any, status: int = 201) -> JSONResponse:
        return await self.write(request, lambda conn, body: fn(conn, self.who(request, conn), body, *args), status)

    async def create_district(self, request: Request) -> JSONResponse:
        return await self._admin(request, admin.create_district)

    async def create_workshop(self, request: Request) -> JSONResponse:
        return await self._admin(request, admin.create_workshop, self.clock())

    async def create_user(self, request: Request) -> JSONResponse:
        return await self._admin(request, admin.create_user, self.clock())

    async def issue_token(self, request: Request) -> JSONResponse:
        return await self._admin(request, admin.issue_token, self.clock())

    async def revoke_token(self, request: Request) -> JSONResponse:
        return await self._by_id(request, admin.revoke_token)

    async def set_gateway_key(self, request: Request) -> JSONResponse:
        return await self.write(request, lambda conn, body: admin.set_gateway_key(
            conn, self.who(request, conn), request.path_params["id"], body, self.clock()))

    async def disable_user(self, request: Request) -> JSONResponse:
        return await self._by_id(request, admin.disable_user)

    async def enable_user(self, request: Request) -> JSONResponse:
        return await self._by_id(request, admin.enable_user)

    async def _by_id(self, request: Request, fn: Callable[..., dict]) -> JSONResponse:
        def work() -> dict:
            with db.write(self.engine) as conn:
                return fn(conn, self.who(request, conn), request.path_params["id"], self.clock())
        return await self.call(work)

    async def list_users(self, request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(self.engine) as conn:
                return admin.list_users(conn, self.who(request, conn), request.query_params)
        return await self.call(work)

    async def list_tokens(self, request: Request) -> JSONResponse:
        def work() -> list:
            with db.read(self.engine) as conn:
                return admin.list_tokens(conn, self.who(request, conn), request.query_params, self.clock())
        return await self.call(work)

    async def logout(self, request: Request) -> JSONResponse:
        def work() -> dict:
            with db.write(self.engine) as conn:
                return admin.revoke_own_token(conn, self.who(request, conn), self.clock())
        return await self.call(work)

    async def login(self, request: Request) -> JSONResponse:
        try:
            body = await self.read_json(request)
        except CloudError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        client = client_address(request)

        def work() -> dict:
            username, password = admin.login_fields(body)
            with db.read(self.engine) as conn:  # argon2 outside the write transaction: it takes a while
                found = self.logins.check(conn, client, username, password)
            with db.write(self.engine) as conn:
                return admin.login_token(conn, found.user_id, self.clock())
        return await self.call(work, 201)

    async def health(self, request: Request) -> JSONResponse:
        worker = getattr(request.app.state, "notify_worker", None)
        return await self.call(lambda: {"ok": True, **influx_health(self.engine, self.clock()),
                                        **notify_health(self.engine, worker, self.clock()),
                                        **(self.status() if self.status else {})})
