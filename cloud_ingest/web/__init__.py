"""The cloud's web pages for inspectors, admins and workshop owners (server-rendered HTML, no script).

``page_routes`` gives the routes that ``cloud_ingest.app.build_app`` serves
beside the JSON API: login and logout, workshops, the alarm queue, one alarm
with its evidence timeline and review forms, rectification and reports.
Sessions are signed cookies (``session.py``); the pages call the same
functions as the API with the session user's ``Principal``.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Engine
from starlette.routing import BaseRoute

from cloud_ingest.config import CloudConfig


def page_routes(engine: Engine, config: CloudConfig, clock: Callable[[], int]) -> list[BaseRoute]:
    from cloud_ingest.web.routes import Pages
    return Pages(engine, config, clock).routes()
