"""A publisher as fast as a socket: MQTT 3.1.1 QoS 1 PUBLISH packets written back to back, PUBACKs counted.

A paho client spends tens of microseconds of Python on every message; a
station account in the wrong hands does not. This one encodes the packets in
advance and writes them in large chunks while a thread counts the broker's
PUBACKs, so the broker, not the test, sets the pace::

    with Flood(broker.host, broker.port, *broker.account("rack-red-1")) as flood:
        flood.send(event_topic(ws, "rack-red-1"), payloads)
        flood.wait_acked(len(payloads))
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterable


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id: str, username: str, password: str, keepalive: int = 60) -> bytes:
    body = _string("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", keepalive)  # 3.1.1, user, password, clean
    body += _string(client_id) + _string(username) + _string(password)
    return b"\x10" + _length(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    body = _string(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + _length(len(body)) + body  # PUBLISH, QoS 1


class Flood:
    def __init__(self, host: str, port: int, username: str, password: str, client_id: str | None = None) -> None:
        """``client_id``: the station's own by default (its user name), as a station's firmware sends it."""
        client_id = username if client_id is None else client_id
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id, username, password))
        connack = self.sock.recv(4)
        if connack[:2] != b"\x20\x02" or connack[3] != 0:
            raise ConnectionError(f"CONNACK refused: {connack!r}")
        self.sock.settimeout(None)
        self.acked = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        pending = 0
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            pending += len(data)
            self.acked += pending // 4  # the broker sends nothing but 4-byte PUBACKs to a publisher
            pending %= 4

    def send(self, topic: str, payloads: Iterable[bytes]) -> None:
        chunk = bytearray()
        for i, payload in enumerate(payloads):
            chunk += publish_packet(topic, payload, i % 65535 + 1)
            if len(chunk) > 256 * 1024:
                self.sock.sendall(chunk)
                chunk = bytearray()
        if chunk:
            self.sock.sendall(chunk)

    def wait_acked(self, count: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.acked < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.acked

    def close(self) -> None:
        try:
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "Flood":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
