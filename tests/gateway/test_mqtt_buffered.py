"""The buffered paho client: large reads served as paho's small ones, nothing lost or stuck."""

from __future__ import annotations

import threading
import time

from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from edge_gateway.intake.mqtt_buffered import BufferedClient


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
