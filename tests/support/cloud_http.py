"""The cloud over real HTTP: ``sebiao cloud`` as a process, or an app served by uvicorn in a thread.

``CloudProcess`` runs the real command (``python -m sebiao cloud --config``)
on a free loopback port with its config written from keyword sections; it
keeps its port and database across ``stop()``/``start()``, as a restart
does. Its argon2 is the service's own (full cost). ``ServedApp`` serves an
app built in the test (e.g. over ``cloud_fixtures.Cloud``'s database, with its
movable clock) exactly as ``sebiao cloud`` serves it.

``client(source=...)``: an httpx client whose connections come from another
loopback address (127.0.0.2 …): a second client, as the server sees it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from servers import ROOT, free_port
from servers import _die_with_parent as die_with_parent

ADMIN = "admin"
ADMIN_PASSWORD = "process-admin-password-1"
SECRET = "p" * 40


def client(base: str, source: str | None = None, **kwargs: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=base, transport=transport, timeout=30, follow_redirects=False, **kwargs)


class CloudProcess:
    def __init__(self, workdir: Path, database_url: str | None = None, **sections: Any) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = workdir / "cloud.yaml"
        self.config.write_text(json.dumps({  # JSON is YAML
            "database": {"url": database_url or f"sqlite:///{workdir / 'cloud.db'}"},
            "listen": f"127.0.0.1:{self.port}", "session_secret": SECRET,
            "bootstrap_admin": {"username": ADMIN, "password": ADMIN_PASSWORD}, **sections}))
        self.log_path = workdir / "cloud.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, source: str | None = None, **kwargs: Any) -> httpx.Client:
        return client(self.base, source, **kwargs)

    def start(self, timeout: float = 60.0) -> "CloudProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sebiao", "cloud", "--config", str(self.config), "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                preexec_fn=die_with_parent if threading.current_thread() is threading.main_thread() else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sebiao cloud exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"sebiao cloud did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def admin_token(self) -> str:
        with self.client() as c:
            r = c.post("/api/v1/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def __enter__(self) -> "CloudProcess":
        return self if self.proc is not None and self.proc.poll() is None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
