"""The real gateway process against real Mosquitto: alarms, feedback, HTTP API, restarts."""

from __future__ import annotations

import json
import time

import pytest
from gateway_proc import online_workshop
from servers import example_config
from stations_mqtt import ScriptedStation

from edge_gateway.model.protocol import alarm_topic, cmd_topic

pytestmark = pytest.mark.slow
WS = "ws-demo"


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    broker = mosquitto_module()
    workshop = online_workshop(broker, tmp_path_factory.mktemp("gw"), {"fw": "test", "buffer_depth": 0},
                               rules={"overdue_after_minutes": 1})
    with workshop as (gateway, stations), broker.client("monitor") as watcher:
        watcher.subscribe(alarm_topic(WS))
        watcher.subscribe(f"sebiao/{WS}/+/cmd")
        yield broker, gateway, stations, watcher


def _next_alarm(watcher, type_, subject_tool=None, timeout=5.0):
    def match(msg):
        if msg.topic != alarm_topic(WS):
            return False
        body = json.loads(msg.payload)
        return body["type"] == type_ and (subject_tool is None or body["tool"] == subject_tool)
    return json.loads(watcher.receive_until(match, timeout)[-1].payload)


CASES = [
    ("cross_zone", "critical", [("rack-red-1", "KN-R-01", "removed"), ("rack-white-1", "KN-R-01", "placed")],
     "KN-R-01", "rack-white-1"),
    ("cross_zone_wash", "major", [("rack-white-1", "KN-W-01", "removed"), ("sink-red-1", "KN-W-01", "placed")],
     "KN-W-01", "sink-red-1"),
    ("unwashed_return", "major", [("rack-green-1", "KN-G-01", "removed"), ("rack-green-1", "KN-G-01", "placed")],
     "KN-G-01", "rack-green-1"),
    ("misplaced", "warning", [("rack-red-2", "CB-R-01", "removed"), ("sink-red-1", "CB-R-01", "placed"),
                              ("sink-red-1", "CB-R-01", "removed"), ("rack-red-1", "CB-R-01", "placed")],
     "CB-R-01", "rack-red-1"),
    ("unknown_tag", "warning", [("rack-yellow-1", "04ABCDEF123456", "placed")], None, "rack-yellow-1"),
]


@pytest.mark.parametrize("type_, severity, steps, tool, station", CASES, ids=[c[0] for c in CASES])
def test_misuse_raises_its_alarm_on_mqtt_with_feedback(rig, type_, severity, steps, tool, station):
    _, gateway, stations, watcher = rig
    watcher.drain()
    for station_id, what, action in steps:
        stations[station_id].event(what, action)
    alarm = _next_alarm(watcher, type_, tool)
    assert alarm["severity"] == severity
    assert alarm["state"] == "active" and alarm["acked"] is False
    assert alarm["station"] == station
    assert alarm["text"]["zh"] and alarm["text"]["en"]
    if type_ != "unknown_tag":
        assert alarm["tool"] == tool
    feedback = watcher.expect(cmd_topic(WS, station))
    assert json.loads(feedback.payload)["pattern"] == "misuse"
    listed = gateway.get("/api/alarms").json()
    assert alarm["id"] in [a["id"] for a in listed]


def test_overdue_from_a_late_taking(rig):
    _, gateway, stations, watcher = rig
    watcher.drain()
    stations["rack-white-1"].event("CT-W-01", "removed", ts=int(time.time() * 1000) - 61_000)
    alarm = _next_alarm(watcher, "overdue", "CT-W-01", timeout=5)
    assert alarm["severity"] == "minor"


def test_last_will_raises_station_offline(rig):
    broker, gateway, stations, watcher = rig
    config = example_config()
    watcher.drain()
    stations["sink-white-1"].client.drop()  # the broker publishes the retained last will
    alarm = _next_alarm(watcher, "station_offline")
    assert alarm["station"] == "sink-white-1"
    stations["sink-white-1"] = ScriptedStation(broker, config, "sink-white-1")  # back online
    stations["sink-white-1"].status(True, buffer_depth=0)
    cleared = _next_alarm(watcher, "station_offline")
    assert cleared["state"] == "cleared" and cleared["id"] == alarm["id"]


def test_ack_and_clear_through_the_http_api(rig):
    _, gateway, stations, watcher = rig
    watcher.drain()
    stations["rack-green-1"].event("CB-G-01", "removed")
    stations["rack-white-1"].event("CB-G-01", "placed")
    alarm = _next_alarm(watcher, "cross_zone", "CB-G-01")
    path = f"/api/alarms/{alarm['id']}"
    assert gateway.post(path + "/ack", {"by": "李四"}, token=None).status_code == 401
    assert gateway.post(path + "/ack", {"by": "李四"}, token="wrong-token-xxxxxxxx").status_code == 401
    acked = gateway.post(path + "/ack", {"by": "李四", "comment": "收到"})
    assert acked.status_code == 200 and acked.json()["acked"] is True
    assert gateway.post(path + "/ack", {"by": "李四"}).status_code == 409
    refused = gateway.post(path + "/clear", {"by": "李四"})
    assert refused.status_code == 422 and "corrective-action" in refused.json()["error"]
    cleared = gateway.post(path + "/clear", {"by": "李四", "comment": "砧板已回绿区并消毒"})
    assert cleared.status_code == 200 and cleared.json()["state"] == "cleared"
    published = _next_alarm(watcher, "cross_zone", "CB-G-01")
    assert published["acked"] is True  # the ack, then the clear, were published
    assert alarm["id"] not in [a["id"] for a in gateway.get("/api/alarms?state=active").json()]
    detail = gateway.get(path).json()
    assert [h["action"] for h in detail["history"]] == ["raised", "acknowledged", "cleared"]
    assert [(e["station"], e["action"]) for e in detail["evidence"]][-2:] == [
        ("rack-green-1", "removed"), ("rack-white-1", "placed")]
    assert gateway.post("/api/alarms/999999/ack", {"by": "x"}).status_code == 404
    assert gateway.post(path + "/ack", None).status_code == 400
    assert gateway.get("/api/alarms?state=bogus").status_code == 400


def test_tools_api_follows_the_tools(rig):
    _, gateway, stations, watcher = rig
    stations["rack-yellow-1"].event("SC-Y-01", "removed")
    stations["sink-yellow-1"].event("SC-Y-01", "placed")

    def at_sink():
        tools = {t["id"]: t for t in gateway.get("/api/tools").json()}
        return tools["SC-Y-01"]["state"] == "at_sink" and tools["SC-Y-01"]

    tool = gateway.wait_for(at_sink, what="SC-Y-01 at the sink")
    assert tool["station"] == "sink-yellow-1" and tool["color"] == "yellow" and tool["kind"] == "scissors"
    assert tool["since"] > 0
    assert len(gateway.get("/api/tools").json()) == len(example_config().tools)


def test_healthz_and_metrics(rig):
    _, gateway, _, _ = rig
    health = gateway.get("/healthz").json()
    assert health == {**health, "status": "ok", "pipeline": "running", "broker": "connected"}
    text = gateway.get("/metrics").text
    for name in ("sebiao_events_total", "sebiao_events_rejected_total", "sebiao_alarms_total",
                 "sebiao_commit_seconds_bucket", "sebiao_queue_depth"):
        assert name in text
    assert gateway.metric("sebiao_alarms_total", 'type="cross_zone"') >= 1
