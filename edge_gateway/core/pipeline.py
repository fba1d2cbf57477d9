"""The ingest pipeline: one thread that turns received messages into committed state.

Messages arrive from the MQTT client's thread on a queue. The pipeline takes
what is waiting (up to ``max_batch``), applies each message through the engine
inside one SQLite transaction, commits, and only then acknowledges each message
to the broker and publishes the alarms and feedback. A bad message is counted,
kept as a dead letter and skipped; it never stops the batch. A commit that
fails is retried each second, unacknowledged, while ``/healthz`` says so and the
``store_failed`` alarm is up (``store_health.py``).

HTTP actions (acknowledge, clear) come through the same queue as commands, so
there is a single writer and alarm state never races.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable, NamedTuple, Protocol, TypeVar

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.core.metrics import Metrics
from edge_gateway.core.store_health import StoreHealth
from edge_gateway.errors import PayloadError, StoreError
from edge_gateway.model import alarms as lifecycle
from edge_gateway.model.protocol import (
    MAX_CYCLE_BYTES,
    MAX_PAYLOAD_BYTES,
    Topic,
    alarm_topic,
    decode_cycle,
    decode_event,
    decode_status,
)
from sebiao_common import strict_json
from sebiao_common.clock import Clock
from sebiao_common.errors import SebiaoError

if TYPE_CHECKING:
    from edge_gateway.store.writer import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class Inbound(NamedTuple):
    """One received MQTT message (a NamedTuple: made for every message on the MQTT thread)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: int
    generation: int = 0  # the broker connection it came on; acks go only to that one
    settle: Callable[[], None] | None = None  # handed over in-process: called after the commit instead of an ack
    limited: str | None = None  # over its station's rate (intake/rates.py): kept as a dead letter, this detail


Settle = Callable[[], None]  # answers a command's caller, once its batch has committed


# What a defect of the gateway raises while it applies one message or command; that one is set aside
# (the batch rolled back and run again without it) and the pipeline goes on.
DEFECTS = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError)


@dataclass(frozen=True, kw_only=True)
class Command:
    """``run(engine, now, outcome)`` on the pipeline thread, inside the batch's transaction; what it
    returns answers the caller after the commit (``Pipeline.call`` makes both). ``fail(detail)``
    answers it instead when ``run`` met a defect (its writes rolled back with the batch)."""

    run: Callable[[Engine, int, Outcome], Settle]
    fail: Callable[[str], Settle]


class _Poison(Exception):
    """A message or command met a defect of the gateway; its batch is rolled back and retried without it."""

    def __init__(self, index: int, topic: str, detail: str) -> None:
        super().__init__(detail)
        self.index, self.topic, self.detail = index, topic, detail


class Transport(Protocol):
    def ack(self, mid: int, qos: int, generation: int | None = None) -> None: ...
    def ack_all(self, mids: list[int], generation: int) -> None: ...  # QoS 1, one write for them all
    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None: ...


class Pipeline:
    def __init__(self, engine: Engine, transport: Transport, metrics: Metrics, workshop: str,
                 max_batch: int = 500, tick_seconds: float = 1.0, *, clock: Clock, max_waiting: int = 1500) -> None:
        """``max_waiting``: received messages the inbox holds before ``submit`` makes the reader wait."""
        self.engine = engine
        self.max_waiting = max_waiting
        self._soon: list[list[tuple[str, tuple]]] = []  # write_soon's statements, for the next batch
        self._soon_lock = threading.Lock()
        self.transport = transport
        self.metrics = metrics
        self.workshop = workshop
        self.max_batch = max_batch
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.inbox: queue.SimpleQueue[Inbound | Command | None] = queue.SimpleQueue()
        self.listeners: list[Callable[[Outcome], None]] = []  # live views (display, console)
        self._thread = threading.Thread(target=self._run, name="sebiao-pipeline", daemon=True)
        self._next_tick = 0.0
        self.failed: BaseException | None = None
        self._stopping = False
        self._topics: dict[str, Topic] = {}
        self.store_health = StoreHealth()
        metrics.queue_depth.set_function(self.inbox.qsize)
        metrics.store_failing.set_function(lambda: 0 if self.store_health.ok else 1)
        store = engine.store
        metrics.dead_letters.set_function(lambda: store.dead_rows)
        metrics.dead_letter_bytes.set_function(lambda: store.dead_bytes)
        metrics.dead_letters_dropped.set_function(lambda: store.dead_dropped)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self.inbox.put(None)
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, message: Inbound) -> None:
        """Called by the reader (the MQTT thread, the embedded broker). Past ``max_waiting`` messages waiting,
        it waits until half of them are applied: the broker then holds the rest (unacknowledged, in the
        gateway's session) instead of this process' memory: a backlog after an outage once grew the inbox
        to 25,000 messages. Nothing already received is dropped."""
        self.inbox.put(message)
        if self.inbox.qsize() > self.max_waiting:
            while self.inbox.qsize() > self.max_waiting // 2 and not self._stopping and self.failed is None:
                time.sleep(0.002)

    def call(self, action: Callable[[Engine, int, Outcome], T]) -> Future[T]:
        """Run ``action(engine, now, outcome)`` on the pipeline thread; its result (or the
        ``SebiaoError`` it raised) reaches the future once the batch has committed."""
        future: Future[T] = Future()

        def run(engine: Engine, now: int, out: Outcome) -> Settle:
            try:
                value = action(engine, now, out)
            except SebiaoError as exc:  # refused by the lifecycle: answered to the caller as an error
                return partial(future.set_exception, exc)
            return partial(future.set_result, value)

        def fail(detail: str) -> Settle:
            return partial(future.set_exception, SebiaoError(f"内部错误 / internal error: {detail}"))

        self.inbox.put(Command(run=run, fail=fail))
        return future

    def write_soon(self, statements: list[tuple[str, tuple]]) -> None:
        """A sink worker's deletes of rows it shipped, run at the start of the next batch the pipeline commits
        for its own reasons (messages, or the tick within ``tick_seconds``): neither a batch nor a commit of
        their own, and the worker does not wait. Lost in a crash, they only mean those rows are sent again."""
        with self._soon_lock:
            self._soon.append(statements)

    def _take_soon(self) -> list[list[tuple[str, tuple]]]:
        with self._soon_lock:
            soon, self._soon = self._soon, []
        return soon

    def write(self, statements: list[tuple[str, tuple]], timeout: float = 30.0) -> None:
        """A sink worker's statements (deletes of shipped rows, dead letters) in the next batch: one writer,
        so the intake never waits on another thread's lock (``store/worker_db.py``); returns once committed."""
        if self._stopping or self.failed is not None:  # before start() it waits in the inbox for the thread
            raise StoreError(f"{self.engine.store.path}: the pipeline has stopped; nothing is written")

        def run(engine: Engine, now: int, out: Outcome) -> None:
            _sink_statements(engine.store, statements)

        try:
            self.call(run).result(timeout)
        except FutureTimeout as exc:
            raise StoreError(f"{self.engine.store.path}: the pipeline did not commit within {timeout:.0f} s") from exc

    # -- the thread -----------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                batch = self._take()
                if batch is None:
                    if self._soon:
                        self._process([])  # the workers' last deletes, before the store closes
                    return
                self._process(batch)
        except BaseException as exc:  # the thread must not die silently: /healthz reports it
            self.failed = exc
            log.exception("the pipeline stopped")
            raise

    def _take(self) -> list[Inbound | Command] | None:
        timeout = max(0.0, self._next_tick - time.monotonic())
        try:
            first = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self.inbox.put(None)  # stop after this batch
                break
            batch.append(item)
        return batch

    def _process(self, batch: list[Inbound | Command]) -> None:
        poisoned: dict[int, str] = {}  # batch index -> the defect it met
        soon = self._take_soon()  # kept for the batch's second try, as the batch itself
        while True:
            out = Outcome()
            results: list[Settle] = []
            started = time.perf_counter()
            try:
                with self.engine.store.transaction():
                    self._soon_writes(soon)
                    self._apply(batch, out, results, poisoned)
            except StoreError as exc:
                # Nothing of this batch is acknowledged; the engine re-reads the
                # committed picture and the same batch is tried again.
                self.metrics.store_errors.inc()
                if self.store_health.ok:
                    log.error("commit failed, retrying the batch each second: %s", exc)
                self.store_health.failed(str(exc), self.clock())
                self.engine.reload()
                self._store_alarm()
                time.sleep(1.0)
                continue
            except _Poison as poison:
                # A defect met by one message: the batch was rolled back; run it
                # again with that message kept as a dead letter instead.
                log.error("internal error on %s: %s", poison.topic, poison.detail, exc_info=poison.__cause__)
                poisoned[poison.index] = poison.detail
                self.engine.reload()
                continue
            break
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        self._after_commit(batch, out, results)
        if not self.store_health.ok:
            self.store_health.alarm = "stored"  # by _apply, in the batch just committed
            self._store_recovered()

    def _soon_writes(self, soon: list[list[tuple[str, tuple]]]) -> None:
        for statements in soon:
            try:
                _sink_statements(self.engine.store, statements)
            except StoreError as exc:  # not this batch's failure: those rows are only sent again after a restart
                log.error("a sink worker's delete of shipped rows failed: %s", exc)

    def _store_alarm(self) -> None:
        """Raise ``store_failed`` in a write of its own; if not even that fits, publish it from memory."""
        health = self.store_health
        if health.alarm == "stored":
            return
        decision, out = health.raise_decision(), Outcome()
        try:
            with self.engine.store.transaction():
                self.engine.gateway_alarm(decision, self.clock(), out)
        except StoreError:
            self.engine.reload()
            if health.alarm is None:  # once a spell; written, with this id, when the store takes writes again
                alarm, _ = lifecycle.occur(None, decision, self.engine.next_id, self.clock())
                picture = lifecycle.alarm_json(alarm, self.workshop)
                self.transport.publish(alarm_topic(self.workshop),
                                       strict_json.dumps(picture, ensure_ascii=False, separators=(",", ":")).encode())
                health.alarm = "published"
            return
        health.alarm = "stored"
        self._after_commit([], out, [])

    def _store_recovered(self) -> None:
        """A batch committed again (its first write was the spell's alarm, see ``_apply``): clear the alarm."""
        health, out = self.store_health, Outcome()
        try:
            with self.engine.store.transaction():
                self.engine.gateway_alarm(health.clear_decision(), self.clock(), out)
        except StoreError as exc:  # the next batch that commits tries again
            self.engine.reload()
            log.error("the store took a batch but not its store_failed alarm: %s", exc)
            return
        log.info("the store takes writes again after %d failed commits", health.status.failed_commits)
        health.recovered()
        self._after_commit([], out, [])

    def _apply(self, batch: list[Inbound | Command], out: Outcome, results: list[Settle],
               poisoned: dict[int, str]) -> None:
        now = self.clock()
        if not self.store_health.ok and self.store_health.alarm != "stored":
            # First, so that it takes the id its picture was published with while the store failed.
            self.engine.gateway_alarm(self.store_health.raise_decision(), now, out)
        if time.monotonic() >= self._next_tick:
            self._next_tick = time.monotonic() + self.tick_seconds
            self.engine.tick(now, out)
        for index, item in enumerate(batch):
            if isinstance(item, Command):
                results.append(item.fail(poisoned[index]) if index in poisoned else
                               self._command(index, item, now, out))
            elif index in poisoned:
                self._reject(item, "internal_error", poisoned[index], out)
            elif item.limited is not None:
                self._reject(item, "rate_limited", item.limited, out)
            else:
                self._message(index, item, out)

    def _command(self, index: int, command: Command, now: int, out: Outcome) -> Settle:
        try:
            return command.run(self.engine, now, out)
        except DEFECTS as exc:
            raise _Poison(index, "(a command)", f"{type(exc).__name__}: {exc}"[:500]) from exc

    def _message(self, index: int, msg: Inbound, out: Outcome) -> None:
        try:
            self._apply_message(msg, out)
        except PayloadError as exc:  # raised before anything of the message was written
            self._reject(msg, exc.reason, exc.detail, out)
        except DEFECTS as exc:
            raise _Poison(index, msg.topic, f"{type(exc).__name__}: {exc}"[:500]) from exc

    def _reject(self, msg: Inbound, reason: str, detail: str, out: Outcome) -> None:
        out.rejected.append(reason)  # counted once committed: a batch tried again is not counted twice
        self.engine.store.dead_letter(msg.received_at, msg.topic, msg.payload, reason, detail)

    def _topic(self, name: str) -> Topic:
        # A workshop has a few dozen topics: parse each once.
        topic = self._topics.get(name)
        if topic is None:
            topic = Topic.parse(name)
            if len(self._topics) < 4096:
                self._topics[name] = topic
        return topic

    def _apply_message(self, msg: Inbound, out: Outcome) -> None:
        topic = self._topic(msg.topic)
        if topic.workshop != self.workshop:
            raise PayloadError("bad_topic", f"workshop '{topic.workshop}' is not this gateway's")
        limit = MAX_CYCLE_BYTES if topic.channel == "cycle" else MAX_PAYLOAD_BYTES
        if len(msg.payload) > limit:
            raise PayloadError("too_large", f"{len(msg.payload)} bytes, the limit is {limit}")
        if topic.channel == "event":
            self.engine.station(topic.station)
            event = decode_event(topic.station, msg.payload)
            new = self.engine.on_event(event, msg.payload, msg.received_at, out)
            out.taken["event" if new else "duplicate"] += 1
        elif topic.channel == "status":
            self.engine.station(topic.station)
            status = decode_status(topic.station, msg.payload)
            self.engine.on_status(status, msg.payload.decode("utf-8"), msg.received_at, out)
            out.taken["status"] += 1
        elif topic.channel == "cycle":
            self.engine.station(topic.station)
            cycle = decode_cycle(topic.station, msg.payload)
            passed = self.engine.on_cycle(cycle, msg.payload, msg.received_at, out)
            out.taken["duplicate" if passed is None else f"cycle_{str(passed).lower()}"] += 1
        else:
            raise PayloadError("bad_topic", f"the gateway does not take '{topic.channel}' messages")

    def _count(self, taken: Counter[str]) -> None:
        # once a batch, once it is committed (a batch tried again is not counted twice), not once a message
        metrics = self.metrics
        for kind, n in taken.items():
            if kind == "event":
                metrics.events_in.inc(n)
            elif kind == "duplicate":
                metrics.duplicates.inc(n)
            elif kind == "status":
                metrics.status_in.inc(n)
            else:
                metrics.cycles_in.labels(kind.removeprefix("cycle_")).inc(n)

    def _after_commit(self, batch: list[Inbound | Command], out: Outcome, results: list[Settle]) -> None:
        inbound = [m for m in batch if isinstance(m, Inbound)]
        acks: dict[int, list[int]] = {}  # QoS 1 message ids by the connection they came on
        for msg in inbound:
            if msg.settle is not None:
                msg.settle()
            elif msg.qos == 1:
                acks.setdefault(msg.generation, []).append(msg.mid)
            elif msg.qos > 1:
                self.transport.ack(msg.mid, msg.qos, msg.generation)
        for generation, mids in acks.items():
            self.transport.ack_all(mids, generation)
        if inbound:
            self.metrics.batch_size.observe(len(inbound))
        for kind in out.alarms_raised:
            self.metrics.alarms.labels(kind).inc()
        for reason in out.rejected:
            self.metrics.rejected.labels(reason).inc()
        self._count(out.taken)
        self.metrics.active_alarms.set(len(self.engine.active))
        for message in out.messages:
            self.transport.publish(message.topic, message.payload, message.retain)
        for settle in results:
            settle()
        if out.changed:
            for listener in self.listeners:
                listener(out)


def _sink_statements(store: Store, statements: list[tuple[str, tuple]]) -> None:
    """A sink worker's statements inside the open batch: all of them or none; the batch's own writes go on."""
    conn = store.conn
    conn.execute("SAVEPOINT sink_write")
    try:
        for sql, args in statements:
            conn.execute(sql, args)
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK TO sink_write")
        raise StoreError(f"{store.path}: {exc}") from exc
    finally:
        conn.execute("RELEASE sink_write")
