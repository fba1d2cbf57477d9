"""A small MQTT 3.1.1 client with umqtt.simple's semantics and bounded waits.

Like umqtt.simple (micropython-lib, MIT licence, (c) Paul Sokolovsky): one
socket, no threads, no hidden retry loops, set_callback/check_msg/ping. Unlike
it, every blocking call has a timeout, and a QoS 1 publish returns at once
with its packet id: the caller (link.py) decides how long to wait for the
PUBACK and when to reconnect. The socket comes from the board
(board.connect_tcp), so the same client runs on an ESP32, on CPython, and
against an in-memory broker in the tests.
"""

from . import mqtt_codec as codec

EAGAIN = 11
ETIMEDOUT = 110
MP_ETIMEDOUT = 116
TIMEOUT_ERRNOS = (EAGAIN, ETIMEDOUT, MP_ETIMEDOUT)


class MQTTError(Exception):
    pass


def is_timeout(exc):
    name = type(exc).__name__
    if name in ("timeout", "TimeoutError", "BlockingIOError"):
        return True
    return bool(exc.args) and exc.args[0] in TIMEOUT_ERRNOS


class MQTTClient:
    def __init__(self, client_id, connect_tcp, clock, host, port=1883, user="", password="",
                 keepalive=60, timeout_ms=3000):
        self.client_id = client_id
        self.connect_tcp = connect_tcp
        self.clock = clock
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.timeout_ms = timeout_ms
        self.sock = None
        self.cb = None
        self.lw = None
        self.pid = 0
        self.rx = bytearray()
        self.acked = []  # packet ids acknowledged since the caller last looked
        self.last_tx = 0
        self.ping_sent = None

    def set_callback(self, f):
        self.cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.lw = (topic, msg, retain, qos)

    def _send(self, data):
        if self.sock is None:
            raise MQTTError("not connected")
        self.sock.settimeout(self.timeout_ms / 1000)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self._drop()
            raise MQTTError("send failed: %r" % (exc,))
        self.last_tx = self.clock.ticks_ms()

    def _drop(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.rx = bytearray()
        self.ping_sent = None

    def connect(self, clean_session=True):
        """Open the socket and wait (bounded) for CONNACK; raises MQTTError."""
        self._drop()
        try:
            self.sock = self.connect_tcp(self.host, self.port, self.timeout_ms)
        except OSError as exc:
            self.sock = None
            raise MQTTError("connect to %s:%d failed: %r" % (self.host, self.port, exc))
        self._send(codec.connect(self.client_id, self.keepalive, self.user, self.password,
                                 self.lw, clean_session))
        ptype, _, body = self._wait_for((codec.CONNACK,))
        try:
            return codec.decode_connack(body)
        except codec.ProtocolError as exc:
            self._drop()
            raise MQTTError(str(exc))

    def disconnect(self):
        if self.sock is not None:
            try:
                self._send(codec.disconnect())
            except MQTTError:
                pass
        self._drop()

    def close(self):
        self._drop()

    @property
    def connected(self):
        return self.sock is not None

    def next_pid(self):
        self.pid = self.pid % 65535 + 1
        return self.pid

    def publish(self, topic, msg, retain=False, qos=0, pid=None, dup=False):
        """Sends and returns the packet id (0 for QoS 0) without waiting for PUBACK."""
        if qos and pid is None:
            pid = self.next_pid()
        self._send(codec.publish(topic, msg, qos, retain, pid or 0, dup))
        return pid or 0

    def subscribe(self, topic, qos=1):
        pid = self.next_pid()
        self._send(codec.subscribe(pid, topic, qos))
        ptype, _, body = self._wait_for((codec.SUBACK,))
        if codec.decode_pid(body) != pid or body[2:3] == b"\x80":
            raise MQTTError("subscription to %s refused" % topic)

    def ping(self):
        self._send(codec.pingreq())
        self.ping_sent = self.clock.ticks_ms()

    def keepalive_due(self):
        """Our own ping at half the keepalive; True when the broker stopped answering."""
        if self.sock is None:
            return False
        if self.ping_sent is not None:
            return self.clock.since(self.ping_sent) > self.timeout_ms
        if self.clock.since(self.last_tx) >= self.keepalive * 500:
            self.ping()
        return False

    def _recv(self, wait_ms):
        """Read what is there (waiting at most wait_ms); False when nothing came."""
        if self.sock is None:
            raise MQTTError("not connected")
        self.sock.settimeout(wait_ms / 1000)
        try:
            data = self.sock.recv(512)
        except OSError as exc:
            if is_timeout(exc):
                return False
            self._drop()
            raise MQTTError("receive failed: %r" % (exc,))
        if not data:
            self._drop()
            raise MQTTError("broker closed the connection")
        self.rx.extend(data)
        return True

    def _next_packet(self):
        try:
            got = codec.parse(self.rx)
        except codec.ProtocolError as exc:
            self._drop()
            raise MQTTError(str(exc))
        if got is None:
            return None
        ptype, flags, body, used = got
        self.rx = self.rx[used:]
        return ptype, flags, body

    def _handle(self, ptype, flags, body):
        """Deal with packets that need no caller; returns True if consumed."""
        if ptype == codec.PUBLISH:
            topic, msg, qos, pid, retain = codec.decode_publish(flags, body)
            if qos == 1:
                self._send(codec.puback(pid))
            if self.cb:
                self.cb(topic, msg)
            return True
        if ptype == codec.PUBACK:
            self.acked.append(codec.decode_pid(body))
            return True
        if ptype == codec.PINGRESP:
            self.ping_sent = None
            return True
        return False

    def _wait_for(self, types):
        start = self.clock.ticks_ms()
        while True:
            if self.sock is None:
                raise MQTTError("connection lost")
            pkt = self._next_packet()
            if pkt is not None:
                if pkt[0] in types:
                    return pkt
                self._handle(*pkt)
                continue
            left = self.timeout_ms - self.clock.since(start)
            if left <= 0:
                self._drop()
                raise MQTTError("no answer from the broker in %d ms" % self.timeout_ms)
            self._recv(min(left, self.timeout_ms))

    def check_msg(self, wait_ms=0):
        """Handle whatever arrived (callbacks, PUBACKs, PINGRESP); never blocks longer
        than wait_ms. Raises MQTTError when the connection is gone."""
        if self.sock is None:
            raise MQTTError("not connected")
        got = self._recv(wait_ms)
        while got:
            pkt = self._next_packet()
            if pkt is None:
                break
            self._handle(*pkt)
        return got

    def wait_msg(self):
        return self.check_msg(self.timeout_ms)
