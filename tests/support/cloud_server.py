"""The cloud over real HTTP: ``sebiao cloud`` as a process, or an app served by uvicorn in a thread.

``CloudServer`` runs the real command (``python -m sebiao cloud --config FILE``:
it migrates, then serves) with its config written from keyword sections, over
a SQLite file in its work dir unless given a database URL, on a free loopback
port. It is ready once its own process holds the port and answers
``/healthz``: not another program that took the port. When one did, between
choosing the port and binding it (a busy machine), the first start chooses a
new port and tries again; later starts (``restart()``) keep port and
database, as a restarted server does: clients know its address. Its argon2 is
the service's own (full cost).

``served_cloud`` (parametrized by ``cloud_fixtures.cloud_url``) migrates the
database and makes the tenants through ``cloud_fixtures.Cloud``, then serves
that database from a ``CloudServer``; it yields a ``Served``: both, and the
tenants' tokens. Import it into a test module together with the fixtures it
needs: ``from cloud_fixtures import *`` and ``from cloud_server import *``.

``ServedApp`` serves an app built in the test (e.g. over ``Cloud``'s
database, with its movable clock) exactly as ``sebiao cloud`` serves it.

``client(source=...)``: an httpx client whose connections come from another
loopback address (127.0.0.2 …): a second client, as the server sees it.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import uvicorn
import yaml
from cloud_fixtures import SECRET, Cloud
from gateway_keys import signature_headers
from servers import ROOT
from tsdb_servers import PortServer

__all__ = ["CloudServer", "Served", "ServedApp", "served_cloud"]

ADMIN = "admin"
ADMIN_PASSWORD = "process-admin-password-1"


def client(base: str, source: str | None = None, **kwargs: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=base, transport=transport, timeout=30, follow_redirects=False, **kwargs)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class CloudServer(PortServer):
    """``sebiao cloud --config FILE`` as a real process on a free loopback port; ``with`` starts it and kills it
    at the end, ``stop()`` is a clean stop (SIGTERM)."""

    name = "cloud"

    def __init__(self, workdir: Path, database_url: str | None = None, *, admin: bool = False,
                 env: dict[str, str] | None = None, name: str | None = None, **sections: Any) -> None:
        """``sections``: the config's top-level sections (``evidence={...}``, ``trusted_proxies=[...]``, …)
        over these: the database (``database_url``, else ``WORKDIR/cloud.db``), ``cloud_fixtures.SECRET``, and
        with ``admin`` the bootstrap admin ``admin_token()`` logs in as; ``listen`` is added here.
        ``env``: more environment for the process; ``name``: of its config and log (``NAME.yaml``,
        ``NAME.log``), for several servers in one work dir."""
        workdir = Path(workdir)
        if name is not None:
            self.name = name
        self.database_url = database_url or f"sqlite:///{workdir / 'cloud.db'}"
        self.config: dict[str, Any] = {"database": {"url": self.database_url}, "session_secret": SECRET}
        if admin:
            self.config["bootstrap_admin"] = {"username": ADMIN, "password": ADMIN_PASSWORD}
        self.config.update(sections)
        self.config_path = workdir / f"{self.name}.yaml"
        self.env = dict(env or {})
        super().__init__(workdir)  # chooses the port: writes the config

    def choose_ports(self) -> None:
        super().choose_ports()
        self.config_path.write_text(yaml.safe_dump({**self.config, "listen": f"{self.host}:{self.port}"},
                                                   allow_unicode=True))

    base = PortServer.url

    @property
    def pid(self) -> int:
        assert self._proc is not None, "the cloud was never started"
        return self._proc.pid

    # -- life cycle -------------------------------------------------------------------

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sebiao", "cloud", "--config", str(self.config_path), "--log-level", "WARNING"]

    @property
    def cwd(self) -> Path:
        return ROOT

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}

    def ready(self) -> bool:
        return self.health() is not None

    def start(self, timeout: float = 60.0) -> "CloudServer":
        """Started and answering ``/healthz`` (the first start on a new port when its port was taken)."""
        super().start(timeout)
        return self

    def restart(self, timeout: float = 60.0) -> "CloudServer":
        """A clean stop, then a start on the same port over the same database."""
        self.stop()
        return self.start(timeout)

    def health(self) -> dict | None:
        """``/healthz``'s answer, or None while it does not answer 200."""
        try:
            r = httpx.get(self.url + "/healthz", timeout=2)
        except httpx.HTTPError:
            return None
        return r.json() if r.status_code == 200 else None

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.running, f"sebiao cloud exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.log()[-3000:]}"
            time.sleep(0.05)

    # -- HTTP -------------------------------------------------------------------------

    def client(self, source: str | None = None, **kwargs: Any) -> httpx.Client:
        return client(self.url, source, **kwargs)

    def push(self, token: str, doc: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """One batch to ``/api/v1/ingest``, gzipped: ``doc`` as JSON, or the inflated ``raw`` text as it is;
        signed by its workshop's test gateway key (``gateway_keys``) unless ``headers`` are given instead."""
        body = raw if raw is not None else json.dumps(doc).encode()
        signature = signature_headers(body) if headers is None else headers
        return httpx.post(self.url + "/api/v1/ingest", content=gzip.compress(body), timeout=30,
                          headers={**_auth(token), "Content-Encoding": "gzip", "Content-Type": "application/json",
                                   **signature})

    def post(self, token: str | None, path: str, body: Any = None) -> httpx.Response:
        """``body`` as JSON (``{}`` when None), or bytes sent as they are (as JSON)."""
        if isinstance(body, bytes):
            return httpx.post(self.url + path, content=body, timeout=30,
                              headers={**_auth(token), "Content-Type": "application/json"})
        return httpx.post(self.url + path, json=body if body is not None else {}, headers=_auth(token), timeout=30)

    def get(self, token: str | None, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=_auth(token), timeout=30)

    def admin_token(self) -> str:
        """A login token of the bootstrap admin (``admin=True``)."""
        r = self.post(None, "/api/v1/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
        assert r.status_code == 201, r.text
        return r.json()["token"]


@dataclass(frozen=True, kw_only=True)
class Served:
    cloud: Cloud  # the database, in process (its engine, the admin functions)
    process: CloudServer  # the same database served over HTTP
    tokens: dict[str, str]  # Cloud.tenants': by name ("gw-ws-a", "insp1", "admin", …)


@pytest.fixture
def served_cloud(cloud_url: str, tmp_path: Path) -> Iterator[Served]:
    """A migrated database with ``Cloud.tenants``, served by a real ``sebiao cloud`` process."""
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))  # the process runs on the real clock: tokens expire
    tokens = cloud.tenants()
    process = CloudServer(tmp_path, cloud_url).start()
    try:
        yield Served(cloud=cloud, process=process, tokens=tokens)
    finally:
        process.stop()
        cloud.client.close()
        cloud.engine.dispose()


class ServedApp:
    """An ASGI app served by uvicorn in a thread on a free loopback port, as ``sebiao cloud`` serves it."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    proxy_headers=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base = ""

    def client(self, source: str | None = None, **kwargs: Any) -> httpx.Client:
        return client(self.base, source, **kwargs)

    def __enter__(self) -> "ServedApp":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.base = f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
