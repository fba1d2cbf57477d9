"""The cloud ASGI app: migrate, make sure the bootstrap admin exists, serve the API."""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Engine
from starlette.applications import Starlette

from . import admin, db, migrate
from .config import CloudConfig
from .http_api import Api, now_ms


def prepare(engine: Engine, config: CloudConfig, clock: Callable[[], int] = now_ms) -> str:
    """Brings the schema to the newest revision and creates the bootstrap admin; returns the revision."""
    revision = migrate.upgrade(engine)
    if config.bootstrap_admin is not None:
        with db.write(engine) as conn:
            admin.ensure_admin(conn, config.bootstrap_admin, clock())
    return revision


def build_app(engine: Engine, config: CloudConfig, clock: Callable[[], int] = now_ms) -> Starlette:
    """The app over a prepared database. ``config.influx`` is the hook of the central InfluxDB
    (a later session adds its outbox sink here); ``config.session_secret`` signs the pages' sessions."""
    app = Starlette(routes=Api(engine, config.limits, clock).routes())
    app.state.config = config
    app.state.engine = engine
    return app
