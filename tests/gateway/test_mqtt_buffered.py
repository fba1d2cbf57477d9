"""The buffered paho client: large reads served as paho's small ones, nothing lost or stuck."""

from __future__ import annotations

import threading
import time

import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from edge_gateway.intake.mqtt_buffered import BufferedClient, Publish, _publish_at


class FakeSock:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.calls = 0

    def close(self):  # paho closes its socket when the client is collected
        self.chunks = []

    def recv(self, n):
        self.calls += 1
        if not self.chunks:
            raise BlockingIOError()
        data = self.chunks.pop(0)
        if len(data) > n:
            self.chunks.insert(0, data[n:])
            data = data[:n]
        return data


def _client(sock):
    c = BufferedClient(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv311)
    c._sock = sock
    return c


def test_small_reads_are_served_from_one_large_recv():
    sock = FakeSock([b"abcdefghij"])
    c = _client(sock)
    assert [c._sock_recv(1), c._sock_recv(1), c._sock_recv(3), c._sock_recv(100)] == [b"a", b"b", b"cde", b"fghij"]
    assert sock.calls == 1 and c.buffered == 0


def test_a_new_socket_drops_what_the_old_one_left():
    c = _client(FakeSock([b"abcdef"]))
    assert c._sock_recv(2) == b"ab"
    c._sock = FakeSock([b"xyz"])
    assert c._sock_recv(2) == b"xy"


def test_many_publishes_in_one_chunk_are_all_delivered(mosquitto):
    """Against real Mosquitto: a burst of QoS 1 messages arrives whole and in order."""
    broker = mosquitto()
    got, done = [], threading.Event()
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="buffered", protocol=MQTTProtocolVersion.MQTTv311)
    c.username_pw_set(*broker.account("gateway"))

    def on_message(_c, _u, msg):
        got.append(msg.payload)
        if len(got) == 2000:
            done.set()

    subscribed = threading.Event()
    c.on_message = on_message
    c.on_subscribe = lambda *_: subscribed.set()
    c.connect(broker.host, broker.port)
    c.subscribe("sebiao/ws-demo/+/event", qos=1)
    c.loop_start()
    try:
        assert subscribed.wait(10)
        with broker.client("rack-red-1") as station:
            infos = [station.client.publish("sebiao/ws-demo/rack-red-1/event", str(i).encode(), qos=1)
                     for i in range(2000)]
            for info in infos:
                info.wait_for_publish(10)
        assert done.wait(20), f"only {len(got)} of 2000 arrived"
        assert got == [str(i).encode() for i in range(2000)]
    finally:
        c.disconnect()
        c.loop_stop()


def _session(broker, got):
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="acks", clean_session=False,
                       protocol=MQTTProtocolVersion.MQTTv311, manual_ack=True)
    c.username_pw_set(*broker.account("gateway"))
    subscribed = threading.Event()
    c.on_message = lambda _c, _u, msg: got.append((int(msg.payload), msg.mid))
    c.on_subscribe = lambda *_: subscribed.set()
    c.connect(broker.host, broker.port)
    c.subscribe("sebiao/ws-demo/+/event", qos=1)
    c.loop_start()
    assert subscribed.wait(10)
    return c


def test_ack_all_acknowledges_every_message_it_names_and_no_other(mosquitto):
    """Against real Mosquitto: what ack_all acknowledged in one write is never sent again; the 20
    messages left unacknowledged come again to the same session after a reconnect."""
    broker = mosquitto()
    got: list[tuple[int, int]] = []
    c = _session(broker, got)
    acked = 0
    try:
        with broker.client("rack-red-1") as station:
            infos = [station.client.publish("sebiao/ws-demo/rack-red-1/event", str(i).encode(), qos=1)
                     for i in range(500)]
            for info in infos:
                info.wait_for_publish(10)
        deadline = time.monotonic() + 20
        while (acked < 480 or len(got) < 500) and time.monotonic() < deadline:  # acknowledge as they come
            ready = [mid for n, mid in got[acked:] if n < 480]
            if ready:
                assert c.ack_all(ready) == MQTTErrorCode.MQTT_ERR_SUCCESS
                acked += len(ready)
            time.sleep(0.01)
        assert sorted(n for n, _ in got) == list(range(500)) and acked == 480
        time.sleep(0.3)  # the network thread writes what was queued
    finally:
        c.disconnect()
        c.loop_stop()
    again: list[tuple[int, int]] = []
    c = _session(broker, again)
    try:
        deadline = time.monotonic() + 10
        while len(again) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # anything acknowledged that came again would be here by now
        assert sorted(n for n, _ in again) == list(range(480, 500))
    finally:
        c.disconnect()
        c.loop_stop()


def _publish(topic: bytes, payload: bytes, qos: int = 1, mid: int = 7) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"") + payload
    length, size = bytearray(), len(body)
    while True:
        length.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    return bytes([0x30 | qos << 1]) + bytes(length) + body


@pytest.mark.parametrize("data, expected", [
    (_publish(b"a/b", b"x"), (Publish("a/b", b"x", 7, 1), 10)),
    (_publish(b"a/b", b"x", qos=0), (Publish("a/b", b"x", 0, 0), 8)),
    (_publish(b"t", b"p" * 200), (Publish("t", b"p" * 200, 7, 1), 208)),  # a two-byte remaining length
    (_publish(b"a/b", b"x")[:-1], None),  # not whole yet: paho waits for the rest
    (_publish(b"a/b", b"x")[:1], None),
    (_publish(b"a/b", b"x", qos=2), None),  # QoS 2 needs paho's PUBREC/PUBREL bookkeeping
    (b"\xd0\x00", None),  # PINGRESP
    (_publish(b"\xff\xfe", b"x"), None),  # a topic that is not UTF-8: paho's to judge
    (b"\x32\xff\xff\xff\xff\x01", None),  # a remaining length of five bytes is malformed
    (b"\x32\x03\x00\x09ab", None),  # the topic runs past the packet
])
def test_publish_at_takes_only_whole_qos0_and_qos1_publishes(data, expected):
    assert _publish_at(data, 0) == expected


def test_the_fast_path_and_paho_deliver_a_mixed_stream_in_order(mosquitto):
    """Against real Mosquitto: small messages and ones larger than one read (cut across reads, so paho
    takes them) arrive once each and in order, through ``on_publishes`` and ``on_message`` together.
    (QoS 1 only: the broker may drop QoS 0 for a busy subscriber and orders each QoS apart.)"""
    broker = mosquitto()
    got, done = [], threading.Event()
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="fast", protocol=MQTTProtocolVersion.MQTTv311)
    c.username_pw_set(*broker.account("gateway"))

    def arrived(payload: bytes) -> None:
        got.append(payload)
        if len(got) == 3000:
            done.set()

    fast: list[int] = []
    c.on_publishes = lambda batch: (fast.append(len(batch)), [arrived(p.payload) for p in batch])
    c.on_message = lambda _c, _u, msg: arrived(msg.payload)
    subscribed = threading.Event()
    c.on_subscribe = lambda *_: subscribed.set()
    c.connect(broker.host, broker.port)
    c.subscribe("sebiao/ws-demo/+/event", qos=1)
    c.loop_start()
    # every 500th as large as the broker takes (the gateway's max_packet_size): cut across 64 KB reads
    sent = [(str(i).encode() * 4000)[:12000] if i % 500 == 0 else str(i).encode() for i in range(3000)]
    try:
        assert subscribed.wait(10)
        with broker.client("rack-red-1") as station:
            infos = [station.client.publish("sebiao/ws-demo/rack-red-1/event", p, qos=1) for p in sent]
            for info in infos:
                info.wait_for_publish(10)
        assert done.wait(20), f"only {len(got)} of 3000 arrived"
        assert got == sent
        assert sum(fast) > 1000  # most came the fast way
    finally:
        c.disconnect()
        c.loop_stop()


def test_a_packet_cut_across_reads_sends_only_itself_through_paho_while_messages_are_in_flight():
    """paho's ``loop_read`` reads one packet per message it has in flight; with the gateway's own alarms
    waiting for their PUBACK that was hundreds of packets past the fast path after every cut packet."""
    first = _publish(b"a/b", b"cut", mid=1)
    rest = [_publish(b"a/b", str(n).encode(), mid=n) for n in range(2, 202)]
    sock = FakeSock([first[:4], first[4:] + b"".join(rest)])
    c = _client(sock)
    for mid in range(1, 301):  # 300 of its own QoS 1 messages not yet acknowledged by the broker
        c._out_messages[mid] = None
    fast, slow = [], []
    c.on_publishes = lambda batch: fast.extend(p.payload for p in batch)
    c.on_message = lambda _c, _u, msg: slow.append(msg.payload)
    c._manual_ack = True  # nothing to write back on this socket
    for _ in range(3):
        assert c.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert slow == [b"cut"]
    assert fast == [str(n).encode() for n in range(2, 202)]
