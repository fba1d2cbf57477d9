"""Protocol v1 codec against the shared test vectors (the firmware uses the same file)."""

import json
from pathlib import Path

import pytest

from edge_gateway.errors import PayloadError
from edge_gateway.model.protocol import (
    StationEvent,
    Topic,
    decode_cycle,
    decode_event,
    decode_status,
    encode_cycle,
    encode_event,
    subscriptions,
)

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "protocol_v1.json").read_text("utf-8"))
NOW = VECTORS["now_ms"]


def _payload(vector: dict) -> bytes:
    if "payload_hex" in vector:
        return bytes.fromhex(vector["payload_hex"])
    return vector["payload"].encode("utf-8")


def _decode(vector: dict):
    topic = Topic.parse(vector["topic"])
    if topic.channel == "event":
        return decode_event(topic.station, _payload(vector))
    if topic.channel == "cycle":
        return decode_cycle(topic.station, _payload(vector))
    return decode_status(topic.station, _payload(vector))


@pytest.mark.parametrize("vector", [v for v in VECTORS["vectors"] if v["valid"]], ids=lambda v: v["name"])
def test_valid_vectors_decode(vector):
    decoded = _decode(vector)
    for key, value in vector.get("expect", {}).items():
        got = getattr(decoded, key)
        if key == "label":
            got = {k: v for k, v in vars(got).items() if v is not None}
        if isinstance(got, tuple):  # a cycle's samples
            got = list(got)
        assert got == value


@pytest.mark.parametrize("vector", [v for v in VECTORS["vectors"] if not v["valid"]], ids=lambda v: v["name"])
def test_invalid_vectors_are_rejected_with_their_reason(vector):
    with pytest.raises(PayloadError) as info:
        _decode(vector)
    assert info.value.reason == vector["reason"]
    assert info.value.detail


def test_the_vectors_hold_cycles_of_each_kind():
    cycles = [v for v in VECTORS["vectors"] if v["topic"].endswith("/cycle")]
    assert sum(v["valid"] for v in cycles) >= 4
    assert {v["reason"] for v in cycles if not v["valid"]} >= {
        "bad_json", "unsupported_version", "missing_field", "bad_type", "bad_value", "too_large"}


def test_cycle_vectors_round_trip():
    """A valid cycle vector decoded and encoded again by the gateway is the same message."""
    for vector in VECTORS["vectors"]:
        if vector["valid"] and vector["topic"].endswith("/cycle"):
            cycle = _decode(vector)
            assert decode_cycle(cycle.station, encode_cycle(cycle)) == cycle, vector["name"]


def test_event_round_trip():
    event = StationEvent(station="rack-red-1", boot="00ff00ff", seq=42, ts=NOW, tag="04A224E2C65E80", action="placed")
    assert decode_event("rack-red-1", encode_event(event)) == event


@pytest.mark.parametrize("text, expected", [
    ("sebiao/ws-demo/rack-red-1/event", Topic(workshop="ws-demo", channel="event", station="rack-red-1")),
    ("sebiao/ws-demo/sink-1/status", Topic(workshop="ws-demo", channel="status", station="sink-1")),
    ("sebiao/ws-demo/sink-1/cmd", Topic(workshop="ws-demo", channel="cmd", station="sink-1")),
    ("sebiao/ws-demo/alarm", Topic(workshop="ws-demo", channel="alarm")),
])
def test_topics_parse_and_print(text, expected):
    assert Topic.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", [
    "sebiao/ws-demo/rack-red-1/other", "other/ws-demo/rack-red-1/event", "sebiao/WS/rack/event",
    "sebiao/ws-demo/Rack_1/event", "sebiao/ws-demo/rack/event/extra", "sebiao/ws-demo",
])
def test_bad_topics_are_refused(text):
    with pytest.raises(PayloadError) as info:
        Topic.parse(text)
    assert info.value.reason == "bad_topic"


def test_subscriptions_cover_event_and_status_only():
    assert subscriptions("ws-demo") == ("sebiao/ws-demo/+/event", "sebiao/ws-demo/+/status", "sebiao/ws-demo/+/cycle")
