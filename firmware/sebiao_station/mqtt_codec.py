"""MQTT 3.1.1 packets as plain functions, apart from the socket.

Only what a station needs: CONNECT (with a last will), PUBLISH QoS 0/1,
PUBACK, SUBSCRIBE, PINGREQ, DISCONNECT out; CONNACK, PUBLISH, PUBACK, SUBACK,
PINGRESP in. Written after umqtt.simple's codec (micropython-lib, MIT) but as
pure functions so they are tested without a network.
"""

CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBSCRIBE = 8
SUBACK = 9
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "client id rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


class ProtocolError(ValueError):
    pass


def encode_len(n):
    """Remaining Length: 7 bits a byte, continuation bit 0x80."""
    if n < 0 or n > 268435455:
        raise ValueError("remaining length out of range")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _str(value):
    if isinstance(value, str):
        value = value.encode()
    return len(value).to_bytes(2, "big") + value


def _packet(first, body):
    return bytes([first]) + encode_len(len(body)) + body


def connect(client_id, keepalive=60, username="", password="", will=None, clean=True):
    """will = (topic, payload, retain, qos) or None."""
    flags = 0x02 if clean else 0
    payload = _str(client_id)
    if will:
        topic, msg, retain, qos = will
        flags |= 0x04 | (qos & 3) << 3 | (0x20 if retain else 0)
        payload += _str(topic) + _str(msg)
    if username:
        flags |= 0x80
        payload += _str(username)
        if password:
            flags |= 0x40
            payload += _str(password)
    body = b"\x00\x04MQTT\x04" + bytes([flags]) + int(keepalive).to_bytes(2, "big") + payload
    return _packet(0x10, body)


def publish(topic, payload, qos=0, retain=False, pid=0, dup=False):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (qos & 3) << 1 | (1 if retain else 0) | (0x08 if dup else 0)
    body = _str(topic)
    if qos:
        body += int(pid).to_bytes(2, "big")
    return _packet(first, body + payload)


def puback(pid):
    return b"\x40\x02" + int(pid).to_bytes(2, "big")


def subscribe(pid, topic, qos=1):
    return _packet(0x82, int(pid).to_bytes(2, "big") + _str(topic) + bytes([qos]))


def pingreq():
    return b"\xc0\x00"


def disconnect():
    return b"\xe0\x00"


def parse(buf):
    """(type, flags, body, used) for the first whole packet in buf, or None."""
    if len(buf) < 2:
        return None
    n = 0
    shift = 0
    i = 1
    while True:
        if i >= len(buf):
            return None
        byte = buf[i]
        n |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            break
        shift += 7
        if shift > 21:
            raise ProtocolError("malformed remaining length")
    if len(buf) < i + n:
        return None
    return buf[0] >> 4, buf[0] & 0x0F, bytes(buf[i:i + n]), i + n


def decode_publish(flags, body):
    """(topic, payload, qos, pid, retain)."""
    n = (body[0] << 8) | body[1]
    topic = bytes(body[2:2 + n]).decode()
    i = 2 + n
    qos = (flags >> 1) & 3
    pid = 0
    if qos:
        pid = (body[i] << 8) | body[i + 1]
        i += 2
    return topic, body[i:], qos, pid, bool(flags & 1)


def decode_connack(body):
    """Raises ProtocolError unless the broker accepted us; returns session present."""
    if len(body) != 2:
        raise ProtocolError("bad CONNACK")
    if body[1]:
        raise ProtocolError("broker refused: " + CONNACK_REASONS.get(body[1], "code %d" % body[1]))
    return bool(body[0] & 1)


def decode_pid(body):
    return (body[0] << 8) | body[1]
