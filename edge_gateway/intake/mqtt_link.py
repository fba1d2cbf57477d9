"""The gateway's MQTT connection (paho-mqtt 2.x, callback API VERSION2).

- A fixed client id and a persistent session (MQTT 3.1.1 ``clean_session=False``,
  which Mosquitto and the embedded amqtt broker both keep): while the gateway is
  down the broker queues the stations' QoS 1 events for it.
- Manual acknowledgement: a PUBACK goes out only after the pipeline committed the
  message. Acks are tied to the connection they arrived on; after a reconnect the
  broker redelivers whatever was not acknowledged, and the pipeline recognises it.
- After losing the broker it tries again after 1 s, then every 2 s (a doubling
  delay kept it away for seconds after the broker was back).
- TCP_NODELAY on the socket, so small PUBACKs and alarms are not held back by
  Nagle's algorithm (a 40 ms stall with delayed ACKs).
- A rate per station (``guard.py``, ``rates.py``): what a station sends beyond
  it is acknowledged at once and dropped, and the station's topics are shut out
  at the broker for a while, so it cannot fill the broker's queue for the gateway.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from typing import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_gateway.core.metrics import Metrics
from edge_gateway.core.pipeline import Inbound
from edge_gateway.errors import BrokerError
from edge_gateway.intake.guard import DROPPED, StationGuard
from edge_gateway.intake.mqtt_buffered import BufferedClient, Publish
from edge_gateway.model.workshop import BrokerSettings
from sebiao_common.clock import Clock

log = logging.getLogger(__name__)

# QoS 1 messages handed to paho at once. paho keeps each message it holds as a message object with a
# Condition and a queued packet (about 2 KB); a burst with many misuses queued thousands of alarms and
# feedback commands there, a fifth of the gateway's memory. The rest wait here as (topic, payload, retain).
WINDOW = 200


class MqttLink:
    def __init__(self, settings: BrokerSettings, client_id: str, subscriptions: tuple[str, ...],
                 deliver: Callable[[Inbound], None], metrics: Metrics,
                 clock: Clock, guard: StationGuard | None = None, away_seconds: float = 0.0) -> None:
        """``guard``: each station's rate (None: no limit); ``away_seconds``: how long the gateway was away
        before this start (what the broker kept for it comes at once)."""
        self.guard = guard
        self._away_since = time.monotonic() - away_seconds
        self.settings = settings
        self.subscriptions = subscriptions
        self.deliver = deliver
        self.metrics = metrics
        self.clock = clock
        self.connected = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._out_lock = threading.Lock()
        self._waiting: deque[tuple[str, bytes, bool]] = deque()
        self._in_paho = 0  # our QoS 1 messages paho holds (sent or queued, not yet acknowledged)
        self._feeding = False
        client = BufferedClient(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                             protocol=MQTTProtocolVersion.MQTTv311, manual_ack=True)
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            client.tls_set()
        # One client to the workshop's broker: trying again every 2 s at most costs nothing, while a
        # doubling delay up to 30 s left it away for seconds after the broker was back, and the stations'
        # buffered misuses (already sent, queued for its session) waited for it, their feedback too
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.max_queued_messages_set(0)  # outgoing alarms wait in memory while the broker is away
        client.max_inflight_messages_set(100)
        client.on_socket_open = self._on_socket_open
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publishes = self._on_publishes  # the PUBLISH packets read in one pass (mqtt_buffered.py)
        client.on_publish = self._on_published
        self.client = client

    def start(self, wait: float | None = 10.0) -> None:
        """Connect in the background; with ``wait``, fail if the broker refuses us."""
        try:
            self.client.connect_async(self.settings.host, self.settings.port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise BrokerError(f"{self.settings.url}: {exc}") from exc
        self.client.loop_start()
        if wait and not self.connected.wait(wait) and self.last_error and "authori" in self.last_error:
            self.stop()
            raise BrokerError(f"{self.settings.url}: the broker refused the gateway: {self.last_error}")

    def stop(self) -> None:
        if self.guard is not None:
            self.guard.stop()
        self.client.disconnect()
        self.client.loop_stop()

    # -- used by the pipeline --------------------------------------------------

    def ack(self, mid: int, qos: int, generation: int | None = None) -> None:
        with self._lock:
            if generation is not None and generation != self._generation:
                return  # that connection is gone; the broker will redeliver
            self.client.ack(mid, qos)

    def ack_all(self, mids: list[int], generation: int) -> None:
        """A committed batch's QoS 1 acknowledgements, in one write (paho would wake its thread and write
        once per PUBACK: a third of the intake's cost at thousands a second)."""
        with self._lock:
            if generation == self._generation:
                self.client.ack_all(mids)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """At QoS 1, in order; at most ``WINDOW`` are in paho's hands at once."""
        with self._out_lock:
            self._waiting.append((topic, payload, retain))
        self._feed()

    @property
    def waiting(self) -> int:
        """Messages not yet handed to paho."""
        return len(self._waiting)

    def _feed(self) -> None:
        # One thread feeds at a time, so the order holds; paho's lock is never taken while ours is held
        # (paho calls on_publish holding its own: the other order would deadlock).
        with self._out_lock:
            if self._feeding:
                return  # the feeding thread sees what was just added before it stops
            self._feeding = True
        try:
            while True:
                with self._out_lock:
                    if not self._waiting or self._in_paho >= WINDOW:
                        self._feeding = False
                        return
                    topic, payload, retain = self._waiting.popleft()
                    self._in_paho += 1
                self.client.publish(topic, payload, qos=1, retain=retain)
        except BaseException:
            with self._out_lock:
                self._feeding = False
            raise

    def _on_published(self, client, userdata, mid, reason_code, properties) -> None:
        with self._out_lock:
            self._in_paho = max(0, self._in_paho - 1)
        self._feed()

    @property
    def generation(self) -> int:
        return self._generation

    # -- paho callbacks (network thread) ----------------------------------------

    def _on_socket_open(self, client, userdata, sock) -> None:
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_error = str(reason_code)
            log.error("broker %s refused the connection: %s", self.settings.url, reason_code)
            return
        self.last_error = None
        if self.guard is None:
            client.subscribe([(topic, 1) for topic in self.subscriptions])
        else:
            if flags.session_present:  # what the broker kept comes at once
                self.guard.rates.allow_backlog(time.monotonic() - self._away_since)
            self.guard.connected(client)
        self.metrics.broker_connected.set(1)
        self.connected.set()
        log.info("connected to %s (session present: %s)", self.settings.url, flags.session_present)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._away_since = time.monotonic()
        with self._lock:
            self._generation += 1
        self.connected.clear()
        self.metrics.broker_connected.set(0)
        if reason_code.is_failure:
            log.warning("lost the broker %s: %s; reconnecting", self.settings.url, reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        self._on_publishes([Publish(message.topic, message.payload, message.mid, message.qos)])

    def _on_publishes(self, batch: list[Publish]) -> None:
        now, generation, guard = self.clock(), self._generation, self.guard
        for topic, payload, mid, qos in batch:
            limited = None if guard is None else guard.check(topic, mid, qos)
            if limited != DROPPED:
                self.deliver(Inbound(topic=topic, payload=payload, mid=mid, qos=qos, received_at=now,
                                     generation=generation, limited=limited))
