"""The gateway's cloud outbox bound and metrics: ``cloud.max_rows``/``warn_percent``, only status rows
dropped past the bound (events and alarm transitions never), the ``outbox_backlog`` alarm with subject
``cloud``, and the figures the gateway's /metrics serves; the push worker runs against a scripted cloud
with the outbox in a real SQLite store."""

from __future__ import annotations

import json
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from scripted_http import T0, TOKEN, FakeCloud, ok
from servers import free_port

from edge_gateway.core.metrics import CloudMetrics
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.cloud import push
from edge_gateway.sinks.cloud.client import CloudClient
from edge_gateway.sinks.cloud.config import CloudSettings, parse_cloud
from edge_gateway.sinks.cloud.push import SUBJECT, CloudPusher
from edge_gateway.sinks.health import OUTBOX_BACKLOG
from edge_gateway.store.writer import Store
from sebiao_common.clock import now_ms
from sebiao_common.errors import ConfigError
from sebiao_common.yamlfile import Node

BASE = {"url": "http://c", "token": TOKEN}


@pytest.mark.parametrize("raw, expected", [
    (BASE, (1_000_000, 80, 800_000)),
    ({**BASE, "max_rows": 5000, "warn_percent": 50}, (5000, 50, 2500)),
])
def test_the_bound_keys_and_their_defaults(raw, expected):
    s = parse_cloud(Node("w.yaml", "cloud", raw))
    assert (s.max_rows, s.warn_percent, s.warn_rows) == expected


@pytest.mark.parametrize("raw, message", [
    ({**BASE, "max_rows": 99}, "w.yaml: cloud.max_rows: must be at least 100"),
    ({**BASE, "max_rows": 200_000_000}, "w.yaml: cloud.max_rows: must be at most 100000000"),
    ({**BASE, "max_rows": "many"}, "w.yaml: cloud.max_rows: must be a whole number, got a string"),
    ({**BASE, "warn_percent": 0}, "w.yaml: cloud.warn_percent: must be at least 1"),
    ({**BASE, "warn_percent": 100}, "w.yaml: cloud.warn_percent: must be at most 99"),
    ({**BASE, "retry_max_seconds": 0}, "w.yaml: cloud.retry_max_seconds: must be between 0.1 and 3600 seconds"),
])
def test_a_wrong_bound_is_refused_naming_file_field_and_reason(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_cloud(Node("w.yaml", "cloud", raw))
    assert message in str(err.value), str(err.value)


def item(kind: str, n: int) -> str:
    """A row of each kind; the push worker only looks at ``kind``."""
    if kind == "status":
        return json.dumps({"kind": "status", "station": "rack-red-1", "ts": T0 + n, "online": True,
                           "buffer_depth": n})
    if kind == "alarm":
        return json.dumps({"kind": "alarm", "alarm": {"id": n}, "transition": {"seq": n}})
    return json.dumps({"kind": "event", "station": "rack-red-1", "boot": "1a2b3c4d", "seq": n, "ts": T0 + n,
                       "tag": "04A224E2C65E80", "action": "removed", "tool": "KN-R-01", "note": None})


KINDS = ["status", "status", "event", "status", "alarm"]  # 3 of every 5 rows are status


def rows(store: Store) -> list[tuple[str, int]]:
    out = []
    for (text,) in store.conn.execute("SELECT item FROM cloud_outbox ORDER BY id"):
        doc = json.loads(text)
        out.append((doc["kind"], doc.get("seq", doc.get("buffer_depth", doc.get("alarm", {}).get("id")))))
    return out


def sample(registry: CollectorRegistry, name: str, labels: dict | None = None) -> float:
    value = registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


@pytest.fixture
def bounded(tmp_path):
    made = []

    def make(count: int, max_rows: int, warn_percent: int, url: str):
        store = Store(tmp_path / f"gw{len(made)}.sqlite3")
        with store.transaction():
            for n in range(count):
                store.cloud_add(T0 + n, item(KINDS[n % len(KINDS)], n))
        settings = CloudSettings(url=url, token=TOKEN, batch_items=50, retry_max_seconds=0.2,
                                 max_rows=max_rows, warn_percent=warn_percent)
        registry, alarms = CollectorRegistry(), []
        pusher = CloudPusher(store.path, CloudClient(settings), settings, "ws-demo", alarms.append,
                             CloudMetrics(registry), lambda: store.cloud_added, clock=now_ms)
        made.append((store, pusher))
        return store, pusher, registry, alarms

    yield make
    for store, pusher in made:
        pusher.outbox.close()
        store.close()


def test_past_the_bound_only_the_oldest_status_rows_go_and_the_backlog_alarm_is_raised(bounded):
    store, pusher, registry, alarms = bounded(150, max_rows=100, warn_percent=80,
                                              url=f"http://127.0.0.1:{free_port()}")  # the cloud is away
    before = rows(store)
    assert pusher.round() > 0  # no answer: back-off
    after = rows(store)
    assert len(after) == 100
    gone = [r for r in before if r not in after]
    assert {k for k, _ in gone} == {"status"}
    assert gone == [r for r in before if r[0] == "status"][:50]  # oldest first
    assert [r for r in after if r[0] != "status"] == [r for r in before if r[0] != "status"]  # evidence kept
    assert pusher.dropped == 50 and pusher.depth() == 100
    assert store.conn.execute("SELECT value FROM meta WHERE key='cloud_dropped'").fetchone()[0] == "50"
    raised = [a for a in alarms if isinstance(a, Raise)]
    assert [(a.type, a.subject, a.severity) for a in raised] == [(OUTBOX_BACKLOG, SUBJECT, "major")]
    assert "100" in raised[0].text_zh and "events and alarm transitions never" in raised[0].text_en
    assert sample(registry, "sebiao_cloud_dropped_items_total") == 50
    assert sample(registry, "sebiao_cloud_outbox_rows") == 100
    assert sample(registry, "sebiao_cloud_batches_total", {"answer": "retry"}) == 1
    assert sample(registry, "sebiao_cloud_outbox_oldest_age_seconds") > 0
    pusher.round()
    assert len([a for a in alarms if isinstance(a, Raise)]) == 1  # raised once, not at every round


def test_when_only_evidence_is_left_nothing_more_is_dropped(bounded):
    store, pusher, registry, _ = bounded(0, max_rows=100, warn_percent=80, url=f"http://127.0.0.1:{free_port()}")
    with store.transaction():
        for n in range(120):
            store.cloud_add(T0 + n, item("event" if n % 2 else "alarm", n))
    pusher.round()
    assert len(rows(store)) == 120 and pusher.dropped == 0  # over the bound, and every row kept
    assert pusher.depth() == 120


def test_the_backlog_drains_clears_the_alarm_and_is_counted(bounded):
    cloud = FakeCloud(ok)
    try:
        store, pusher, registry, alarms = bounded(90, max_rows=100, warn_percent=80, url=cloud.url)
        assert pusher.round() == 0.0  # 90 rows >= 80: raised, then 50 sent
        backlog = [a for a in alarms if a.type == OUTBOX_BACKLOG]
        assert [type(a) for a in backlog] == [Raise]
        wait = pusher.round()  # 40 rows < 3/4 of 80: cleared; their alarm rows wait for the gap after a batch
        assert wait <= push.ALARM_GAP
        time.sleep(wait)
        assert pusher.round() == 0.0  # then the rest sent
        assert pusher.round() > 0  # idle
        assert pusher.depth() == 0 and rows(store) == []
        backlog = [a for a in alarms if a.type == OUTBOX_BACKLOG]
        assert [(type(a), a.subject) for a in backlog] == [(Raise, SUBJECT), (Clear, SUBJECT)]
        assert sample(registry, "sebiao_cloud_pushed_items_total") == 90
        assert sample(registry, "sebiao_cloud_batches_total", {"answer": "ok"}) == 2
        assert sample(registry, "sebiao_cloud_outbox_oldest_age_seconds") == 0
        assert [len(b["items"]) for b in cloud.batches] == [50, 40]
    finally:
        cloud.close()


def test_the_depth_follows_rows_the_writer_adds_while_the_worker_runs(bounded):
    cloud = FakeCloud(lambda b: (400, {}, json.dumps({"error": "bad", "path": "items[0].ts"}).encode())
                      if b["items"][0].get("seq") == 2 else ok(b))
    try:
        store, pusher, registry, _ = bounded(5, max_rows=100, warn_percent=80, url=cloud.url)
        with store.transaction():
            store.cloud_add(T0, item("event", 2))
        assert pusher.depth() == 6
        pusher.round()
        assert pusher.depth() == len(rows(store))
        assert sample(registry, "sebiao_cloud_dead_items_total") == pusher.dead
    finally:
        cloud.close()


def test_the_figures_are_in_the_metrics_text(bounded):
    _, pusher, registry, _ = bounded(10, max_rows=100, warn_percent=80, url=f"http://127.0.0.1:{free_port()}")
    pusher.round()
    text = generate_latest(registry).decode()  # what the gateway's /metrics answers
    for name in ("sebiao_cloud_outbox_rows 10.0", "sebiao_cloud_outbox_oldest_age_seconds",
                 "sebiao_cloud_pushed_items_total 0.0", 'sebiao_cloud_batches_total{answer="retry"} 1.0',
                 "sebiao_cloud_dead_items_total 0.0", "sebiao_cloud_dropped_items_total 0.0"):
        assert name in text, name
