"""``sebiao station`` as a subprocess whose standard input the test writes line by line."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from servers import ROOT, _die_with_parent


class StationProcess:
    def __init__(self, config: Path, flash: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        """``env``: the process' environment (default: this one's), e.g. with SEBIAO_POWER_CUT."""
        main = threading.current_thread() is threading.main_thread()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sebiao.cli", "station", "--config", str(config),
             "--data-dir", str(flash), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
            preexec_fn=_die_with_parent if main else None)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stamped: list[tuple[float, str]] = []  # every output line with its time.monotonic() on arrival
        self._pumper = threading.Thread(target=self._pump, daemon=True)
        self._pumper.start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.stamped.append((time.monotonic(), line.rstrip("\n")))
            self.lines.put(line.rstrip("\n"))

    def said(self, text: str) -> list[float]:
        """When each output line so far containing ``text`` came (whether or not ``expect`` took it)."""
        return [t for t, line in list(self.stamped) if text in line]

    def send(self, *lines: str) -> None:
        self.proc.stdin.write("".join(line + "\n" for line in lines))
        self.proc.stdin.flush()

    def expect(self, text: str, timeout: float = 10.0) -> str:
        """The first output line containing ``text`` (earlier lines are kept in ``seen``)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no line with {text!r} within {timeout} s; got {self.seen}") from None
            self.seen.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = 20.0) -> tuple[int, str]:
        """Close standard input; the station drains and exits. Returns (exit code, stderr)."""
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        self._pumper.join(5)  # every line of its output is in ``lines`` now
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
