"""The drain worker's response classes, one round at a time, against a scripted HTTP server
(the v1 sink over real HTTP), with the outbox in a real SQLite store."""

from __future__ import annotations

import gzip
from http.server import BaseHTTPRequestHandler
from typing import Callable

import pytest
from prometheus_client import CollectorRegistry
from scripted_http import Answer, ScriptedServer
from servers import free_port

from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.health import OUTBOX_BACKLOG, SINK_REFUSED
from edge_gateway.sinks.influx import drain
from edge_gateway.sinks.influx.drain import InfluxDrainer, InfluxOutboxMetrics, _named
from edge_gateway.sinks.influx.outbox import InfluxOutbox
from edge_gateway.store.writer import Store
from sebiao_common.clock import now_ms
from sebiao_common.http_answers import (
    OK,
    REFUSED,
    REJECTED,
    RETRY,
    TOO_LARGE,
    classify,
    parse_retry_after,
)
from sebiao_common.influx.settings import InfluxSettings, OutboxSettings
from sebiao_common.influx.writer import V1Sink, WriteResult, server_message

Script = Callable[[list[str]], Answer]


class FakeInflux(ScriptedServer):
    """Answers each POST /write with ``script(lines)``; keeps what it received."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[list[str]] = []
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> Answer:
        assert request.headers["Content-Encoding"] == "gzip"
        lines = gzip.decompress(body).decode().split("\n")
        self.requests.append(lines)
        return self.script(lines)

    def delivered(self) -> list[str]:
        return [line for lines in self.requests for line in lines]


@pytest.fixture
def world(tmp_path):
    made = []

    def make(script: Script, lines: int = 10, keep: int = 0, url: str | None = None, **outbox):
        fake = None if url else FakeInflux(script)
        store = Store(tmp_path / f"gw{len(made)}.sqlite3")
        with store.transaction():
            for i in range(lines):
                store.outbox_add(False, 1000 + i, f"m,station=s{i % 3} seq={i}i {i}")
            for i in range(keep):
                store.outbox_add(True, 5000 + i, f"alarm,type=t alarm_id={i}i {10_000 + i}")
        settings = InfluxSettings(url=url or fake.url, api="v1", database="db", retry_max_seconds=2,
                                  outbox=OutboxSettings(**{"batch_lines": 5000, **outbox}))
        alarms: list = []
        drainer = InfluxDrainer(store.path, V1Sink(settings), settings, InfluxOutboxMetrics(CollectorRegistry()),
                                alarms.append, lambda: store.outbox_added, clock=now_ms)
        made.append((fake, store, drainer))
        return fake, store, drainer, alarms

    yield make
    for fake, store, drainer in made:
        drainer.outbox.close()
        store.close()
        if fake:
            fake.close()


def rows(store: Store, table: str = "outbox") -> list:
    return store.conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


@pytest.mark.parametrize("status, outcome", [
    (200, OK), (204, OK), (400, REJECTED), (422, REJECTED), (413, TOO_LARGE), (401, REFUSED), (403, REFUSED),
    (404, REFUSED), (405, REFUSED), (429, RETRY), (500, RETRY), (502, RETRY), (503, RETRY), (0, RETRY)])
def test_classify(status, outcome):
    assert classify(status) == outcome


def test_retention_policy_not_found_is_a_config_error_not_a_retry():
    assert WriteResult(500, "retention policy not found: nope").outcome == REFUSED
    assert WriteResult(500, "timeout").outcome == RETRY


def test_retry_after_and_server_messages():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Thu, 01 Jan 2099 00:00:10 GMT", now=4070908800.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert server_message(b'{"error":"partial write: x"}') == "partial write: x"
    assert server_message(b'{"code":"invalid","message":"bad line 3"}') == "bad line 3"
    assert server_message(b"plain text\n") == "plain text"


def test_named_lines_from_v1_and_v2_messages():
    rs = [(1, "a b=1i 1"), (2, "bad"), (3, "c d=1i 3"), (4, "worse =")]
    v1 = "partial write: unable to parse 'bad': invalid field format\nunable to parse 'worse =': missing"
    assert _named(v1, rs) == {1, 3}
    assert _named("failed to parse line protocol: errors encountered on line(s):\nline 3: bad", rs) == {2}
    assert _named("field type conflict: input field \"f\" is type float dropped=1", rs) == set()


def test_2xx_deletes_the_batch_gzipped(world):
    fake, store, drainer, _ = world(lambda lines: (204, {}, b""))
    # a batch under a tenth of batch_lines: sent, then the drain waits for more rather than sending every few lines
    assert drainer.round() == drain.IDLE_POLL
    assert rows(store) == []
    assert fake.delivered() == [f"m,station=s{i % 3} seq={i}i {i}" for i in range(10)]
    assert drainer.depth() == 0
    assert drainer.round() > 0  # nothing left: it idles


def test_a_batch_of_a_tenth_of_batch_lines_or_more_goes_on_at_once(world):
    fake, store, drainer, _ = world(lambda lines: (204, {}, b""), batch_lines=100)
    assert drainer.round() == 0.0  # 10 lines of 100: a burst or a backlog, the next batch at once
    assert len(fake.delivered()) == 10


def test_400_naming_lines_dead_letters_them_and_sends_the_rest_again(world):
    def script(lines):
        bad = [x for x in lines if "seq=3i" in x or "seq=7i" in x]
        if bad:
            msg = "partial write: " + "\n".join(f"unable to parse '{x}': invalid" for x in bad) + " dropped=0"
            return 400, {}, f'{{"error": "{msg}"}}'.encode().replace(b"\n", b"\\n")
        return 204, {}, b""

    fake, store, drainer, _ = world(script)
    drainer.round()
    assert rows(store) == []
    dead = rows(store, "outbox_dead")
    assert [d["line"] for d in dead] == ["m,station=s0 seq=3i 3", "m,station=s1 seq=7i 7"]
    assert all(d["status"] == 400 and "unable to parse" in d["reason"] for d in dead)
    assert len(fake.requests) == 2 and len(fake.requests[1]) == 8


def test_400_naming_nothing_is_bisected_down_to_the_bad_line(world):
    def script(lines):  # InfluxDB 1.x: a type conflict names the field, not the line
        if any("seq=5i" in x for x in lines):
            return 400, {}, b'{"error":"partial write: field type conflict: input field \\"seq\\" dropped=1"}'
        return 204, {}, b""

    fake, store, drainer, _ = world(script, lines=16)
    drainer.round()
    assert rows(store) == []
    assert [d["line"] for d in rows(store, "outbox_dead")] == ["m,station=s2 seq=5i 5"]
    delivered = {x for lines, in zip(fake.requests) for x in lines if not any("seq=5i" in y for y in lines)}
    assert delivered == {f"m,station=s{i % 3} seq={i}i {i}" for i in range(16) if i != 5}
    assert len(fake.requests) <= 2 * 4 + 1  # log2(16) levels, two requests each


def test_413_splits_the_batch(world):
    fake, store, drainer, _ = world(lambda lines: (413, {}, b"too large") if len(lines) > 3 else (204, {}, b""),
                                    lines=10)
    drainer.round()
    assert rows(store) == [] and rows(store, "outbox_dead") == []
    accepted = [x for lines in fake.requests if len(lines) <= 3 for x in lines]
    assert sorted(accepted) == sorted(f"m,station=s{i % 3} seq={i}i {i}" for i in range(10))  # each once


def test_401_keeps_rows_raises_sink_refused_once_and_clears_on_success(world):
    answers = [401, 401, 204]
    fake, store, drainer, alarms = world(lambda lines: (answers.pop(0), {}, b'{"error":"authorization failed"}'))
    assert drainer.round() >= 1.0  # the longest back-off, jittered: 2 s / 2 .. 2 s
    assert drainer.round() >= 1.0
    assert len(rows(store)) == 10
    assert [type(a) for a in alarms] == [Raise]
    assert alarms[0].type == SINK_REFUSED and "HTTP 401" in alarms[0].text_en
    drainer.round()
    assert rows(store) == []
    assert isinstance(alarms[-1], Clear) and alarms[-1].type == SINK_REFUSED


def test_503_backs_off_at_least_retry_after(world):
    fake, store, drainer, alarms = world(lambda lines: (503, {"Retry-After": "7"}, b"busy"))
    assert drainer.round() >= 7
    delays = [drainer.round() for _ in range(3)]
    assert all(d >= 7 for d in delays)
    assert len(rows(store)) == 10 and alarms == []


def test_no_server_backs_off_exponentially_with_jitter(world):
    _, store, drainer, _ = world(None, url=f"http://127.0.0.1:{free_port()}")
    delays = [drainer.round() for _ in range(6)]
    assert len(rows(store)) == 10
    assert delays[0] < 0.6 and max(delays) <= 2.0  # 0.25 s doubling, capped at retry_max_seconds
    assert "ConnectionRefused" in drainer.last_error or "NewConnectionError" in drainer.last_error


def test_bound_drops_oldest_telemetry_never_alarms_and_warns_before(world):
    fake, store, drainer, alarms = world(lambda lines: (503, {}, b""), lines=130, keep=10, max_rows=100)
    drainer.round()
    left = rows(store)
    assert len(left) == 100
    assert sum(r["keep"] for r in left) == 10  # every alarm row kept
    assert min(r["id"] for r in left if not r["keep"]) == 41  # the 40 oldest telemetry rows went
    state = InfluxOutbox(store.path, readonly=True).state()
    assert state.dropped == 40 and state.depth == 100
    assert [a.type for a in alarms if isinstance(a, Raise)] == [OUTBOX_BACKLOG]


def test_backlog_alarm_at_warn_percent_and_clear_when_drained(world):
    fake, store, drainer, alarms = world(lambda lines: (204, {}, b""), lines=85, max_rows=100, batch_lines=50)
    drainer.round()  # 85 rows >= 80 % of 100: warned before the first batch goes
    assert [a.type for a in alarms if isinstance(a, Raise)] == [OUTBOX_BACKLOG]
    assert len(rows(store)) == 35
    drainer.round()
    assert rows(store) == []
    drainer.round()
    assert any(isinstance(a, Clear) and a.type == OUTBOX_BACKLOG for a in alarms)
