import json

import fwsupport
from sebiao_station import protocol

VECTORS = fwsupport.REPO + "/tests/vectors/protocol_v1.json"

TABLE = (
    (("1a2b3c4d", 7, 1764142800123, "04A224E2C65E80", "removed", None),
     b'{"v":1,"boot":"1a2b3c4d","seq":7,"ts":1764142800123,"tag":"04A224E2C65E80","action":"removed"}'),
    (("1a2b3c4d", 0, 0, "5A3C9E01", "placed", None),
     b'{"v":1,"boot":"1a2b3c4d","seq":0,"ts":0,"tag":"5A3C9E01","action":"placed"}'),
    (("1a2b3c4d", 7, 1764142800123, "04A224E2C65E80", "removed", {"tool": "KN-R-01", "kind": "knife", "color": "red"}),
     b'{"v":1,"boot":"1a2b3c4d","seq":7,"ts":1764142800123,"tag":"04A224E2C65E80","action":"removed",'
     b'"label":{"tool":"KN-R-01","kind":"knife","color":"red"}}'),
    (("1a2b3c4d", 1, 0, "5A3C9E01", "placed", {"tool": "BR-G-02"}),
     b'{"v":1,"boot":"1a2b3c4d","seq":1,"ts":0,"tag":"5A3C9E01","action":"placed","label":{"tool":"BR-G-02"}}'),
)


def test_event_payload_bytes():
    for args, expected in TABLE:
        assert protocol.event_payload(*args) == expected, args


def test_topics():
    assert protocol.topic("ws-demo", "rack-red-1", "event") == "sebiao/ws-demo/rack-red-1/event"
    assert protocol.topic("ws-demo", "sink-white-1", "cmd") == "sebiao/ws-demo/sink-white-1/cmd"


def test_status_and_will():
    assert protocol.WILL == b'{"v":1,"online":false}'
    got = json.loads(protocol.status_payload(True, {"fw": "0.1.0", "rssi": None, "reader": {"ok": True}}))
    assert got == {"v": 1, "online": True, "fw": "0.1.0", "rssi": None, "reader": {"ok": True}}


def test_commands():
    cases = (
        (b'{"v":1,"cmd":"feedback","pattern":"misuse","alarm":"a1"}', "feedback"),
        (b'{"v":1,"cmd":"provision","tool":"KN-R-01"}', "provision"),
        (b'{"v":2,"cmd":"feedback"}', None),
        (b'{"cmd":"feedback"}', None),
        (b'{"v":1}', None),
        (b'[1]', None),
        (b'nope', None),
        (b'\xff\xfe', None),
    )
    for payload, expected in cases:
        got = protocol.decode_command(payload)
        assert (got and got["cmd"]) == expected or (got is None and expected is None), payload


def test_shared_vectors_round_trip():
    """Every valid event vector, re-encoded by the firmware, means the same thing;
    the canonical ones (upper-case tag, lower-case boot, no extra field) are byte-identical."""
    data = fwsupport.read_json(VECTORS)
    seen = 0
    for vec in data["vectors"]:
        if not vec["valid"] or not vec["topic"].endswith("/event"):
            continue
        sent = json.loads(vec["payload"])
        mine = protocol.event_payload(sent["boot"], sent["seq"], sent["ts"], sent["tag"],
                                      sent["action"], sent.get("label"))
        again = json.loads(mine)
        for key in again:
            assert again[key] == sent[key], (vec["name"], key)
        canonical = (sent["tag"] == sent["tag"].upper() and sent["boot"] == sent["boot"].lower()
                     and set(sent) <= {"v", "boot", "seq", "ts", "tag", "action", "label"})
        if canonical:
            assert mine == vec["payload"].encode(), vec["name"]
        seen += 1
    assert seen >= 5


CYCLE_FIELDS = ("boot", "seq", "ts", "start", "interval_s", "temps_dc")


def _written_as_is(sent):
    """Whether the encoder writes these fields unchanged: integers (not booleans) and a text boot."""
    numbers = [sent[k] for k in CYCLE_FIELDS[1:5]] + list(sent["temps_dc"])
    return type(sent["boot"]) is str and all(type(n) is int for n in numbers)


def test_shared_cycle_vectors_are_what_the_station_sends():
    """Every valid cycle vector, re-encoded by the firmware, means the same thing; the canonical ones (boot in
    lower case) are byte-identical. Every invalid one whose fields the firmware writes as they are is exactly
    what the firmware would send for them: the encoder does not smooth over what the gateway refuses (the
    gateway's decoder tests refuse these same bytes, for the vector's reason)."""
    data = fwsupport.read_json(VECTORS)
    valid = invalid = 0
    for vec in data["vectors"]:
        if not vec["topic"].endswith("/cycle"):
            continue
        try:
            sent = json.loads(vec["payload"])
            args = [sent[k] for k in CYCLE_FIELDS]
        except (ValueError, KeyError, TypeError):
            assert not vec["valid"], vec["name"]
            continue  # not JSON, or a field missing: nothing for the encoder
        if vec["valid"]:
            mine = protocol.cycle_payload(*args)
            assert json.loads(mine) == sent, vec["name"]
            if sent["boot"] == sent["boot"].lower():
                assert mine == vec["payload"].encode(), vec["name"]
            valid += 1
        elif sent.get("v") == 1 and len(vec["payload"]) <= 12 * 1024 and _written_as_is(sent):
            assert protocol.cycle_payload(*args) == vec["payload"].encode(), vec["name"]
            invalid += 1
    assert valid >= 4 and invalid >= 5, (valid, invalid)


def test_status_vector_fields_are_what_the_station_sends():
    data = fwsupport.read_json(VECTORS)
    for vec in data["vectors"]:
        if vec["valid"] and vec["topic"].endswith("/status") and "fw" in vec["payload"]:
            keys = set(json.loads(vec["payload"])) - {"v", "online"}
            from sebiao_station.app import Station
            board = fwsupport.TestBoard()
            station = Station(board, fwsupport.station_config())
            assert keys <= set(station.health()), keys - set(station.health())
            return
    raise AssertionError("no status vector")
