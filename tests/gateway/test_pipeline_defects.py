"""A defect met inside a command (``Pipeline.call``) no longer stops the pipeline.

The pipeline thread ran each command inside the batch's transaction and let
anything but a ``SebiaoError`` escape: the thread died ("the pipeline
stopped"), and no event after it was ever applied. Now the batch is rolled
back, the command's caller gets an error, and the batch runs again without it,
as a message that meets a defect does. Real store (SQLite) and a real pipeline
thread; the MQTT link is the only stand-in (it records what it is asked to send).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import example_config

from edge_gateway.core.engine import Engine
from edge_gateway.core.metrics import Metrics
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.store.writer import Store
from sebiao_common.errors import SebiaoError

NOW = 1_900_000_000_000


class RecordingLink:
    def __init__(self) -> None:
        self.published: list[str] = []

    def ack(self, mid: int, qos: int, generation: int | None = None) -> None:
        pass

    def ack_all(self, mids: list[int], generation: int) -> None:
        pass

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.published.append(topic)


def test_a_command_that_meets_a_defect_is_answered_and_the_pipeline_goes_on(tmp_path: Path) -> None:
    config = example_config()
    store = Store(tmp_path / "gateway.sqlite3")
    pipeline = Pipeline(Engine(config, store, NOW), RecordingLink(), Metrics(), config.workshop.id,
                        clock=lambda: NOW)
    pipeline.start()
    try:
        def half_done_then_broken(engine, now, out):  # type: ignore[no-untyped-def]
            engine.store.dead_letter(now, "sebiao/x/y/event", b"written before the defect", "probe", "")
            return {}["no such key"]

        broken = pipeline.call(half_done_then_broken)
        fine = pipeline.call(lambda engine, now, out: "answered")
        with pytest.raises(SebiaoError, match="internal error: KeyError"):
            broken.result(timeout=10)
        assert fine.result(timeout=10) == "answered"  # the same batch, run again without the broken one
        assert pipeline.call(lambda engine, now, out: now).result(timeout=10) == NOW  # and the next batch
        assert store.conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0  # rolled back
    finally:
        pipeline.stop()
