"""The real gateway as a separate process (``sebiao gateway``), for end-to-end tests and benchmarks.

A subprocess, so tests can kill it with SIGKILL mid-stream and start it again
on the same data dir, exactly as a power cut would.

Unless a port is given, the gateway binds port 0 and reports the port the
system chose in ``DATA-DIR/listening.json``: no port is chosen here and then
taken by another program before the gateway binds it (a busy machine). A
restart (``stop()`` or ``kill9()``, then ``start()``) binds the same port
again, as a real gateway does: pages and clients still know it.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
import yaml
from servers import ROOT, example_config
from servers import _die_with_parent as die_with_parent
from stations_mqtt import ScriptedStation, close_all, online_stations

EXAMPLE = ROOT / "examples" / "workshop.yaml"
TOKEN = "test-token-0123456789"


def write_config(path: Path, broker: Any = None, base: Path = EXAMPLE, **sections: Any) -> Path:
    """The example workshop (or ``base``) with the broker's gateway account and any sections merged in."""
    data = yaml.safe_load(base.read_text("utf-8"))
    data["http"] = {"token": TOKEN}
    # the SNTP server on a free loopback port, not the machine's port 123 (a test asks for more with time_server=)
    data["time_server"] = {"listen": "127.0.0.1", "port": 0}
    if broker is not None:
        gw = broker.credentials.gateway
        data["broker"] = {"url": broker.url, "username": gw.username, "password": gw.password}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **copy.deepcopy(value)}
        else:
            data[key] = copy.deepcopy(value)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def start_gateway(tmp: Path, broker: Any, **sections: Any) -> "GatewayProcess":
    """The gateway on the example workshop with ``broker`` and ``sections`` merged in (config and data
    dir in ``tmp``), started and connected."""
    return GatewayProcess(write_config(tmp / "workshop.yaml", broker, **sections), tmp / "data").start()


@contextmanager
def online_workshop(broker: Any, tmp: Path, health: dict | None = None,
                    **sections: Any) -> Iterator[tuple["GatewayProcess", dict[str, ScriptedStation]]]:
    """``start_gateway``, then every station of the example online with ``health`` (``online_stations``);
    the stations closed and the gateway stopped at the end."""
    gateway = start_gateway(tmp, broker, **sections)
    stations = online_stations(broker, example_config(), health)
    try:
        yield gateway, stations
    finally:
        close_all(stations)
        gateway.stop()


class GatewayProcess:
    def __init__(self, config: Path, data_dir: Path, http_port: int | None = None,
                 extra_args: tuple[str, ...] = (), prefix: tuple[str, ...] = ()) -> None:
        """``http_port``: None binds a free one (read back from ``listening.json`` at each start);
        ``prefix``: a command the gateway runs under, e.g. ``("prlimit", "--nofile=256")``."""
        self.prefix = prefix
        self.config = config
        self.data_dir = data_dir
        self.fixed_port = http_port
        self.http_port = http_port or 0
        self.listening: dict[str, Any] = {}  # the gateway's listening.json once it is up
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-gateway.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout: float = 20.0) -> "GatewayProcess":
        log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        main = threading.current_thread() is threading.main_thread()
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "sebiao.cli", "gateway", "--config", str(self.config),
             "--data-dir", str(self.data_dir), "--http", f"127.0.0.1:{self.fixed_port or self.http_port}",
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
            preexec_fn=die_with_parent if main else None)  # a killed test run leaves no gateway behind
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_listening(self, deadline: float) -> None:
        """Until this process has written ``listening.json`` (one left by an earlier run names another pid)."""
        path = self.data_dir / "listening.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                listening = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                listening = {}
            if listening.get("pid") == self.proc.pid:
                self.listening = listening
                self.http_port = listening["http"]["port"]
                return
            time.sleep(0.02)
        raise TimeoutError(f"the gateway did not report its ports in {path}:\n{self.log()[-3000:]}")

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        self.wait_listening(deadline)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:  # the token: /healthz needs it when the gateway is bound beyond loopback
                health = httpx.get(self.base + "/healthz", headers={"Authorization": f"Bearer {TOKEN}"},
                                   timeout=1).json()
                if health.get("broker") == "connected":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"the gateway was not ready within {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode if self.proc else 0

    # -- its SQLite store, read-only ----------------------------------------------

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.data_dir / 'gateway.sqlite3'}?mode=ro", uri=True, timeout=30)

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = self.db()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def scalar(self, sql: str, args: tuple = ()) -> Any:
        return self.rows(sql, args)[0][0]

    def count(self, table: str) -> int:
        return self.scalar(f"SELECT count(*) FROM {table}")

    # -- HTTP helpers ---------------------------------------------------------

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, body: Any = None, token: str | None = TOKEN, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.base + path, json=body, headers=headers, timeout=10, **kwargs)

    def metric(self, name: str, labels: str = "") -> float:
        """The value of one sample in /metrics (0 when absent)."""
        prefix = name + (f"{{{labels}}}" if labels else "")
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(prefix + " "):
                return float(line.split()[-1])
        return 0.0

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"{what} not reached within {timeout} s:\n{self.log()[-2000:]}")

    def __enter__(self) -> "GatewayProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
