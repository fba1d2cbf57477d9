"""The web part of the gateway: the 透明作坊 live display and the owner's console.

``attach_web(gateway, api_app)`` is the whole hook: it builds the live feeds,
registers them as a pipeline listener and returns an ASGI app serving the web
pages beside the unchanged HTTP API. Contract in ``docs/display.md``.

Modules: ``api`` (the HTTP API), ``days_api`` (the owner's day and training records in it), ``stations_api`` (the stations and
their LED and buzzer test, for the commissioning check), ``secrets_api`` (a station's new Wi-Fi or broker
password), ``alarm_actions`` (acknowledge and clear, for
the API and the console), ``settings`` (the ``display:`` section), ``live``
(the SSE feeds), ``display_data``/``console_data`` and ``snapshot_json`` (the
snapshots and their JSON), ``auth`` (the console login), ``display_routes``/
``console_routes``/``pages``/``qr``/``app``/``context`` (the pages and their
app), ``hosts`` (the ``Host`` check) and ``server`` (uvicorn with per-client
connection caps and request deadlines).

It may import ``core``, ``store``, ``model``, ``errors`` and ``sebiao_common``.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from edge_gateway.store.console_sessions import ConsoleSessions
from edge_gateway.store.reads import StoreReader
from edge_gateway.web.app import Dispatch, build_web_app
from edge_gateway.web.auth import ConsoleAuth, session_key
from edge_gateway.web.console_data import ConsoleData
from edge_gateway.web.context import WebContext, WebHost
from edge_gateway.web.display_data import DisplayData
from edge_gateway.web.live import LiveFeed
from edge_gateway.web.settings import display_settings

DISPLAY_REFRESH = 30.0  # seconds: the day, "days since" and station counts move without events
CONSOLE_REFRESH = 5.0  # seconds: station health and "last seen"


def attach_web(gateway: WebHost, api_app: ASGIApp) -> ASGIApp:
    """Wire the display and the console into a started gateway; returns the app to serve."""
    config, clock = gateway.config, gateway.options.clock  # the gateway's clock: the demo's day in the demo
    settings = display_settings(config)
    display = DisplayData(StoreReader(gateway.store.path), config, settings, clock=clock)
    console = ConsoleData(StoreReader(gateway.store.path), config, settings, clock=clock,
                          gateway_clock=gateway.clock_health)
    key = session_key(gateway.options.data_dir)
    web = WebContext(
        config=config, settings=settings, pipeline=gateway.pipeline,
        auth=ConsoleAuth(settings.console_password or config.http.token, key, clock=clock,
                         sessions=ConsoleSessions(gateway.store.path)),
        display_feed=LiveFeed("display", display.snapshot, DISPLAY_REFRESH, clock=clock, refusals=gateway.refusals),
        console_feed=LiveFeed("console", console.snapshot, CONSOLE_REFRESH, clock=clock, refusals=gateway.refusals),
        enrol=gateway.enrol_tools, qr=display.qr,
    )
    gateway.pipeline.listeners.append(web.notify)
    return Dispatch(api_app, build_web_app(web, key))
