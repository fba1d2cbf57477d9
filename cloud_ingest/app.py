"""The cloud ASGI app: migrate, make sure the bootstrap admin exists, serve the API.

With ``evidence:`` in the config the app also signs the evidence chain's head
(``store/anchor.py``): the key is read when the app is built (a missing or
unprotected key stops the start), the signing thread runs in the lifespan.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from cloud_ingest.access import admin
from cloud_ingest.access.login import Logins
from cloud_ingest.api import freshness as http_freshness
from cloud_ingest.api import overview as http_overview
from cloud_ingest.api import public_page as http_public_page
from cloud_ingest.api.http_api import Api
from cloud_ingest.config import CloudConfig
from cloud_ingest.errors import StorageError
from cloud_ingest.gauges import queue_overview
from cloud_ingest.influx import outbox as influx_outbox
from cloud_ingest.influx.drain import start_drain
from cloud_ingest.notify import outbox as notify_outbox
from cloud_ingest.notify.worker import start_worker as start_notify
from cloud_ingest.public.routes import PublicPageRoutes
from cloud_ingest.review.silence import Watcher
from cloud_ingest.store import anchor, db, migrate, sequencer
from cloud_ingest.web.routes import page_routes
from sebiao_common.clock import now_ms
from sebiao_common.proxies import proxy_middleware


def prepare(engine: Engine, config: CloudConfig, clock: Callable[[], int] = now_ms) -> str:
    """Brings the schema to the newest revision and creates the bootstrap admin; returns the revision."""
    revision = migrate.upgrade(engine, clock=clock)
    if config.bootstrap_admin is not None:
        with db.write(engine) as conn:
            admin.ensure_admin(conn, config.bootstrap_admin, clock())
    return revision


def build_app(engine: Engine, config: CloudConfig, clock: Callable[[], int] = now_ms) -> Starlette:
    """The app over a prepared database. With ``config.influx`` the ingest also queues the points of the
    central InfluxDB and the lifespan runs this process's drain worker (``influx/drain.py``);
    ``config.session_secret`` signs the pages' sessions; only ``config.trusted_proxies`` may name the
    client in ``X-Forwarded-For`` (the login brake counts clients by address)."""
    engine = influx_outbox.enabled_engine(engine) if config.influx is not None else engine
    engine = notify_outbox.enabled_engine(engine, config.notify) if config.notify is not None else engine
    logins = Logins()  # one brake for the JSON login and the pages' login
    checkpointer = anchor.Checkpointer(engine, config, clock) if config.evidence is not None else None
    api = Api(engine, config.limits, clock, logins=logins, status=checkpointer.health if checkpointer else None,
              signer=checkpointer.signer if checkpointer else None)  # one key: checkpoints and grade statements
    pages = PublicPageRoutes(engine, config.public_pages, clock)  # the workshops' public pages (docs/public-page.md)
    public = http_public_page.routes(api, config.public_pages.base_url, rotated=pages.cache.clear) + pages.routes()
    public += http_freshness.routes(api, config.freshness)  # 最后上报 / 数据中断 (docs/cloud-ingest.md)
    public += http_overview.routes(api, config.freshness)  # 辖区总览
    app = Starlette(routes=api.routes() + public + page_routes(engine, config, clock, logins),
                    middleware=proxy_middleware(config.trusted_proxies))
    gauges = (lambda now: queue_overview(engine, now, config.freshness)) if config.influx is not None else None
    app.router.lifespan_context = _lifespan(engine, config, checkpointer, clock,
                                            Watcher(engine, config.freshness, clock, gauges), api.sequencer)
    app.state.notify_worker = None
    app.state.config = config
    app.state.engine = engine
    return app


def _lifespan(engine: Engine, config: CloudConfig, checkpointer: anchor.Checkpointer | None,  # type: ignore[no-untyped-def]
              clock: Callable[[], int], silence: Watcher, chains: sequencer.Sequencer):
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:  # entries a stopped worker staged and left unchained (store/sequencer.py); else the next batch's step
            await run_in_threadpool(sequencer.chain, engine)
        except StorageError:
            pass
        drain = start_drain(engine, config.influx)
        app.state.influx_drain = drain
        notifier = start_notify(engine, config.notify, clock)  # the district offices' messages (docs/notify.md)
        app.state.notify_worker = notifier
        if checkpointer is not None:
            checkpointer.start()
        silence.start()  # 数据中断: every worker sweeps; the outages' unique key opens each once
        try:
            yield
        finally:
            chains.stop()
            silence.stop()
            if drain is not None:
                drain.stop()
            if notifier is not None:
                notifier.stop()
            if checkpointer is not None:
                checkpointer.stop()
    return lifespan
