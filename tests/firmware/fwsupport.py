"""Shared helpers for the firmware tests; runs under CPython (pytest) and under
MicroPython (tests/firmware/wasm/run.mjs). Plain functions and classes only."""

import json
import os
import sys

MICROPYTHON = sys.implementation.name == "micropython"
if MICROPYTHON:  # the wasm runner lays the repository out under /repo
    REPO = "/repo"
else:
    REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FIRMWARE = REPO + "/firmware"
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

from sebiao_sim.bus import SimPin  # noqa: E402
from sebiao_station.board import Board  # noqa: E402
from sebiao_station.clock import FakeClock  # noqa: E402

_counter = [0]


def tempdir():
    if not MICROPYTHON:
        import tempfile
        return tempfile.mkdtemp(prefix="sebiao-fw-")
    _counter[0] += 1
    path = "/tmp/fw%d" % _counter[0]
    try:
        os.mkdir("/tmp")
    except OSError:
        pass
    rmtree(path)
    os.mkdir(path)
    return path


def rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        if os.stat(p)[0] & 0x4000:
            rmtree(p)
        else:
            os.remove(p)
    os.rmdir(path)


def read_json(path):
    import json
    with open(path) as f:
        return json.load(f)


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


# ---- an in-memory MQTT broker, parsed independently of the firmware's codec

def _varint(data, i):
    n = 0
    shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, i
        shift += 7


def _mqtt_str(data, i):
    n = (data[i] << 8) | data[i + 1]
    return bytes(data[i + 2:i + 2 + n]), i + 2 + n


class FakeSocket:
    def __init__(self, broker):
        self.broker = broker
        self.inbox = bytearray()
        self.rx = bytearray()
        self.closed = False
        self.timeout = None
        self.connect_info = None
        self.will_done = False

    def settimeout(self, t):
        self.timeout = t

    def sendall(self, data):
        if self.closed:
            raise OSError(104)
        self.rx.extend(data)
        self.broker._feed(self)

    def recv(self, n):
        if self.inbox:
            out = bytes(self.inbox[:n])
            self.inbox = self.inbox[n:]
            return out
        if self.closed:
            return b""
        if self.timeout:  # a blocking wait that times out: time passes
            self.broker.clock.advance(int(self.timeout * 1000))
        raise OSError(11 if not self.timeout else 110)

    def close(self):
        if not self.closed:
            self.closed = True
            self.broker._closed(self, graceful=False)


class FakeBroker:
    """Speaks enough MQTT 3.1.1 for a station; records everything."""

    def __init__(self, clock):
        self.clock = clock
        self.up = True
        self.sockets = []
        self.published = []  # dicts: topic, payload, qos, retain, dup, pid
        self.retained = {}
        self.connects = []  # parsed CONNECT packets
        self.subscriptions = []
        self.ack_publish = True  # False: swallow PUBLISH without PUBACK
        self.answer_ping = True
        self.pings = 0
        self.wills = []  # wills the broker sent out

    def connect_tcp(self, host, port, timeout_ms):
        if not self.up:
            self.clock.advance(10)
            raise OSError(111)  # ECONNREFUSED
        s = FakeSocket(self)
        self.sockets.append(s)
        return s

    def live(self):
        return [s for s in self.sockets if not s.closed]

    def go_down(self):
        """The broker dies: connections drop (no will: the broker itself is gone)."""
        self.up = False
        for s in self.live():
            s.closed = True

    def sever(self):
        """The network drops the connection; the broker publishes the will."""
        for s in self.live():
            s.closed = True
            self._closed(s, graceful=False)

    def send(self, topic, payload, qos=0):
        t = topic.encode()
        body = bytes([len(t) >> 8, len(t) & 0xFF]) + t
        if qos:
            body += b"\x00\x01"
        body += payload
        pkt = bytes([0x30 | qos << 1]) + _enc_len(len(body)) + body
        for s in self.live():
            s.inbox.extend(pkt)

    def events(self, topic_end="/event"):
        import json
        return [json.loads(p["payload"]) for p in self.published if p["topic"].endswith(topic_end)]

    def _closed(self, sock, graceful):
        info = sock.connect_info
        if info and info.get("will") and not graceful and not sock.will_done:
            sock.will_done = True
            topic, msg, retain = info["will"]
            self.wills.append((topic, msg))
            if retain:
                self.retained[topic] = msg

    def _feed(self, sock):
        data = sock.rx
        while len(data) >= 2:
            n, i = _varint(data, 1)
            if len(data) < i + n:
                break
            ptype, flags, body = data[0] >> 4, data[0] & 0x0F, bytes(data[i:i + n])
            data = data[i + n:]
            self._packet(sock, ptype, flags, body)
        sock.rx = bytearray(data)

    def _packet(self, sock, ptype, flags, body):
        if ptype == 1:
            name, i = _mqtt_str(body, 0)
            level, cflags = body[i], body[i + 1]
            keepalive = (body[i + 2] << 8) | body[i + 3]
            cid, i = _mqtt_str(body, i + 4)
            info = {"name": name, "level": level, "flags": cflags, "keepalive": keepalive,
                    "client_id": cid.decode(), "will": None, "username": None, "password": None}
            if cflags & 0x04:
                wt, i = _mqtt_str(body, i)
                wm, i = _mqtt_str(body, i)
                info["will"] = (wt.decode(), wm, bool(cflags & 0x20))
                info["will_qos"] = (cflags >> 3) & 3
            if cflags & 0x80:
                u, i = _mqtt_str(body, i)
                info["username"] = u.decode()
            if cflags & 0x40:
                pw, i = _mqtt_str(body, i)
                info["password"] = pw.decode()
            sock.connect_info = info
            self.connects.append(info)
            sock.inbox.extend(b"\x20\x02\x00\x00")
        elif ptype == 3:
            qos = (flags >> 1) & 3
            topic, i = _mqtt_str(body, 0)
            pid = 0
            if qos:
                pid = (body[i] << 8) | body[i + 1]
                i += 2
            msg = body[i:]
            self.published.append({"topic": topic.decode(), "payload": msg, "qos": qos,
                                   "retain": bool(flags & 1), "dup": bool(flags & 8), "pid": pid,
                                   "at": self.clock.ticks_ms()})
            if flags & 1:
                self.retained[topic.decode()] = msg
            if qos == 1 and self.ack_publish:
                sock.inbox.extend(bytes([0x40, 0x02, pid >> 8, pid & 0xFF]))
        elif ptype == 8:
            pid = (body[0] << 8) | body[1]
            topic, i = _mqtt_str(body, 2)
            self.subscriptions.append((topic.decode(), body[i]))
            sock.inbox.extend(bytes([0x90, 0x03, pid >> 8, pid & 0xFF, body[i]]))
        elif ptype == 4:
            pass  # PUBACK from the station for a QoS 1 command
        elif ptype == 12:
            self.pings += 1
            if self.answer_ping:
                sock.inbox.extend(b"\xd0\x00")
        elif ptype == 14:
            sock.closed = True
            sock.will_done = True


def _enc_len(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


# ---- a test board: simulated reader, fake broker, fake clock, pins that remember

class TestBoard(Board):
    __test__ = False  # not a pytest class

    def __init__(self, reader="mfrc522", fs_root=None, clock=None):
        self.clock = clock or FakeClock(1000)
        self.fs_root = fs_root or tempdir()
        self.broker = FakeBroker(self.clock)
        self.pins = {}
        self.fed = 0
        self.wifi = True
        self._rand = 0x1A2B3C4D
        if reader == "pn532":
            from sebiao_sim.pn532_sim import PN532Sim
            self.chip = PN532Sim()
        else:
            from sebiao_sim.mfrc522_sim import MFRC522Sim
            self.chip = MFRC522Sim()
        self.field = self.chip.field
        self.ntp = 0
        from sebiao_sim.ds18b20_sim import DS18B20Sim, OneWireLine
        self.probe = DS18B20Sim(clock=self.clock)
        self.probe_line = OneWireLine()
        self.probe_line.attach(self.probe)
        self.probe_pins = []

    def reader_bus(self, cfg):
        return self.chip.bus()

    def probe_bus(self, number):
        from sebiao_sim.ds18b20_sim import SimOneWire
        self.probe_pins.append(number)
        return SimOneWire(self.probe_line)

    def pin(self, number):
        p = SimPin(value=0)
        self.pins[number] = p
        return p

    def connect_tcp(self, host, port, timeout_ms):
        if not self.wifi:
            raise OSError(113)
        return self.broker.connect_tcp(host, port, timeout_ms)

    def wifi_connected(self):
        return self.wifi

    def ntp_ms(self, host, timeout_ms, port=123):
        self.ntp_asked = (host, port)
        return self.ntp

    def watchdog(self, timeout_ms):
        board = self

        class W:
            def feed(self):
                board.fed += 1
        return W()

    def random32(self):
        self._rand = (self._rand * 1103515245 + 12345) & 0xFFFFFFFF
        return self._rand


def station_config(reader="mfrc522", probe=None, **timing):
    from sebiao_station import config
    t = {"poll_ms": 200, "heartbeat_s": 60}
    for k in timing:
        t[k] = timing[k]
    given = {"workshop": "ws-demo", "station": "rack-red-1", "timing": t, "reader": {"type": reader},
             "broker": {"host": "broker.local", "keepalive_s": 60}}
    if probe is not None:
        given["probe"] = probe
    return config.validate(given)


def run_for(station, ms, step_ms=50):
    """Run the main loop for `ms` of fake time."""
    clock = station.clock
    end = clock.ticks_ms() + ms
    while clock.ticks_ms() < end:
        station.step()
        clock.advance(step_ms)


def refuses_each(cases):
    """Each (given, text) in `cases`: config.validate(given) raises a ConfigError whose message holds `text`."""
    from sebiao_station import config
    for given, expected in cases:
        try:
            config.validate(given)
        except config.ConfigError as exc:
            assert expected in exc.args[0], (given, exc.args[0])
        else:
            raise AssertionError("accepted %r" % (given,))


T_STATUS = "sebiao/ws-demo/rack-red-1/status"  # the topics of station_config()'s station
T_CMD = "sebiao/ws-demo/rack-red-1/cmd"


def retained_status(board):
    """The station's retained status on the board's in-memory broker, decoded."""
    return json.loads(board.broker.retained[T_STATUS])


def command(board, st, cmd, ms=300):
    """Send `cmd` (protocol v1) on the station's cmd topic, then run the station `ms`."""
    cmd["v"] = 1
    board.broker.send(T_CMD, json.dumps(cmd).encode(), qos=1)
    run_for(st, ms)
