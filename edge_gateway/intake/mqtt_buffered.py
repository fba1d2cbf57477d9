"""A paho-mqtt client that reads the socket in large chunks.

paho reads each packet with several small ``recv`` calls (the fixed header a
byte at a time, then the rest) and handles one packet per ``select``. Every
``recv`` gives the GIL away, and in the gateway the MQTT thread must then win it
back from the busy pipeline thread: at a few thousand messages per second that
wait, not the work, limits the intake. This client takes whatever the socket
has in one ``recv`` and serves paho's small reads from that buffer, and
``loop_read`` goes on while buffered bytes remain, so no packet waits for a
``select`` that would not wake for data already read.

With ``on_publishes`` set, the QoS 0 and 1 PUBLISH packets already whole in
the buffer are parsed here in one pass and handed over as one list, instead of
one at a time through paho's packet state machine, message object, topic
matcher and callback locks (about 10 µs each, a fifth of a message's cost in
the gateway). Anything else, a packet cut at the buffer's end included, goes
to paho as before, in order.

``ack_all`` sends many PUBACKs as one queued write: paho's ``ack`` queues each
PUBACK alone, wakes the network thread for it and sends it with its own
``send``, which at thousands of messages a second costs as much as reading them.

It overrides paho's private ``_sock_recv`` and queues with its private
``_packet_queue`` (a PUBACK needs no bookkeeping after it is written);
``pyproject.toml`` pins paho-mqtt below 3, and
``tests/gateway/test_mqtt_buffered.py`` checks the behaviour.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

CHUNK = 65536
_PUBACK = struct.Struct("!BBH")  # fixed header 0x40, remaining length 2, the message id


class Publish(NamedTuple):
    """One received PUBLISH (MQTT 3.1.1): ``mid`` is 0 at QoS 0."""

    topic: str
    payload: bytes
    mid: int
    qos: int


class BufferedClient(mqtt.Client):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: object = None
        # the fast path's receiver (MQTT 3.1.1 only: a v5 PUBLISH carries properties it does not read)
        self.on_publishes: Callable[[list[Publish]], None] | None = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: nothing of the old one is valid
            self._rsock, self._rbuf, self._rpos = self._sock, b"", 0
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(max(bufsize, CHUNK))
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, 0
        chunk = self._rbuf[self._rpos:self._rpos + bufsize]
        self._rpos += len(chunk)
        return chunk

    @property
    def buffered(self) -> int:
        return len(self._rbuf) - self._rpos if self._rsock is self._sock else 0

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        fast = self.on_publishes is not None
        if fast and not self.buffered and self._in_packet["command"] == 0:
            got = self._prefetch()  # so that the first packet of a read takes the fast path too
            if got is None:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            if not got:
                return super().loop_read(max_packets)  # the connection's end or error: paho's to handle
        while True:
            if fast and self._in_packet["command"] == 0:  # paho is between packets
                self._take_publishes()
                if not self.buffered:
                    return MQTTErrorCode.MQTT_ERR_SUCCESS
            rc = self._read_one() if fast else super().loop_read(max_packets)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not self.buffered or self._sock is None:
                return rc

    def _read_one(self) -> MQTTErrorCode:
        """One packet through paho, as its ``loop_read`` reads each. paho's reads as many packets as it has
        messages in flight (the gateway's own alarms at QoS 1 waiting for their PUBACK: hundreds in a burst),
        and every one of them would miss the fast path."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        rc = self._packet_read()
        if rc > 0:
            return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS  # read, or MQTT_ERR_AGAIN: the packet's rest is not here yet

    def _prefetch(self) -> bool | None:
        """One read into the buffer: True with bytes, None when there are none yet, False at the
        connection's end or an error (paho's next read meets it again and handles it)."""
        try:
            data = super()._sock_recv(CHUNK)
        except BlockingIOError:
            return None
        except OSError:
            return False
        if not data:
            return False
        self._rsock, self._rbuf, self._rpos = self._sock, data, 0
        return True

    def _take_publishes(self) -> None:
        buf, pos = self._rbuf, self._rpos
        batch: list[Publish] = []
        while (packet := _publish_at(buf, pos)) is not None:
            publish, pos = packet
            batch.append(publish)
        if batch:
            self._rpos = pos
            with self._msgtime_mutex:  # the keepalive's clock, as paho's own reads set it
                self._last_bytes_received = mqtt.time_func()
            self.on_publishes(batch)  # type: ignore[misc]
            if not self._manual_ack:  # as paho: acknowledged once its callback has returned
                self.ack_all([p.mid for p in batch if p.qos == 1])

    def ack_all(self, mids: list[int]) -> MQTTErrorCode:
        """PUBACK each QoS 1 message id (``manual_ack``), all in one write, in order."""
        if not mids:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
        return self._packet_queue(mqtt.PUBACK, packet, 0, 0)


def _publish_at(buf: bytes, pos: int) -> tuple[Publish, int] | None:
    """The QoS 0 or 1 PUBLISH starting at ``pos`` and where the next packet starts; None for any other packet,
    one not whole in ``buf``, or one paho should judge (a malformed length, a topic not UTF-8)."""
    end = len(buf)
    if pos >= end or buf[pos] & 0xF0 != 0x30 or buf[pos] & 0x06 == 0x06:
        return None
    qos = (buf[pos] >> 1) & 3
    if qos == 2:
        return None
    length, shift, i = 0, 0, pos + 1
    while True:
        if i >= end or shift > 21:
            return None
        byte = buf[i]
        length |= (byte & 0x7F) << shift
        shift, i = shift + 7, i + 1
        if not byte & 0x80:
            break
    stop = i + length
    if stop > end or length < 2:
        return None
    topic_end = i + 2 + int.from_bytes(buf[i:i + 2], "big")
    start = topic_end + (2 if qos else 0)
    if start > stop:
        return None
    try:
        topic = buf[i + 2:topic_end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    mid = int.from_bytes(buf[topic_end:start], "big") if qos else 0
    return Publish(topic, buf[start:stop], mid, qos), stop
