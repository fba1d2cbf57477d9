"""The gateway's cloud push: the ``cloud:`` section, and the push worker's response classes
one round at a time against a scripted HTTP server, with the cloud outbox in a real SQLite store."""

from __future__ import annotations

import json
from typing import Callable

import pytest
from prometheus_client import CollectorRegistry
from scripted_http import T0, TOKEN, Answer, FakeCloud, ok

from cloud_ingest.config import Limits
from cloud_ingest.wire.batch import parse_batch
from edge_gateway.core.metrics import CloudMetrics
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.cloud import push
from edge_gateway.sinks.cloud.client import CloudClient, classify
from edge_gateway.sinks.cloud.config import CloudSettings, parse_cloud
from edge_gateway.sinks.cloud.push import SUBJECT, CloudPusher
from edge_gateway.sinks.health import SINK_REFUSED
from edge_gateway.store.writer import Store
from sebiao_common.clock import now_ms
from sebiao_common.errors import ConfigError
from sebiao_common.http_answers import OK, REFUSED, REJECTED, RETRY, TOO_LARGE
from sebiao_common.yamlfile import Node

Script = Callable[[dict], Answer]


# -- the config section -------------------------------------------------------------------

def parse(raw) -> CloudSettings:
    return parse_cloud(Node("w.yaml", "cloud", raw))


def test_the_section_with_defaults_and_with_every_key():
    s = parse({"url": "https://cloud.example.org/", "token": TOKEN})
    assert (s.url, s.ingest_url, s.batch_items, s.timeout_seconds, s.retry_max_seconds) == (
        "https://cloud.example.org", "https://cloud.example.org/api/v1/ingest", 500, 10.0, 30.0)
    s = parse({"url": "http://10.0.0.5:8090", "token": TOKEN, "batch_items": 20, "timeout_seconds": 3,
               "retry_max_seconds": 120})
    assert (s.batch_items, s.timeout_seconds, s.retry_max_seconds) == (20, 3.0, 120.0)


@pytest.mark.parametrize("raw, message", [
    ("x", "w.yaml: cloud: must be a mapping, got"),
    ({"url": "http://c"}, "w.yaml: cloud: missing required key 'token'"),
    ({"token": TOKEN}, "w.yaml: cloud: missing required key 'url'"),
    ({"url": "ftp://c", "token": TOKEN}, "w.yaml: cloud.url: 'ftp://c' is not an http:// or https:// URL"),
    ({"url": "http://c:99999", "token": TOKEN}, "w.yaml: cloud.url: 'http://c:99999': Port out of range"),
    ({"url": "http://c?x=1", "token": TOKEN}, "w.yaml: cloud.url: 'http://c?x=1': the service's base URL"),
    ({"url": "http://c", "token": "short"}, "w.yaml: cloud.token: 'short' is not valid: a gateway token"),
    ({"url": "http://c", "token": TOKEN, "batch_items": 0}, "w.yaml: cloud.batch_items: must be at least 1"),
    ({"url": "http://c", "token": TOKEN, "batch_items": 9000}, "w.yaml: cloud.batch_items: must be at most 5000"),
    ({"url": "http://c", "token": TOKEN, "timeout_seconds": "ten"},
     "w.yaml: cloud.timeout_seconds: must be a number of seconds, got 'ten'"),
    ({"url": "http://c", "token": TOKEN, "batchsize": 5}, "w.yaml: cloud.batchsize: unknown key"),
])
def test_a_wrong_section_is_refused_naming_file_field_and_reason(raw, message):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    assert message in str(err.value), str(err.value)


@pytest.mark.parametrize("status, outcome", [
    (200, OK), (201, OK), (400, REJECTED), (422, REJECTED), (413, TOO_LARGE), (401, REFUSED), (403, REFUSED),
    (404, REFUSED), (409, REFUSED), (429, RETRY), (500, RETRY), (503, RETRY), (0, RETRY)])
def test_classify(status, outcome):
    assert classify(status) == outcome


# -- the worker against a scripted server -----------------------------------------------------

def event(seq: int) -> str:
    return json.dumps({"kind": "event", "station": "rack-red-1", "boot": "1a2b3c4d", "seq": seq, "ts": T0 + seq,
                       "tag": "04A224E2C65E80", "action": "removed", "tool": "KN-R-01", "note": None})


@pytest.fixture
def world(tmp_path):
    made = []

    def make(script: Script, items: int = 6, batch_items: int = 500, url: str | None = None):
        fake = None if url else FakeCloud(script)
        store = Store(tmp_path / f"gw{len(made)}.sqlite3")
        with store.transaction():
            for i in range(items):
                store.cloud_add(T0 + i, event(i))
        settings = CloudSettings(url=url or fake.url, token=TOKEN, batch_items=batch_items, retry_max_seconds=2)
        alarms: list = []
        pusher = CloudPusher(store.path, CloudClient(settings), settings, "ws-demo", alarms.append,
                             CloudMetrics(CollectorRegistry()), lambda: store.cloud_added, clock=now_ms)
        made.append((fake, store, pusher))
        return fake, store, pusher, alarms

    yield make
    close_all(made)


def close_all(made: list[tuple[FakeCloud | None, Store, CloudPusher]]) -> None:
    """What a fixture made: each pusher's outbox, its store, its fake cloud."""
    for fake, store, pusher in made:
        pusher.outbox.close()
        store.close()
        if fake:
            fake.close()


def seqs(store: Store, table: str = "cloud_outbox") -> list[int]:
    return [json.loads(r[0])["seq"] for r in store.conn.execute(f"SELECT item FROM {table} ORDER BY id")]


def test_accepted_batches_are_deleted_and_are_valid_cloud_batches(world):
    fake, store, pusher, alarms = world(ok, items=7, batch_items=3)
    assert [pusher.round() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pusher.round() > 0  # idle
    assert seqs(store) == []
    assert [len(b["items"]) for b in fake.batches] == [3, 3, 1]
    ids = [b["batch"] for b in fake.batches]
    assert ids == [f"{pusher.outbox.epoch}-1-3-3", f"{pusher.outbox.epoch}-4-6-3", f"{pusher.outbox.epoch}-7-7-1"]
    parsed = [parse_batch(raw, Limits()) for raw in fake.raw]  # the cloud's own validation takes them
    assert [i.seq for b in parsed for i in b.items] == list(range(7))
    assert {b.workshop for b in parsed} == {"ws-demo"}
    assert alarms == [Clear(type=SINK_REFUSED, subject=SUBJECT, reason_zh="云端已接受数据",
                            reason_en="the cloud accepts our batches again")]


def test_a_retried_batch_has_the_same_id_and_the_same_bytes(world):
    answers = iter([(503, {"Retry-After": "7"}, b'{"error": "database down"}'), (200, {}, b"{}")])
    fake, store, pusher, _ = world(lambda b: next(answers))
    delay = pusher.round()
    assert delay >= 7  # the cloud's Retry-After is honoured
    assert seqs(store) == list(range(6))  # kept
    assert pusher.last_error == "HTTP 503: database down"
    assert pusher.round() == 0.0
    assert fake.raw[0] == fake.raw[1]  # the cloud recognises it as the same batch
    assert seqs(store) == []


def test_an_item_the_cloud_names_is_dead_lettered_and_the_rest_sent_again(world):
    def script(batch):
        for i, item in enumerate(batch["items"]):
            if item["seq"] == 2:
                return 400, {}, json.dumps({"error": f"items[{i}].ts: must be a time", "path": f"items[{i}].ts"}
                                           ).encode()
        return ok(batch)

    fake, store, pusher, _ = world(script)
    assert pusher.round() == 0.0
    assert seqs(store) == []
    assert seqs(store, "cloud_outbox_dead") == [2]
    dead = store.conn.execute("SELECT status, reason FROM cloud_outbox_dead").fetchone()
    assert tuple(dead) == (400, "items[2].ts: must be a time")
    assert [i["seq"] for i in fake.batches[-1]["items"]] == [0, 1, 3, 4, 5]
    assert fake.batches[0]["batch"] != fake.batches[1]["batch"]  # another body, another id
    assert pusher.dead == 1 and pusher.sent == 5


def test_a_refusal_naming_no_item_is_bisected_down_to_the_bad_one(world):
    def script(batch):
        return (400, {}, b'{"error": "bad"}') if any(i["seq"] == 4 for i in batch["items"]) else ok(batch)

    _, store, pusher, _ = world(script)
    assert pusher.round() == 0.0
    assert seqs(store, "cloud_outbox_dead") == [4]
    assert seqs(store) == []


def test_too_large_splits_the_batch(world):
    fake, store, pusher, _ = world(lambda b: (413, {}, b"{}") if len(b["items"]) > 2 else ok(b))
    assert pusher.round() == 0.0
    assert seqs(store) == [] and seqs(store, "cloud_outbox_dead") == []
    accepted = [i["seq"] for b in fake.batches if len(b["items"]) <= 2 for i in b["items"]]
    assert sorted(accepted) == list(range(6))  # halves of halves, each item accepted once


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_keeps_the_rows_and_raises_the_gateway_alarm_once(world, status):
    answers = iter([(status, {}, b'{"error": "no"}'), (status, {}, b'{"error": "no"}'), (200, {}, b"{}")])
    _, store, pusher, alarms = world(lambda b: next(answers))
    assert pusher.round() >= 1.0  # the longest back-off (2 s, halved at most by the jitter)
    assert pusher.round() >= 1.0
    assert seqs(store) == list(range(6))
    assert len(alarms) == 1 and isinstance(alarms[0], Raise)
    assert (alarms[0].type, alarms[0].subject) == (SINK_REFUSED, "cloud")
    assert f"HTTP {status}" in alarms[0].text_en
    assert pusher.round() == 0.0
    assert isinstance(alarms[-1], Clear) and alarms[-1].subject == "cloud"
    assert seqs(store) == []


def test_no_answer_backs_off_growing_and_keeps_the_rows(world):
    from servers import free_port

    _, store, pusher, _ = world(ok, url=f"http://127.0.0.1:{free_port()}")
    delays = [pusher.round() for _ in range(4)]
    assert all(0 < d <= 2 for d in delays)
    assert delays[-1] >= 0.5  # 0.25 * 2^4 capped at 2, at least half of it
    assert "Connection refused" in pusher.last_error or "NewConnectionError" in pusher.last_error
    assert seqs(store) == list(range(6))


# -- the engine writes the rows (only with a cloud: section) -------------------------------------

def _cloud_rows(sim) -> list[dict]:
    return [json.loads(r[0]) for r in sim.store.conn.execute("SELECT item FROM cloud_outbox ORDER BY id")]


def _cross_zone(sim) -> None:
    sim.all_online()
    sim.at(10).status("rack-red-1", buffer_depth=3, fw="1.0.0")
    sim.at(20).event("rack-red-1", "KN-R-01", "removed")
    sim.at(30).event("rack-white-1", "KN-R-01", "placed")


def test_without_a_cloud_section_the_engine_writes_no_cloud_rows(tmp_path):
    from workshop_sim import Sim

    sim = Sim(tmp_path)
    _cross_zone(sim)
    assert "cross_zone" in sim.types()
    assert _cloud_rows(sim) == []


def test_with_a_cloud_section_events_transitions_and_status_become_valid_items(tmp_path):
    from workshop_sim import Sim

    from edge_gateway.sinks.cloud.items import CloudItems
    from edge_gateway.sinks.cloud.projection import CloudProjection

    sim = Sim(tmp_path)
    sim.engine.projections = (CloudProjection(items=CloudItems(sim.config.workshop.id), store=sim.store),)
    _cross_zone(sim)
    items = _cloud_rows(sim)
    kinds = [i["kind"] for i in items]
    assert kinds.count("event") == 2
    assert [i["alarm"]["type"] for i in items if i["kind"] == "alarm"] == ["cross_zone"]
    status = [i for i in items if i["kind"] == "status" and i["station"] == "rack-red-1"][-1]
    assert (status["online"], status["buffer_depth"], status["fw"]) == (True, 3, "1.0.0")
    # every status names the station's kind and zone as the workshop config has them
    configured = {s.id: (s.kind.value, s.zone) for s in sim.config.stations}
    statuses = [i for i in items if i["kind"] == "status"]
    assert {i["station"] for i in statuses} == set(configured)
    assert all((i["station_kind"], i["zone"]) == configured[i["station"]] for i in statuses)
    history = sim.store.conn.execute("SELECT id FROM alarm_history").fetchall()
    assert [i["transition"]["seq"] for i in items if i["kind"] == "alarm"] == [h[0] for h in history]
    doc = {"v": 1, "workshop": sim.config.workshop.id, "batch": "b-1", "items": items}
    parsed = parse_batch(json.dumps(doc).encode(), Limits())  # the cloud takes every item as it is
    assert len(parsed.items) == len(items)


def test_the_gateways_own_alarms_stay_local_and_a_station_clock_alarm_reaches_the_cloud(tmp_path):
    from workshop_sim import Sim

    from edge_gateway.sinks.cloud.items import CloudItems
    from edge_gateway.sinks.cloud.projection import CloudProjection
    from sebiao_common.alarms import GatewayAlarmType

    sim = Sim(tmp_path).all_online()
    sim.engine.projections = (CloudProjection(items=CloudItems(sim.config.workshop.id), store=sim.store),)
    for kind in GatewayAlarmType:  # store_failed, station_flood and the sinks' own
        decision = Raise(type=kind.value, severity="major", subject="store", tool=None, tag=None, station=None,
                         ts=sim.now, text_zh="网关告警", text_en="a gateway alarm")
        sim._run(lambda out, d=decision: sim.engine.gateway_alarm(d, sim.now, out))
    assert {t for t, _, _ in sim.raised} == {k.value for k in GatewayAlarmType}
    sim.at(10).event("rack-red-1", "KN-R-01", "removed", ts=sim.now + 600_000)  # a station clock 10 min ahead
    items = _cloud_rows(sim)
    assert [i["alarm"]["type"] for i in items if i["kind"] == "alarm"] == ["station_clock"]
    doc = {"v": 1, "workshop": sim.config.workshop.id, "batch": "b-1", "items": items}
    assert len(parse_batch(json.dumps(doc).encode(), Limits()).items) == len(items)


def test_a_station_cannot_overwrite_the_reserved_keys_of_its_status_item(tmp_path):
    """kind, station, station_kind, zone, ts, online and buffer_depth come from the gateway, not the station's
    health fields: a station reporting ``zone: blue`` stays the config's red rack."""
    from workshop_sim import Sim

    from edge_gateway.model.protocol import StationStatus
    from edge_gateway.sinks.cloud.items import CloudItems
    from edge_gateway.sinks.cloud.projection import CloudProjection

    sim = Sim(tmp_path)
    sim.engine.projections = (CloudProjection(items=CloudItems(sim.config.workshop.id), store=sim.store),)
    sim.all_online()
    health = {"buffer_depth": 2, "kind": "event", "station": "rack-red-1", "station_kind": "rack", "zone": "blue",
              "ts": 1, "online": False, "rssi": -70}
    sim.at(10)._run(lambda out: sim.engine.on_status(StationStatus(station="sink-white-1", online=True,
                                                                   health=health), "{}", sim.now, out))
    item = [i for i in _cloud_rows(sim) if i["kind"] == "status"][-1]
    assert {k: item[k] for k in ("kind", "station", "station_kind", "zone", "online", "buffer_depth", "rssi")} == {
        "kind": "status", "station": "sink-white-1", "station_kind": "sink", "zone": "white", "online": True,
        "buffer_depth": 2, "rssi": -70}
    assert item["ts"] == sim.now


# -- lingering for a fuller batch (cloud.linger_seconds) ----------------------------------------

NOW = 1_800_000_000_000  # ms: the rows' creation time in the linger tests (the worker's clock is set from it)


def alarm_item(seq: int) -> str:
    return json.dumps({"kind": "alarm", "seq": seq})


def status_item() -> str:
    return json.dumps({"kind": "status", "station": "rack-red-1", "ts": NOW, "online": True, "buffer_depth": 0})


@pytest.fixture
def lingering(tmp_path):
    """A pusher with ``linger_seconds`` and a clock the test moves (``clock[0]``, seconds)."""
    made = []

    def make(linger: float, batch_items: int = 500, writer_alarms: bool = True,
             script: Callable[[dict], Answer] = ok):
        fake = FakeCloud(script)
        store = Store(tmp_path / f"gw{len(made)}.sqlite3")
        settings = CloudSettings(url=fake.url, token=TOKEN, batch_items=batch_items, linger_seconds=linger)
        clock = [NOW / 1000]
        pusher = CloudPusher(store.path, CloudClient(settings), settings, "ws-demo", lambda d: None,
                             CloudMetrics(CollectorRegistry()), lambda: store.cloud_added,
                             alarm_added=(lambda: store.cloud_alarm_id) if writer_alarms else (lambda: 0),
                             clock=lambda: int(clock[0] * 1000))
        made.append((fake, store, pusher))
        return fake, store, pusher, clock

    yield make
    close_all(made)


def add(store: Store, *items: tuple[str, bool], at: int = NOW) -> None:
    with store.transaction():
        for item, alarm in items:
            store.cloud_add(at, item, alarm=alarm)


def kinds(fake: FakeCloud) -> list[list[str]]:
    return [[i["kind"] for i in b["items"]] for b in fake.batches]


def test_events_and_status_wait_for_the_linger_then_go_in_one_batch(lingering):
    fake, store, pusher, clock = lingering(10)
    add(store, (event(0), False), (status_item(), False))
    clock[0] += 3
    add(store, (event(1), False), at=NOW + 3000)
    clock[0] += 6.9  # the oldest row is 9.9 s old
    delay = pusher.round()
    assert 0 < delay <= 0.2  # looks again at the poll interval, not only when the linger ends
    assert fake.batches == [] and pusher.metrics.oldest_age._value.get() == pytest.approx(9.9)
    clock[0] += 0.1
    assert pusher.round() == 0.0
    assert kinds(fake) == [["event", "status", "event"]]  # one request for all three
    assert seqs_left(store) == 0
    assert pusher.round() == 0.2  # empty: idle poll


def test_a_waiting_alarm_transition_sends_the_waiting_rows_at_once(lingering):
    fake, store, pusher, clock = lingering(10)
    add(store, (event(0), False), (status_item(), False))
    clock[0] += 1
    assert pusher.round() > 0 and fake.batches == []
    add(store, (alarm_item(1), True), at=NOW + 1000)
    assert pusher.round() == 0.0
    assert kinds(fake) == [["event", "status", "alarm"]]
    # the alarm went: the next events linger again
    add(store, (event(2), False), at=NOW + 1000)
    assert pusher.round() > 0 and len(fake.batches) == 1


def test_alarms_right_after_a_batch_wait_for_the_gap_and_go_together(lingering):
    """At most one alarm batch per ``ALARM_GAP``: a burst of alarm transitions goes several to a request."""
    fake, store, pusher, clock = lingering(10)
    add(store, (alarm_item(1), True))
    assert pusher.round() == 0.0 and kinds(fake) == [["alarm"]]  # the first goes at once
    add(store, (alarm_item(2), True), (alarm_item(3), True))
    wait = pusher.round()
    assert 0 < wait <= push.ALARM_GAP and len(fake.batches) == 1  # the next waits for the gap, not the linger
    clock[0] += wait + 0.002  # (the clock is read in whole ms)
    assert pusher.round() == 0.0
    assert kinds(fake) == [["alarm"], ["alarm", "alarm"]]
    add(store, (alarm_item(4), True))
    clock[0] -= 3600  # the gateway's clock set back an hour: the gap counts as passed, the alarm goes
    assert pusher.round() == 0.0 and len(fake.batches) == 3


def test_an_alarm_row_left_by_an_earlier_run_is_found_at_start(lingering):
    fake, store, first, _ = lingering(10)
    add(store, (event(0), False), (alarm_item(1), True), (event(2), False))
    # a new worker whose writer has committed no alarm row yet (as after a restart)
    pusher = CloudPusher(store.path, CloudClient(first.settings), first.settings, "ws-demo", lambda d: None,
                         CloudMetrics(CollectorRegistry()), lambda: 0, alarm_added=lambda: 0, clock=lambda: NOW / 1000 + 1)
    try:
        assert pusher.round() == 0.0
        assert kinds(fake) == [["event", "alarm", "event"]]
    finally:
        pusher.outbox.close()


def test_a_full_batch_goes_at_once_and_the_rest_lingers(lingering):
    fake, store, pusher, clock = lingering(10, batch_items=3)
    add(store, *[(event(i), False) for i in range(4)])
    clock[0] += 1
    assert pusher.round() == 0.0
    assert kinds(fake) == [["event"] * 3]
    assert pusher.round() > 0 and len(fake.batches) == 1  # one row, 1 s old: waits
    clock[0] += 9
    assert pusher.round() == 0.0
    assert [len(b["items"]) for b in fake.batches] == [3, 1]
    assert fake.batches[1]["batch"] == f"{pusher.outbox.epoch}-4-4-1"


def test_a_busy_cloud_makes_the_worker_linger_as_asked_and_alarms_still_go_at_once(lingering):
    asked: list[object] = [60]

    def busy(batch: dict) -> Answer:  # the cloud's back-pressure: "linger_seconds" in an accepted batch's answer
        doc = {"items": len(batch["items"]), **({"linger_seconds": asked[0]} if asked[0] is not None else {})}
        return 200, {}, json.dumps(doc).encode()

    fake, store, pusher, clock = lingering(10, script=busy)
    add(store, (alarm_item(1), True))
    assert pusher.round() == 0.0 and len(fake.batches) == 1  # the answer asks for 60 s
    add(store, (event(0), False))
    clock[0] += 30  # past its own 10 s, within the cloud's 60
    assert 0 < pusher.round() <= 0.2 and len(fake.batches) == 1
    add(store, (alarm_item(2), True), at=NOW + 30_000)
    assert pusher.round() == 0.0 and kinds(fake)[1] == ["event", "alarm"]  # an alarm still goes at once
    assert fake.alarm_marks == ["1", "1"]  # marked: the cloud serves batches with an alarm first
    asked[0] = None  # the cloud keeps up again: its next answer asks nothing
    add(store, (event(1), False), at=NOW + 30_000)
    clock[0] += 59.9
    assert pusher.round() > 0 and len(fake.batches) == 2
    clock[0] += 0.1
    assert pusher.round() == 0.0 and len(fake.batches) == 3  # the cloud's 60 s
    assert fake.alarm_marks[2] is None  # no alarm in it: not marked
    add(store, (event(2), False), at=int(clock[0] * 1000))
    clock[0] += 10
    assert pusher.round() == 0.0 and len(fake.batches) == 4  # its own 10 s again
    for wrong in ("60", True, -5, 0):  # not a positive number: ignored
        asked[0] = wrong
        add(store, (alarm_item(9), True), at=int(clock[0] * 1000))
        clock[0] += 1  # past the alarm gap after the batch before
        assert pusher.round() == 0.0
        add(store, (event(3), False), at=int(clock[0] * 1000))
        clock[0] += 10
        assert pusher.round() == 0.0, wrong
    asked[0] = 86_400  # held to ten minutes
    add(store, (alarm_item(10), True), at=int(clock[0] * 1000))
    clock[0] += 1
    assert pusher.round() == 0.0
    add(store, (event(4), False), at=int(clock[0] * 1000))
    clock[0] += 599.9
    assert pusher.round() > 0
    clock[0] += 0.1
    assert pusher.round() == 0.0


def test_linger_zero_sends_whatever_waits_at_once(lingering):
    fake, store, pusher, clock = lingering(0)
    add(store, (event(0), False))
    assert pusher.round() == 0.0
    add(store, (status_item(), False))
    assert pusher.round() == 0.0
    assert kinds(fake) == [["event"], ["status"]]


def seqs_left(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM cloud_outbox").fetchone()[0]


@pytest.mark.parametrize("value, expected", [(None, 30.0), (0, 0.0), (2.5, 2.5), (300, 300.0)])
def test_linger_seconds_default_and_range(value, expected):
    raw = {"url": "http://c", "token": TOKEN} | ({} if value is None else {"linger_seconds": value})
    assert parse(raw).linger_seconds == expected


@pytest.mark.parametrize("value, message", [
    (-1, "w.yaml: cloud.linger_seconds: must be between 0 and 300 seconds, got -1"),
    (301, "w.yaml: cloud.linger_seconds: must be between 0 and 300 seconds, got 301"),
    ("ten", "w.yaml: cloud.linger_seconds: must be a number of seconds, got 'ten'"),
    (True, "w.yaml: cloud.linger_seconds: must be a number of seconds, got True"),
])
def test_a_wrong_linger_is_refused_naming_file_field_and_reason(value, message):
    with pytest.raises(ConfigError) as err:
        parse({"url": "http://c", "token": TOKEN, "linger_seconds": value})
    assert message in str(err.value), str(err.value)
