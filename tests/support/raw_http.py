"""A request body sent over a real socket the way an attacker would, and a server process's memory watched.

``announce_huge`` sends only the head of a POST whose ``Content-Length``
announces far more than any bound and waits for the answer (a server that
waits for the body never answers). ``stream_chunked`` sends a chunked body
piece by piece until the server answers (or ``most`` bytes are sent), and says
how much went out first. ``RssWatch`` samples a process's resident memory
(``/proc/<pid>/status``, ``VmRSS``) while a test runs.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass

CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int  # 0: the server closed without an answer, or none came in time
    body: bytes
    sent: int  # body bytes sent before the answer came
    seconds: float  # from the head sent to the answer read


def _head(path: str, headers: dict[str, str], framing: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", framing]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int, bytes]:
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            more = sock.recv(65536)
        except ConnectionError:
            break
        if not more:
            break
        data += more
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is None or len(body) >= length:
                break
    if not data.startswith(b"HTTP/1.1 "):
        return 0, data
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def announce_huge(port: int, path: str, headers: dict[str, str], length: int = 5 << 30,
                  timeout: float = 5.0) -> Answer:
    """The head of a POST announcing ``length`` bytes, and no body: the answer, if one comes in ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(_head(path, headers, f"Content-Length: {length}"))
        status, body = _read_answer(sock, started + timeout)
        return Answer(status=status, body=body, sent=0, seconds=time.monotonic() - started)


def stream_chunked(port: int, path: str, headers: dict[str, str], most: int, timeout: float = 30.0) -> Answer:
    """A chunked body of up to ``most`` bytes, sent until the server answers; then its answer."""
    piece = b"%x\r\n" % CHUNK + b"x" * CHUNK + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(_head(path, headers, "Transfer-Encoding: chunked"))
        sent = 0
        try:
            while sent < most:
                if select.select([sock], [], [], 0)[0]:  # the server has answered: stop sending
                    break
                sock.sendall(piece)
                sent += CHUNK
            else:
                sock.sendall(b"0\r\n\r\n")
        except ConnectionError:  # the server closed on us; its answer may still be readable
            pass
        status, body = _read_answer(sock, started + timeout)
        return Answer(status=status, body=body, sent=sent, seconds=time.monotonic() - started)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class RssWatch:
    """The highest resident memory of process ``pid`` while the ``with`` block runs (sampled every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = rss_bytes(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, RuntimeError):
                return

    @property
    def growth(self) -> int:
        return self.peak - self.before

    def __enter__(self) -> "RssWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))
