"""The real cloud as a separate process (``sebiao cloud``, uvicorn on a free loopback port) over SQLite or
PostgreSQL, for the tests that must reach it over a socket.

``served_cloud`` (parametrized by ``cloud_fixtures.cloud_url``) migrates the
database and makes the tenants through ``cloud_fixtures.Cloud``, then serves
that database from a ``CloudProcess``; it yields a ``Served``: both, and the
tenants' tokens. Import it into a test
module together with the fixtures it needs: ``from cloud_fixtures import *``
and ``from cloud_proc import *``.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml
from cloud_fixtures import SECRET, Cloud
from servers import ROOT, free_port
from servers import _die_with_parent as die_with_parent

__all__ = ["CloudProcess", "Served", "served_cloud"]


class CloudProcess:
    def __init__(self, database_url: str, workdir: Path, **config: Any) -> None:
        self.port = free_port()
        self.config = workdir / "cloud.yaml"
        self.config.write_text(yaml.safe_dump({
            "database": {"url": database_url}, "listen": f"127.0.0.1:{self.port}", "session_secret": SECRET,
            **config}))
        self.log_path = workdir / "cloud.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 30.0) -> "CloudProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sebiao.cli", "cloud", "--config", str(self.config), "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sebiao cloud exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"sebiao cloud did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # -- HTTP -------------------------------------------------------------------------

    def push(self, token: str, doc: Any = None, raw: bytes | None = None) -> httpx.Response:
        """One batch to ``/api/v1/ingest``: ``doc`` as JSON, or the inflated ``raw`` text as it is."""
        body = raw if raw is not None else json.dumps(doc).encode()
        return httpx.post(self.url + "/api/v1/ingest", content=gzip.compress(body), timeout=30,
                          headers={"Authorization": f"Bearer {token}", "Content-Encoding": "gzip",
                                   "Content-Type": "application/json"})

    def post(self, token: str | None, path: str, content: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        return httpx.post(self.url + path, content=content, headers=headers, timeout=30)


@dataclass(frozen=True, kw_only=True)
class Served:
    cloud: Cloud  # the database, in process (its engine, the admin functions)
    process: CloudProcess  # the same database served over HTTP
    tokens: dict[str, str]  # Cloud.tenants': by name ("gw-ws-a", "insp1", "admin", …)


@pytest.fixture
def served_cloud(cloud_url: str, tmp_path: Path) -> Iterator[Served]:
    """A migrated database with ``Cloud.tenants``, served by a real ``sebiao cloud`` process."""
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))  # the process runs on the real clock: tokens expire
    tokens = cloud.tenants()
    process = CloudProcess(cloud_url, tmp_path).start()
    try:
        yield Served(cloud=cloud, process=process, tokens=tokens)
    finally:
        process.stop()
        cloud.client.close()
        cloud.engine.dispose()
