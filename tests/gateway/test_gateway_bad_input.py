"""Bad input over real MQTT: every kind is counted by reason, kept as a dead letter, and skipped.

Then hypothesis throws thousands of generated payloads at the running gateway,
and a valid event sent after them must still be processed.

Each message is published by the station its topic names (one connection per
account: the gateway's is the gateway's). The broker also has accounts for two
stations the gateway's workshop does not know, the source of unknown stations.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
import yaml
from gateway_proc import start_gateway
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import EXAMPLE_CONFIG, example_config

from edge_gateway.model.protocol import Topic, event_topic, status_topic
from edge_gateway.model.workshop import parse_config

pytestmark = pytest.mark.slow
WS = "ws-demo"
STRANGERS = ("rack-purple-9", "nobody")  # accounts on the broker, stations unknown to the gateway


class Publisher:
    """Publishes each message as the station its topic names (a station writes only its own topics)."""

    def __init__(self, broker, stations) -> None:
        self.clients = {station: broker.client(station) for station in stations}

    def client_for(self, topic: str):
        return self.clients[Topic.parse(topic).station].client

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.clients[Topic.parse(topic).station].publish(topic, payload, qos=qos)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text("utf-8"))
    data["stations"] += [{"id": station, "kind": "rack", "zone": "red"} for station in STRANGERS]
    broker = mosquitto_module(parse_config(data))
    gateway = start_gateway(tmp_path_factory.mktemp("gw"), broker)
    publisher = Publisher(broker, [s["id"] for s in data["stations"]])
    yield broker, gateway, publisher
    publisher.close()
    gateway.stop()


def _handled(gateway) -> float:
    """Messages the pipeline has taken, whatever became of them."""
    text = gateway.get("/metrics").text.splitlines()
    return sum(float(line.split()[-1]) for line in text if line.startswith((
        "sebiao_events_rejected_total{", "sebiao_events_total ", "sebiao_status_messages_total ",
        "sebiao_events_duplicate_total ")))


def _event(**fields):
    body = {"v": 1, "boot": "0badcafe", "seq": 1, "ts": int(time.time() * 1000),
            "tag": "04A224E2C65E80", "action": "removed"}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


RACK = event_topic(WS, "rack-red-1")
STATUS = status_topic(WS, "rack-red-1")
CASES = [
    ("malformed JSON", RACK, b"{\"v\":1,", "bad_json"),
    ("not UTF-8", RACK, b"\xff\xfe", "bad_json"),
    ("wrong type", RACK, _event(seq="1"), "bad_type"),
    ("missing field", RACK, _event(tag=None), "missing_field"),
    ("unknown station", event_topic(WS, "rack-purple-9"), _event(), "unknown_station"),
    ("unknown protocol version", RACK, _event(v=9), "unsupported_version"),
    ("payload over 4 KiB (the broker passes up to 5 KiB)", RACK, _event(pad="x" * 4200), "too_large"),
    # a clock ahead is not bad input (tests/gateway/test_station_clock.py); a ts no clock can give is
    ("timestamp beyond 2^53 - 1", RACK, _event(ts=2**53), "bad_value"),
    ("bad status", status_topic(WS, "rack-red-1"), b'{"v":1,"online":"yes"}', "bad_type"),
    # not JSON, though Python's json reads it: stored, it would break the console and the cloud
    ("NaN in a status", STATUS, b'{"v":1,"online":true,"rssi":NaN}', "bad_json"),
    ("Infinity as an event's seq", RACK, _event(seq=None)[:-1] + b',"seq":Infinity}', "bad_json"),
    ("1e400 in a status", STATUS, b'{"v":1,"online":true,"heap_free":1e400}', "bad_json"),
    ("a lone surrogate in a label", RACK, _event(label={"tool": "KN-R-01\ud800"}), "bad_json"),
    ("a status nested 40 deep", STATUS, b'{"v":1,"online":true,"x":' + b"[" * 40 + b"]" * 40 + b"}", "bad_json"),
    # a status' health fields are kept and forwarded to the cloud: bounded (docs/protocol.md)
    ("a health field over 1 KiB", STATUS, json.dumps({"v": 1, "online": True, "fw": "x" * 1100}).encode(),
     "too_large"),
    ("33 health fields", STATUS, json.dumps({"v": 1, "online": True, **{f"f{n}": n for n in range(33)}}).encode(),
     "too_large"),
    ("a health field nested 5 deep", STATUS, b'{"v":1,"online":true,"reader":[[[[[1]]]]]}', "too_large"),
    # once stopped the pipeline: SQLite's INTEGER is 64-bit
    ("a buffer depth beyond 64 bits", STATUS, b'{"v":1,"online":true,"buffer_depth":18446744073709551616}',
     "bad_value"),
]


@pytest.mark.parametrize("name, topic, payload, reason", CASES, ids=[c[0] for c in CASES])
def test_each_bad_message_is_counted_kept_and_skipped(rig, name, topic, payload, reason):
    _, gateway, publisher = rig
    before = gateway.metric("sebiao_events_rejected_total", f'reason="{reason}"')
    payload = payload() if callable(payload) else payload
    publisher.publish(topic, payload, qos=1)
    gateway.wait_for(lambda: gateway.metric("sebiao_events_rejected_total", f'reason="{reason}"') == before + 1,
                     what=f"{reason} counted")
    conn = sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    row = conn.execute("SELECT topic, payload, reason, detail FROM dead_letters ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    assert row[0] == topic and bytes(row[1]) == payload and row[2] == reason and row[3]


def test_a_replay_with_other_content_is_refused(rig):
    _, gateway, publisher = rig
    first = _event(boot="feedf00d", seq=77, action="removed")
    publisher.publish(RACK, first, qos=1)
    publisher.publish(RACK, first, qos=1)  # a plain redelivery: not an error
    publisher.publish(RACK, _event(boot="feedf00d", seq=77, action="placed"), qos=1)
    gateway.wait_for(lambda: gateway.metric("sebiao_events_rejected_total", 'reason="replay"') == 1,
                     what="replay counted")
    assert gateway.metric("sebiao_events_duplicate_total") >= 1


def test_an_alarm_id_beyond_sqlites_integer_is_a_404_and_the_pipeline_runs_on(rig):
    _, gateway, _ = rig
    huge = 2**64  # once overflowed the store's query on the pipeline thread, which then stopped
    assert gateway.get(f"/api/alarms/{huge}").status_code == 404
    assert gateway.post(f"/api/alarms/{huge}/ack", {"by": "王师傅"}).status_code == 404
    assert gateway.post(f"/api/alarms/{huge}/clear", {"by": "王师傅", "comment": "x"}).status_code == 404
    assert gateway.get("/healthz").json()["pipeline"] == "running"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
EVENTISH = st.fixed_dictionaries({}, optional={
    "v": st.sampled_from([1, 1, 1, 2, "1", None, 1.0]),
    "boot": st.sampled_from(["0badcafe", "zz", "", 5]) | st.text(max_size=10),
    "seq": st.integers(-5, 2**64) | JSON_VALUES,
    "ts": st.sampled_from([0, int(time.time() * 1000), 2**70, -1]) | JSON_VALUES,
    "tag": st.sampled_from(["04A224E2C65E80", "zz", "04a224e2c65e80", ""]) | st.text(max_size=22),
    "action": st.sampled_from(["placed", "removed", "PLACED", ""]) | JSON_VALUES,
    "online": JSON_VALUES,
    "buffer_depth": st.integers(-5, 2**70) | JSON_VALUES,
    "label": JSON_VALUES,
})
PAYLOADS = (st.binary(max_size=300) | st.binary(min_size=4090, max_size=4200)
            | EVENTISH.map(lambda d: json.dumps(d).encode())
            | JSON_VALUES.map(lambda d: json.dumps(d).encode()))
TOPICS = st.sampled_from([event_topic(WS, s.id) for s in example_config().stations]
                         + [status_topic(WS, "rack-red-1"), event_topic(WS, "nobody"),
                            f"sebiao/{WS}/rack-red-1/cmd"])


def test_thousands_of_generated_payloads_never_stop_the_pipeline(rig):
    _, gateway, publisher = rig
    sent = []

    @settings(max_examples=2500, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(topic=TOPICS, payload=PAYLOADS)
    def throw(topic, payload):
        publisher.client_for(topic).publish(topic, payload, qos=1)
        sent.append(topic)

    before = gateway.metric("sebiao_status_messages_total") + gateway.metric("sebiao_events_total")
    handled = _handled(gateway)
    throw()
    assert len(sent) >= 2000
    reaching = sum(1 for topic in sent if not topic.endswith("/cmd"))  # a station may not write its cmd
    gateway.wait_for(lambda: _handled(gateway) >= handled + reaching, timeout=60, what="every message handled")
    marker = _event(boot="5afe5afe", seq=1, tag="04E3E3E3E3E380", action="removed")
    publisher.publish(event_topic(WS, "rack-white-1"), marker, qos=1)

    def processed():
        tools = {t["id"]: t for t in gateway.get("/api/tools").json()}
        return tools["CT-W-01"]["state"] == "out"

    gateway.wait_for(processed, timeout=60, what="the valid event after the fuzz")
    assert gateway.get("/healthz").json()["pipeline"] == "running"
    rejected = sum(float(line.split()[-1]) for line in gateway.get("/metrics").text.splitlines()
                   if line.startswith("sebiao_events_rejected_total{"))
    accepted = gateway.metric("sebiao_status_messages_total") + gateway.metric("sebiao_events_total") - before
    assert rejected > 1000
    assert gateway.metric("sebiao_events_rejected_total", 'reason="internal_error"') == 0
    assert accepted + rejected + gateway.metric("sebiao_events_duplicate_total") >= 1000
