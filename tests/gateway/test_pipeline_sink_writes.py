"""A sink worker's writes run in the pipeline's batches (``Pipeline.write``, ``store/worker_db.py``), and a
reader that outpaces the pipeline waits for it instead of filling memory (``Pipeline.submit``).

A worker that held SQLite's write lock itself stalled the intake whenever the
worker was preempted with the lock in hand (the pipeline's busy wait then
sleeps 1, 2, 5, 10… ms). Now the pipeline is the only writer. Real store
(SQLite), real pipeline thread, real outbox connection; the MQTT link only
records.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from servers import example_config

from edge_gateway.core.engine import Engine
from edge_gateway.core.metrics import Metrics
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.errors import StoreError
from edge_gateway.sinks.influx.outbox import InfluxOutbox
from edge_gateway.store.worker_db import SOON_MAX_ROWS
from edge_gateway.store.writer import Store

NOW = 1_900_000_000_000


class Link:
    def ack(self, mid: int, qos: int, generation: int | None = None) -> None:
        pass

    def ack_all(self, mids: list[int], generation: int) -> None:
        pass

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        pass


@pytest.fixture
def rig(tmp_path: Path):
    store = Store(tmp_path / "gateway.sqlite3")
    pipeline = Pipeline(Engine(example_config(), store, NOW), Link(), Metrics(), "ws-demo", clock=lambda: NOW)
    with store.transaction():
        for n in range(10):
            store.outbox_add(False, NOW, f"m v={n}i")
    outbox = InfluxOutbox(store.path)
    outbox.writer = pipeline.write
    yield store, pipeline, outbox
    pipeline.stop()
    outbox.close()


def _ids(store: Store, table: str) -> list[int]:
    return [r[0] for r in store.conn.execute(f"SELECT id FROM {table} ORDER BY id")]


def test_the_workers_writes_wait_for_the_pipeline_and_never_take_the_lock(rig) -> None:
    store, pipeline, outbox = rig
    done = threading.Event()
    threading.Thread(target=lambda: (outbox.delete(1, 4), done.set()), daemon=True).start()
    # The pipeline is not running yet: the delete waits in its inbox, and meanwhile the worker holds no
    # lock: the writer's own transaction goes through at once.
    assert not done.wait(0.3)
    with store.transaction():
        store.conn.execute("INSERT INTO outbox (created, keep, line) VALUES (?, 1, 'alarm v=1i')", (NOW,))
    pipeline.start()
    assert done.wait(10)
    assert _ids(store, "outbox") == [5, 6, 7, 8, 9, 10, 11]


def test_a_failing_write_is_all_undone_and_answered_and_the_pipeline_goes_on(rig) -> None:
    store, pipeline, outbox = rig
    pipeline.start()
    with pytest.raises(StoreError, match="no such table"):
        outbox._write([("DELETE FROM outbox WHERE id = 1", ()), ("DELETE FROM no_such_table", ())])
    assert _ids(store, "outbox")[0] == 1  # the first statement was undone with the second
    outbox.dead_letter([2, 3], 400, "unable to parse", at=NOW)
    assert _ids(store, "outbox_dead") and 2 not in _ids(store, "outbox")
    assert pipeline.call(lambda engine, now, out: "alive").result(timeout=10) == "alive"


def test_after_the_pipeline_stopped_a_write_is_refused_at_once(rig) -> None:
    store, pipeline, outbox = rig
    pipeline.start()
    pipeline.stop()
    with pytest.raises(StoreError, match="stopped"):
        outbox.delete(1, 2)
    assert len(_ids(store, "outbox")) == 10


def test_past_max_waiting_the_reader_waits_for_the_pipeline_and_nothing_is_dropped(tmp_path: Path) -> None:
    """The reader (here a thread standing in for the MQTT thread) is held once the inbox holds
    ``max_waiting`` messages, and goes on when the pipeline has taken half of them."""
    from edge_gateway.core.pipeline import Inbound
    from edge_gateway.model.protocol import StationEvent, encode_event, event_topic

    store = Store(tmp_path / "gateway.sqlite3")
    config = example_config()
    pipeline = Pipeline(Engine(config, store, NOW), Link(), Metrics(), config.workshop.id, clock=lambda: NOW,
                        max_waiting=50)
    station = config.stations[0].id
    sent: list[int] = []

    def reader() -> None:
        for seq in range(200):
            payload = encode_event(StationEvent(station=station, boot="0badcafe", seq=seq, ts=NOW - 1000,
                                                tag=f"05{seq:012X}", action="placed"))
            pipeline.submit(Inbound(topic=event_topic(config.workshop.id, station), payload=payload, mid=seq + 1,
                                    qos=1, received_at=NOW))
            sent.append(seq)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive() and len(sent) == 50 and pipeline.inbox.qsize() == 51  # held: not started yet
    pipeline.start()
    try:
        thread.join(30)
        assert not thread.is_alive() and len(sent) == 200
        done = pipeline.call(lambda engine, now, out: None)
        done.result(timeout=30)
        assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 200
    finally:
        pipeline.stop()


def test_shipped_rows_are_deleted_in_a_later_batch_without_the_worker_waiting_or_taking_them_again(rig) -> None:
    """``write_soon``: the drain's delete of what it shipped joins the pipeline's next batch (here the tick's,
    as no message comes): no commit of its own between two events' commits, and the drain goes on at once."""
    store, pipeline, outbox = rig
    outbox.writer_soon = pipeline.write_soon
    first = outbox.take(4)
    assert (first.first, first.last) == (1, 4)
    outbox.delete(first.first, first.last)  # the pipeline is not even running: it returns at once
    second = outbox.take(4)
    assert (second.first, second.last) == (5, 8)  # what waits to be deleted is not sent again
    assert _ids(store, "outbox") == list(range(1, 11))
    pipeline.start()
    deadline = time.monotonic() + 5
    while _ids(store, "outbox")[0] != 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ids(store, "outbox") == list(range(5, 11))


def test_an_emptied_outbox_never_gives_an_id_again_while_the_drain_skips_what_it_shipped(rig) -> None:
    store, pipeline, outbox = rig
    outbox.writer_soon = pipeline.write_soon
    pipeline.start()
    batch = outbox.take(100)
    outbox.delete(batch.first, batch.last)
    # in the pipeline's own batch, which runs the delete of 1..10 first
    pipeline.call(lambda engine, now, out: engine.store.outbox_add(False, NOW, "m v=11i")).result(timeout=10)
    deadline = time.monotonic() + 5
    while len(_ids(store, "outbox")) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ids(store, "outbox") == [11]  # SQLite alone would have started again at 1, below what was shipped
    assert outbox.take(100).body == "m v=11i"


def test_the_workers_last_deletes_run_before_the_pipeline_stops(rig) -> None:
    store, pipeline, outbox = rig
    outbox.writer_soon = pipeline.write_soon
    pipeline.start()
    outbox.delete(1, 3)
    pipeline.stop()
    assert _ids(store, "outbox") == list(range(4, 11))


def test_a_backlog_sized_delete_still_waits_for_its_commit(rig) -> None:
    """Past ``SOON_MAX_ROWS`` (a backlog after an outage) the worker waits, so it drains at the pipeline's
    pace instead of taking the intake's CPU (benchmarks/outbox_drain.py)."""
    store, pipeline, outbox = rig
    outbox.writer_soon = pipeline.write_soon
    done = threading.Event()
    threading.Thread(target=lambda: (outbox.delete(1, 1 + SOON_MAX_ROWS), done.set()), daemon=True).start()
    assert not done.wait(0.3)  # the pipeline is not running: the delete waits in its inbox
    pipeline.start()
    assert done.wait(10)
    assert _ids(store, "outbox") == []
