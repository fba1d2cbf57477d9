"""Real time-series servers for tests and benchmarks: InfluxDB 1.6 (Debian ``influxdb``) and
VictoriaMetrics (Debian ``victoria-metrics``).

Plain helpers, no pytest (``tests/conftest.py`` wraps them in fixtures)::

    with InfluxServer(Path(tmp)) as influx:          # free loopback ports, dirs in tmp
        influx.create_database("sebiao")
        influx.query("SELECT count(seq) FROM tool_event", db="sebiao")
        influx.stop(); influx.start()                 # same port, same data (outage tests)

    with VictoriaMetricsServer(Path(tmp)) as vm:
        vm.export("tool_event_seq")                   # /api/v1/export, one dict per series

Each server is killed when the test process dies (PDEATHSIG).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from servers import ServerProcess, _die_with_parent, bind_failed, free_port, listens

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"
VICTORIA = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


class PortServer(ServerProcess):
    """A server process on a fixed port with stop()/start()/kill(); stop() keeps the data for start().

    Its ports are chosen free; when another program takes one before the server binds it (a busy
    machine), the first start chooses new ones and tries again. Later starts keep the ports: clients
    know them. Under the time-series servers here and ``cloud_server.CloudServer``.
    """

    stop_seconds = 15.0
    attempts = 3

    def __init__(self, workdir: Path, host: str = "127.0.0.1") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._proc: subprocess.Popen | None = None
        self._started = False
        self.choose_ports()

    def choose_ports(self) -> None:
        """Free ports for the server (and its config, for a server that has one)."""
        self.port = free_port(self.host)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    @property
    def cwd(self) -> Path:
        return self.workdir

    def environment(self) -> dict[str, str] | None:
        """The server's environment (None: this process's)."""
        return None

    def start(self, timeout: float = 20.0) -> "PortServer":
        if self.running:
            return self
        for attempt in range(self.attempts):
            offset = self.log_size()
            if self._spawn(timeout):
                self._started = True
                return self
            text = self.log_since(offset)
            if self._started or attempt == self.attempts - 1 or not bind_failed(text):
                raise RuntimeError(f"{self.name} exited with {self._proc.returncode}:\n{text[-3000:]}")
            self.choose_ports()  # another program took a port between choosing and binding it
        raise AssertionError("unreachable")

    def _spawn(self, timeout: float) -> bool:
        """Started and ready (True), or exited (False)."""
        log = open(self.log_path, "ab")
        main = threading.current_thread() is threading.main_thread()
        try:
            self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=self.cwd, env=self.environment(),
                                          preexec_fn=_die_with_parent if main else None)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        # Ready means our process holds the port and answers: not another server that took the port.
        while not (listens(self._proc.pid, self.port) and self.ready()):
            if self._proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"{self.name} was not ready on {self.url} within {timeout} s:\n"
                                   f"{self.log()[-3000:]}")
            time.sleep(0.05)
        return True


class InfluxServer(PortServer):
    """InfluxDB 1.x ``influxd`` with its own config: HTTP and RPC on free loopback ports,
    meta/data/wal in the work dir, reporting off. ``auth=True`` turns authentication on
    with an admin user (``admin`` / ``admin-password``)."""

    name = "influxd"
    ADMIN = ("admin", "admin-password")

    def __init__(self, workdir: Path, host: str = "127.0.0.1", auth: bool = False) -> None:
        if not Path(INFLUXD).exists():
            raise FileNotFoundError(f"{INFLUXD} not found: install Debian's influxdb (apt-get install influxdb)")
        self.auth = auth
        super().__init__(workdir, host)

    def choose_ports(self) -> None:
        super().choose_ports()
        self.rpc_port = free_port(self.host)
        host, auth = self.host, self.auth
        self.conf = self.workdir / "influxdb.conf"
        self.conf.write_text(f"""\
reporting-disabled = true
bind-address = "{host}:{self.rpc_port}"

[meta]
  dir = "{self.workdir / 'meta'}"
  logging-enabled = false

[data]
  dir = "{self.workdir / 'data'}"
  wal-dir = "{self.workdir / 'wal'}"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  enabled = true
  bind-address = "{host}:{self.port}"
  auth-enabled = {str(auth).lower()}
  log-enabled = false
  max-body-size = 25000000

[logging]
  level = "warn"

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
""")

    def command(self) -> list[str]:
        return [INFLUXD, "run", "-config", str(self.conf)]

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/ping", timeout=1).status_code == 204
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 20.0) -> "InfluxServer":
        super().start(timeout)
        if self.auth:
            # The first admin user may be created without credentials; later starts already have it.
            self.query(f"CREATE USER {self.ADMIN[0]} WITH PASSWORD '{self.ADMIN[1]}' WITH ALL PRIVILEGES",
                       method="POST", check=False)
        return self

    @property
    def version(self) -> str:
        return httpx.get(self.url + "/ping", timeout=5).headers.get("X-Influxdb-Version", "")

    def query(self, q: str, db: str | None = None, method: str = "GET", check: bool = True,
              auth: tuple[str, str] | None = None) -> dict[str, Any]:
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = db
        if auth is None and self.auth:
            auth = self.ADMIN
        response = httpx.request(method, self.url + "/query", params=params, auth=auth, timeout=30)
        data = response.json()
        if check:
            response.raise_for_status()
            errors = [r["error"] for r in data.get("results", []) if "error" in r]
            if errors:
                raise AssertionError(f"InfluxQL error for {q!r}: {errors}")
        return data

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"', method="POST")

    def rows(self, q: str, db: str) -> list[dict[str, Any]]:
        """The rows of a query's first result as dicts, with each series' tags merged in."""
        out = []
        for series in self.query(q, db).get("results", [{}])[0].get("series", []):
            for values in series["values"]:
                out.append({**series.get("tags", {}), **dict(zip(series["columns"], values))})
        return out

    def scalar(self, q: str, db: str, default: Any = 0) -> Any:
        rows = self.rows(q, db)
        if not rows:
            return default
        return next(v for k, v in rows[0].items() if k != "time")


class VictoriaMetricsServer(PortServer):
    """Single-node VictoriaMetrics; it takes InfluxDB line protocol on ``/write`` and ``/api/v2/write``."""

    name = "victoria-metrics"

    def __init__(self, workdir: Path, host: str = "127.0.0.1") -> None:
        if not Path(VICTORIA).exists():
            raise FileNotFoundError(f"{VICTORIA} not found: install Debian's victoria-metrics")
        super().__init__(workdir, host)

    def command(self) -> list[str]:
        return [VICTORIA, f"-httpListenAddr={self.host}:{self.port}",
                f"-storageDataPath={self.workdir / 'data'}", "-retentionPeriod=100y",
                "-search.latencyOffset=0s", "-loggerLevel=ERROR"]

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def flush(self) -> None:
        httpx.get(self.url + "/internal/force_flush", timeout=10)

    def export(self, metric: str) -> list[dict[str, Any]]:
        """Every series of ``metric`` (all time), as /api/v1/export gives them."""
        self.flush()
        response = httpx.get(self.url + "/api/v1/export", params={"match[]": metric, "start": "0"}, timeout=30)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]
