"""Test support for updates over Wi-Fi; runs under CPython (pytest) and MicroPython (wasm).

A signed release comes from tests/vectors/release_v1.json (made with `cryptography` by
tests/support/release_signing.py, checked by tests/firmware/test_host_fw_release_vectors.py),
served by an in-memory HTTP/1.0 server behind the board's connect_tcp; the board counts the
update's checkpoints and cuts the power (raises PowerCut) at the one asked for."""

import json

from fwsupport import REPO, TestBoard, run_for, station_config, tempdir
from sebiao_station.app import Station

VECTORS = REPO + "/tests/vectors/release_v1.json"
HTTP_PORT = 8080
PREFIX = "/fw/3f2a9c0d1e6b4a7f8c9d0e1f2a3b4c5d/"


def vectors():
    with open(VECTORS) as f:
        return json.load(f)


V = vectors()


def unhex(s):
    import binascii
    return binascii.unhexlify(s)


class PowerCut(BaseException):
    """The power went at a checkpoint: nothing after it ran (not caught by `except Exception`)."""


class HttpSocket:
    def __init__(self, server):
        self.server = server
        self.req = b""
        self.out = None
        self.timeout = None
        self.closed = False

    def settimeout(self, t):
        self.timeout = t

    def sendall(self, data):
        self.req += data
        if b"\r\n\r\n" in self.req and self.out is None:
            self.out = bytearray(self.server.respond(self.req))

    def recv(self, n):
        path = self.server.last_path
        if path in self.server.stall:  # the server stops answering: the socket times out
            self.server.clock.advance(int((self.timeout or 3) * 1000))
            raise OSError(110)
        slow = path in self.server.slow
        self.server.clock.advance(self.server.slow.get(path, 0))  # a slow server, inside the socket timeout
        n = 1 if slow else min(n, self.server.chunk)
        got = bytes(self.out[:n]) if self.out else b""
        if self.out:
            self.out = self.out[n:]
        return got

    def close(self):
        self.closed = True


class HttpServer:
    """path -> bytes; faults per path: status, no_length, length (a lie), truncate (bytes left out), stall,
    slow (a trickle)."""

    def __init__(self, clock, routes):
        self.clock = clock
        self.routes = routes
        self.requests = []
        self.status = {}
        self.no_length = set()
        self.length = {}
        self.truncate = {}
        self.stall = set()
        self.head_junk = 0  # bytes of extra header (a server that never ends its head)
        self.chunk = 700
        self.slow = {}  # path -> fake ms each recv of it takes (1 byte each time)
        self.up = True
        self.last_path = None

    def connect(self):
        if not self.up:
            self.clock.advance(10)
            raise OSError(111)
        return HttpSocket(self)

    def respond(self, req):
        line = req.split(b"\r\n")[0].decode()
        path = line.split(" ")[1]
        self.requests.append(line)
        self.last_path = path
        body = self.routes.get(path)
        status = self.status.get(path, 200 if body is not None else 404)
        if body is None:
            body = b"not found"
        head = "HTTP/1.0 %d X\r\nServer: test\r\n" % status
        if self.head_junk:
            head += "X-Junk: " + "j" * self.head_junk + "\r\n"
        if path not in self.no_length:
            head += "Content-Length: %d\r\n" % self.length.get(path, len(body))
        body = body[:len(body) - self.truncate.get(path, 0)]
        return head.encode() + b"\r\n" + body


class UpdateBoard(TestBoard):
    """TestBoard + the HTTP server on HTTP_PORT + checkpoints that can cut the power."""
    __test__ = False

    def __init__(self, fs_root=None, clock=None, routes=None, cut=None):
        TestBoard.__init__(self, fs_root=fs_root, clock=clock)
        self.http = HttpServer(self.clock, routes or {})
        self.cut = cut  # "name" or "name#N"
        self.passed = {}
        self.order = []  # (name, times) in the order first reached (MicroPython dicts keep no order)
        self.resets = 0

    def connect_tcp(self, host, port, timeout_ms):
        if port == HTTP_PORT:
            if not self.wifi:
                raise OSError(113)
            return self.http.connect()
        return TestBoard.connect_tcp(self, host, port, timeout_ms)

    def checkpoint(self, name):
        self.passed[name] = self.passed.get(name, 0) + 1
        if self.passed[name] == 1:
            self.order.append(name)
        if self.cut is None:
            return
        want = self.cut
        nth = 1
        if "#" in want:
            want, n = want.split("#")
            nth = int(n)
        if name == want and self.passed[name] == nth:
            raise PowerCut(self.cut)

    def reset(self):
        self.resets += 1
        raise SystemExit("reset")


def routes(vec, prefix=PREFIX):
    out = {prefix + "manifest.json": vec["manifest"].encode(), prefix + "manifest.sig": unhex(vec["sig"])}
    for p in vec["files"]:
        out[prefix + "files/" + p] = vec["files"][p].encode()
    return out


def install_key(root, key):
    with open(root + "/release_key.json", "w") as f:
        f.write(json.dumps(key))


def update_cmd(version, port=HTTP_PORT, path=PREFIX, **more):
    cmd = {"v": 1, "cmd": "update", "version": version, "port": port, "path": path}
    for k in more:
        cmd[k] = more[k]
    return cmd


# ---- a station on a flash, told to update

T_CMD = "sebiao/ws-demo/rack-red-1/cmd"
T_STATUS = "sebiao/ws-demo/rack-red-1/status"
APP = "sebiao_station/app.py"


def flash(vec=None):
    vec = vec or V
    root = tempdir()
    install_key(root, vec["key"])
    return root


def boot_station(root, cut=None, http=None, broker_up=True):
    """What a reset does: a new board and station on the same flash (select ran first)."""
    board = UpdateBoard(fs_root=root, routes=http if http is not None else routes(V), cut=cut)
    board.broker.up = broker_up
    st = Station(board, station_config())
    st.start()
    return board, st


def send(board, cmd):
    board.broker.send(T_CMD, json.dumps(cmd).encode(), 1)


def run_until_reset(st, ms=30000):
    try:
        run_for(st, ms)
    except SystemExit:
        return True
    return False


def statuses(board):
    return [json.loads(p["payload"]) for p in board.broker.published if p["topic"] == T_STATUS]


def updates(board):
    return [s["update"] for s in statuses(board) if "update" in s]


def slot_ok(root, slot, vec=None):
    """Every file of the release is in the slot with its manifest's SHA-256."""
    vec = vec or V
    for p in vec["files"]:
        try:
            with open(root + "/fw_" + slot + "/" + p, "rb") as f:
                data = f.read()
        except OSError:
            return False
        if data != vec["files"][p].encode():
            return False
    return True


def downloaded(root=None, http=None):
    """A station told to update, run until it resets into the new version."""
    root = root or flash()
    board, st = boot_station(root, http=http)
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))
    assert run_until_reset(st), updates(board)
    return root, board, st
