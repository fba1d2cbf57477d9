"""What the web part needs from the gateway, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.core.pipeline import Pipeline
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.web.auth import ConsoleAuth
from edge_gateway.web.live import LiveFeed
from edge_gateway.web.settings import DisplaySettings


@dataclass
class WebContext:
    config: WorkshopConfig
    settings: DisplaySettings
    pipeline: Pipeline
    auth: ConsoleAuth
    display_feed: LiveFeed
    console_feed: LiveFeed

    def notify(self, outcome: object = None) -> None:
        """The pipeline's listener: state changed, refresh both live views."""
        self.display_feed.notify(outcome)
        self.console_feed.notify(outcome)
