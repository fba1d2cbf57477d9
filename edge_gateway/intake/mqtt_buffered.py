"""A paho-mqtt client that reads the socket in large chunks.

paho reads each packet with several small ``recv`` calls (the fixed header a
byte at a time, then the rest) and handles one packet per ``select``. Every
``recv`` gives the GIL away, and in the gateway the MQTT thread must then win it
back from the busy pipeline thread: at a few thousand messages per second that
wait, not the work, limits the intake. This client takes whatever the socket
has in one ``recv`` and serves paho's small reads from that buffer, and
``loop_read`` goes on while buffered bytes remain, so no packet waits for a
``select`` that would not wake for data already read.

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

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

CHUNK = 65536
_PUBACK = struct.Struct("!BBH")  # fixed header 0x40, remaining length 2, the message id


class BufferedClient(mqtt.Client):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: object = None

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
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self.buffered and self._sock is not None:
            rc = super().loop_read(max_packets)
        return rc

    def ack_all(self, mids: list[int]) -> MQTTErrorCode:
        """PUBACK each QoS 1 message id (``manual_ack``), all in one write, in order."""
        if not mids:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
        return self._packet_queue(mqtt.PUBACK, packet, 0, 0)
