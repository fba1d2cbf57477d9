"""What the web part needs from the gateway, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from edge_gateway.core.pipeline import Pipeline
from edge_gateway.model.enrolment import Request
from edge_gateway.model.workshop import Tool, WorkshopConfig
from edge_gateway.store.writer import Store
from edge_gateway.web.auth import ConsoleAuth
from edge_gateway.web.live import LiveFeed
from edge_gateway.web.server import HttpRefusals
from edge_gateway.web.settings import DisplaySettings
from sebiao_common.clock import Clock


class HostOptions(Protocol):
    @property
    def data_dir(self) -> Path: ...  # the console's session key is kept there

    @property
    def clock(self) -> Clock: ...  # the gateway's clock (the demo's day in the demo)


class WebHost(Protocol):
    """The started gateway the web part is attached to (``attach_web``)."""

    @property
    def config(self) -> WorkshopConfig: ...

    @property
    def store(self) -> Store: ...

    @property
    def pipeline(self) -> Pipeline: ...

    @property
    def options(self) -> HostOptions: ...

    @property
    def refusals(self) -> HttpRefusals: ...  # counts what the web server turns away (/metrics)

    def clock_health(self) -> Mapping[str, object]: ...  # the gateway's own clock and its SNTP server (/healthz)
    def enrol_tools(self, requests: list[Request]) -> list[Tool]: ...  # into the config file, as sebiao enroll


@dataclass(frozen=True, kw_only=True)
class WebContext:
    config: WorkshopConfig
    settings: DisplaySettings
    pipeline: Pipeline
    auth: ConsoleAuth
    display_feed: LiveFeed
    console_feed: LiveFeed
    enrol: Callable[[list[Request]], list[Tool]]  # new tags into the config file (WebHost.enrol_tools)
    qr: Callable[[], Mapping[str, object]] = lambda: {"source": "lan", "url": None}  # DisplayData.qr

    def notify(self, outcome: object = None) -> None:
        """The pipeline's listener: state changed, refresh both live views."""
        self.display_feed.notify(outcome)
        self.console_feed.notify(outcome)
