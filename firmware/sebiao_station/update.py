"""The `update` command (docs/fleet.md): fetch a signed release over HTTP/1.0,
check it, write it into the slot that is not current, then switch (fw/trial)
and reset. Loaded only when the gateway asks for an update; what a release must
be (its signature, its manifest) is release.py.

The download runs inside the main loop, a bounded piece per pass (STEP_MS of
work, every socket call under the socket timeout), so the reader keeps
polling, MQTT keeps its pings, and the watchdog is fed where it always is, at
the end of a healthy pass: no second place feeds it that could hide a hang.

Each `checkpoint(name)` marks a step a power cut may follow (the tests cut
there): "update emptied", "update chunk", "update file", "tmp trial",
"update trial".
"""

import binascii
import hashlib
import os

import sebiao_boot as boot

from . import VERSION
from .release import MAX_MANIFEST, SIG_BYTES, Failed, check_manifest, verify

try:
    from typing import Any  # noqa: F401  (type comments only; MicroPython has no typing)
except ImportError:
    pass

MAX_HEADER = 1024  # status line + headers of one response
CHUNK = 512  # bytes per recv and per write to flash
STEP_MS = 100  # work per pass of the main loop
MAX_PIECES = 64  # socket reads per pass at most (64 x CHUNK = 32 KiB)
DEADLINE_MS = 15 * 60000  # the download token's lifetime at most
ENOSPC = 28
# The gateway restarting (a changed config, its own update) refuses or resets connections for a few seconds,
# and keeps this download's token across the restart (docs/fleet.md "The job"): a request that could not
# connect, or lost its connection, is made again, RETRIES times RETRY_MS apart, before the update fails.
AGAIN = (103, 104, 111, 113)  # ECONNABORTED, ECONNRESET, ECONNREFUSED, EHOSTUNREACH (lwIP and Linux alike)
RETRIES = 4
RETRY_MS = 5000


def refusal(st, version, host, port, path):
    """Why the station will not start this update, or None."""
    if not isinstance(version, str) or not 0 < len(version) <= 32 or type(port) is not int \
            or not 0 < port < 65536 or not _clean(path) or not path.startswith("/") \
            or not path.endswith("/") or not _clean(host):
        return "bad command"
    if st.updater is not None:
        return "busy"
    if version == VERSION:
        return "same version"
    if st.buffer.depth > 0:
        return "unsent events"
    if st.probe is not None and st.probe.detector.running:
        return "probe cycle"
    return None


def _clean(s):
    """A string fit for a request line: short, printable ASCII, no space (no header injection)."""
    if not isinstance(s, str) or not 0 < len(s) <= 128:
        return False
    for c in s:
        if not "!" <= c <= "~":
            return False
    return True


def _os_why(exc):
    code = exc.args[0] if exc.args else None
    if code == ENOSPC:
        return "no space"
    if code in (110, 116) or code == "timed out":  # ETIMEDOUT: Linux, lwIP; CPython's socket.timeout
        return "timeout"
    return "network %s" % code


def rmtree(p):
    try:
        names = os.listdir(p)
    except OSError:
        return
    for name in names:
        q = p + "/" + name
        if os.stat(q)[0] & 0x4000:
            rmtree(q)
        else:
            os.remove(q)
    os.rmdir(p)


def mkdirs(p):
    cur = ""
    for part in p.split("/"):
        cur = cur + "/" + part if cur or p.startswith("/") else part
        if part and not boot.exists(cur):
            os.mkdir(cur)


# ---- the command

def begin(st, cmd):
    """Start the update `cmd` asks for, or say in the status why not."""
    version = cmd.get("version")
    host = cmd.get("host") or st.cfg["broker"]["host"]  # by default the gateway is the broker's host
    port, path = cmd.get("port"), cmd.get("path")
    why = refusal(st, version, host, port, path)
    if why is not None:
        st.update = {"version": version if isinstance(version, str) else "", "state": "refused", "error": why}
    else:
        st.updater = Update(st, host, port, path, version)
    st.link.status_due = True


class Update:
    def __init__(self, st, host, port, path, version):
        self.st = st
        self.clock = st.clock
        self.host, self.port, self.path, self.version = host, port, path, version
        self.timeout_ms = st.cfg["timing"]["socket_timeout_ms"]
        self.root = st.board.fs_root
        self.fw = boot.path(self.root, "fw/")
        self.cp = st.board.checkpoint
        self.sock = None  # type: Any
        self.started = self.last_progress = self.clock.ticks_ms()
        self.progress = st.update = {"version": version, "state": "downloading", "done": 0, "of": 0}
        self.run = self._run()

    def step(self):
        """A bounded piece of the download: until STEP_MS are used or the download asks for a pass."""
        t0 = self.clock.ticks_ms()
        for _ in range(MAX_PIECES):  # bounded even where the clock stands still (tests)
            try:
                if next(self.run) or self.clock.since(t0) >= STEP_MS:
                    return
            except StopIteration:
                return

    def _run(self):
        try:
            yield from self._download()
        except Failed as exc:
            self._fail(exc.args[0])
        except OSError as exc:
            self._fail(_os_why(exc))
        except Exception as exc:  # a bug or a MemoryError must not take the running version down
            self._fail("error " + type(exc).__name__)

    def _fail(self, why):
        st = self.st
        self._close()
        st.update = {"version": self.version, "state": "failed", "error": why}
        st.updater = None
        st.link.status_due = True
        try:
            boot.write_atomic(self.fw + "result", st.update)
        except OSError:
            pass  # a full flash: the status says it anyway
        boot.unload("sebiao_station.update", "sebiao_station.release", "sebiao_boot")  # this object lives on until the loop drops it

    def _close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def _download(self):
        st = self.st
        cur = boot.current(self.root)
        slot = "b" if cur == "a" else "a"
        slot_dir = boot.slot_dir(self.root, slot)
        # Until the switch, a reset (a power cut, the watchdog) loses this attempt: the next boot reports
        # that, instead of the last attempt's outcome or nothing (the gateway would wait out its timeout)
        boot.write_atomic(self.fw + "result", {"version": self.version, "state": "failed",
                                               "error": "reset during the download"})
        rmtree(slot_dir)  # a half-written slot from an earlier attempt goes first
        self.cp("update emptied")
        yield True
        manifest = yield from self._again(self._get_small, "manifest.json", MAX_MANIFEST, False)
        sig = yield from self._again(self._get_small, "manifest.sig", SIG_BYTES, True)
        key = boot.read_json(boot.path(self.root, "release_key.json"))
        if key is None:
            raise Failed("no release key")
        if not verify(manifest, sig, key):
            raise Failed("signature")
        yield True
        files = check_manifest(manifest, self.version)
        del manifest
        self.progress["of"] = len(files)
        st.update = self.progress  # (a refused command meanwhile said "busy" there)
        st.link.status_due = True
        yield True  # the status says "0 of n" before the first file
        for i in range(len(files)):
            p, size, digest = files[i]
            dest = slot_dir + "/" + p
            mkdirs(dest[:dest.rfind("/")])
            yield from self._again(self._get_file, p, size, digest, dest)
            self.cp("update file")
            self.progress["done"] = i + 1
            st.update = self.progress
            if self.clock.since(self.last_progress) >= 1000:
                self.last_progress = self.clock.ticks_ms()
                st.link.status_due = True
            yield True
        # the switch: from here the new version boots once (sebiao_boot.select)
        boot.write_atomic(self.fw + "trial", {"slot": slot, "version": self.version, "boots": 0}, self.cp)
        self.cp("update trial")
        st.update = {"version": self.version, "state": "switching"}
        st.link.status_due = True
        t = self.clock.ticks_ms()
        while st.link.status_due and st.link.up and self.clock.since(t) < 3000:
            yield True  # let the status out first
        st.board.reset()

    # HTTP/1.0 GET

    def _again(self, get, *args):
        """``get(*args)`` (a whole request: a file is written from its start again), once more after a
        connection refused or reset, RETRIES times at most, within the download's deadline."""
        tries = 0
        while True:
            try:
                return (yield from get(*args))
            except OSError as exc:
                self._close()
                tries += 1
                if tries >= RETRIES or (exc.args[0] if exc.args else None) not in AGAIN:
                    raise
            t = self.clock.ticks_ms()
            while self.clock.since(t) < RETRY_MS:
                self._in_time()
                yield True

    def _open(self, name):
        """Send the request, read the head (bounded); returns (Content-Length, body bytes already read)."""
        self._in_time()
        s = self.sock = self.st.board.connect_tcp(self.host, self.port, self.timeout_ms)
        s.settimeout(self.timeout_ms / 1000)
        s.sendall(("GET %s%s HTTP/1.0\r\nHost: %s:%d\r\n\r\n" % (self.path, name, self.host, self.port)).encode())
        head = b""
        while True:
            end = head.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(head) > MAX_HEADER:
                raise Failed("http header")
            got = s.recv(256)
            if not got:
                raise Failed("http header")
            head += got
            self._in_time()
            yield False
        lines = head[:end].decode().split("\r\n")
        status = lines[0].split(" ")
        if len(status) < 2 or not status[0].startswith("HTTP/1.") or len(status[1]) != 3 or not status[1].isdigit():
            raise Failed("http header")
        if status[1] != "200":
            raise Failed("http " + status[1])
        length = None
        for line in lines[1:]:
            i = line.find(":")
            if i > 0 and line[:i].strip().lower() == "content-length":
                v = line[i + 1:].strip()
                if not v.isdigit() or len(v) > 9:
                    raise Failed("http length")
                length = int(v)
        if length is None:
            raise Failed("http length")
        return length, head[end + 4:]

    def _in_time(self):
        """A server that trickles bytes just inside the socket timeout still ends within DEADLINE_MS."""
        if self.clock.since(self.started) > DEADLINE_MS:
            raise Failed("timeout")

    def _get_small(self, name, limit, exact):
        length, body = yield from self._open(name)
        if length > limit or (exact and length != limit):
            raise Failed("size " + name)
        buf = bytearray(body)
        while len(buf) < length:
            got = self.sock.recv(CHUNK)
            if not got:
                break
            buf.extend(got)
            self._in_time()
            yield False
        self._close()
        if len(buf) != length:
            raise Failed("size " + name)
        return bytes(buf)

    def _get_file(self, p, size, digest, dest):
        length, body = yield from self._open("files/" + p)
        if length != size:
            raise Failed("size " + p)
        h = hashlib.sha256()
        got = 0
        with open(dest, "wb") as f:
            while True:
                if body:
                    got += len(body)
                    if got > size:
                        raise Failed("size " + p)
                    h.update(body)
                    f.write(body)
                    self.cp("update chunk")
                if got == size:
                    break
                body = self.sock.recv(CHUNK)
                if not body:
                    raise Failed("size " + p)  # the server closed early
                self._in_time()
                yield False
        self._close()
        if binascii.hexlify(h.digest()).decode() != digest:
            raise Failed("hash " + p)
