"""``sebiao notify test``: one test message to each configured channel, with the answer of each."""

from __future__ import annotations

from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.sinks.notify.config import NotifySettings
from edge_gateway.sinks.notify.notice import Notices
from sebiao_common.clock import Clock
from sebiao_common.http_answers import sink_pool
from sebiao_common.notify.send import Result, post


def send_tests(config: WorkshopConfig, settings: NotifySettings, *, clock: Clock,
               only: str | None = None) -> list[tuple[str, Result]]:
    notices = Notices(config, settings.console_url, settings.timezone)
    http = sink_pool(settings.timeout_seconds)
    try:
        return [(c.name, post(http, c, notices.test(c.name, clock()), clock()))
                for c in settings.channels if only is None or c.name == only]
    finally:
        http.clear()
