"""A burst of QoS 1 events from several stations at once, each acknowledgement recorded.

For tests and ``benchmarks/embedded_burst.py``: every station is a paho client
in a thread of its own, publishing as fast as the broker takes them (up to
1000 in flight): one tool taken from its rack and put back, over and over
(``stations_mqtt.STREAM``: each return is an unwashed return, counted on one
alarm). ``acked_now()`` gives the ``(station, boot, seq)`` of every event the
broker has acknowledged so far.
"""

from __future__ import annotations

import socket
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_gateway.model.protocol import StationEvent, encode_event, event_topic

BOOT = "b0b0b0b0"


class Burst:
    def __init__(self, host: str, port: int, workshop: str, accounts: dict[str, tuple[str, str]],
                 tags: dict[str, str], per_station: int, inflight: int = 1000) -> None:
        self.host, self.port, self.workshop = host, port, workshop
        self.accounts = accounts  # station id -> (username, password)
        self.tags = tags  # station id -> the tag of the tool taken and returned there
        self.per_station = per_station
        self.inflight = inflight
        # per station: the mids paho reported acknowledged, and the seq each mid carried. Never hold
        # a lock of ours around publish(): paho calls on_publish holding its own locks.
        self._acked_mids: dict[str, set[int]] = {station: set() for station in accounts}
        self._seq_of: dict[str, dict[int, int]] = {station: {} for station in accounts}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(station,), name=f"burst-{station}", daemon=True)
                         for station in accounts]
        self.started_at = self.finished_at = 0.0

    @property
    def sent(self) -> set[tuple[str, str, int]]:
        return {(station, BOOT, seq) for station in self.accounts for seq in range(self.per_station)}

    def start(self) -> "Burst":
        self.started_at = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def wait(self, timeout: float) -> bool:
        """True when every station saw every event acknowledged within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.finished_at = time.monotonic()
        return not any(thread.is_alive() for thread in self._threads) and len(self.acked_now()) == len(self.sent)

    def acked_now(self) -> set[tuple[str, str, int]]:
        acked = set()
        for station, mids in self._acked_mids.items():
            with self._lock:
                done = list(mids)
            seq_of = self._seq_of[station]
            acked |= {(station, BOOT, seq_of[mid]) for mid in done if mid in seq_of}
        return acked

    def _run(self, station: str) -> None:
        seq_of, acked = self._seq_of[station], self._acked_mids[station]

        def on_publish(_client, _userdata, mid, _reason, _props) -> None:
            with self._lock:
                acked.add(mid)

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"burst-{station}", protocol=mqtt.MQTTv311)
        client.username_pw_set(*self.accounts[station])
        client.max_inflight_messages_set(self.inflight)
        client.max_queued_messages_set(0)
        client.on_publish = on_publish
        client.connect(self.host, self.port)
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.loop_start()
        topic = event_topic(self.workshop, station)
        infos = []
        for seq in range(self.per_station):
            event = StationEvent(station=station, boot=BOOT, seq=seq, ts=int(time.time() * 1000),
                                 tag=self.tags[station], action="removed" if seq % 2 == 0 else "placed")
            info = client.publish(topic, encode_event(event), qos=1)
            seq_of[info.mid] = seq  # mids do not wrap within one burst (at most 65535 per station)
            infos.append(info)
        for info in infos:
            info.wait_for_publish(600)
        client.disconnect()
        client.loop_stop()
