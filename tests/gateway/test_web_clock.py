"""The web part keeps the gateway's time: the display, the console and their live feeds read
the clock ``attach_web`` is handed (the demo's compressed day in ``sebiao demo``), never the wall."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from servers import example_config
from starlette.applications import Starlette
from starlette.testclient import TestClient

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.core.metrics import Metrics
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store.writer import Store
from edge_gateway.web import attach_web
from edge_gateway.web.server import HttpRefusals
from sebiao_common.clock import Clock

DAY = datetime(2031, 5, 6, 10, 30).astimezone()  # far from the wall clock: a wall-clock read shows at once
NOW = int(DAY.timestamp() * 1000)
DAY_MS = 24 * 3600 * 1000
MIDNIGHT = int(DAY.replace(hour=0, minute=0).timestamp() * 1000)


@dataclass
class Options:
    data_dir: Path
    clock: Clock


@dataclass
class Host:
    config: WorkshopConfig
    store: Store
    pipeline: Pipeline
    options: Options
    refusals: HttpRefusals = field(default_factory=lambda: HttpRefusals(CollectorRegistry()))

    def enrol_tools(self, requests: list) -> list:
        raise AssertionError("nothing to enrol")

    def clock_health(self) -> dict:
        return {}  # no time server in this host: the console says the gateway's clock state is unknown


class NoBroker:
    def ack(self, mid: int, qos: int, generation: int | None = None) -> None:
        raise AssertionError("nothing to acknowledge")

    def ack_all(self, mids: list[int], generation: int) -> None:
        raise AssertionError("nothing to acknowledge")

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        raise AssertionError("nothing to publish")


def _clock() -> int:
    return NOW


def test_the_display_and_the_console_take_the_gateway_clock(tmp_path: Path) -> None:
    config = example_config()
    store = Store(tmp_path / "gateway.sqlite3")
    first, *others = config.tools
    with store.transaction():  # one tool's label last read ten days before the gateway's now
        store.save_tool(ToolState(tool=first.id, color=first.color, last_seen=NOW - 10 * DAY_MS))
    engine = Engine(config, store, NOW)
    pipeline = Pipeline(engine, NoBroker(), Metrics(), config.workshop.id, clock=_clock)  # never started
    try:
        app = attach_web(Host(config, store, pipeline, Options(tmp_path, _clock)), Starlette())  # no API routes here
        assert len(pipeline.listeners) == 1
        pipeline.listeners[0](Outcome())  # no loop yet: a change before the first page is a no-op
        with TestClient(app) as client:
            assert client.get("/display/data.json").json()["day_start"] == MIDNIGHT
            assert client.post("/console/login", data={"password": config.http.token},
                               follow_redirects=False).status_code == 303
            stale = {s["tool"]: s["days"] for s in client.get("/console/api/state").json()["labels"]["stale"]}
            assert stale == {first.id: 10} | {tool.id: None for tool in others}
    finally:
        store.close()
