"""Node-RED for the peer benchmark (``peer_nodered.py``): installed from the npm registry into a cache
directory, run as its own process on one of the flows in ``benchmarks/nodered/``.

Node-RED 4 needs Node 22 or later; the ``node@22`` npm package brings a Node binary, so the machine's own
Node does not matter. The cache (default ``~/.cache/sebiao-bench/nodered``) is reused by later runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import httpx
from servers import _die_with_parent, free_port

HERE = Path(__file__).resolve().parent / "nodered"
PACKAGES = ("node@22", "node-red@4", "node-red-contrib-influxdb@0.7")
DEFAULT_CACHE = Path.home() / ".cache" / "sebiao-bench" / "nodered"


def installed(cache: Path) -> dict[str, str]:
    """Versions of what the cache holds (empty when something is missing)."""
    found = {}
    for name in ("node", "node-red", "node-red-contrib-influxdb"):
        manifest = cache / "node_modules" / name / "package.json"
        if not manifest.exists():
            return {}
        found[name] = json.loads(manifest.read_text("utf-8"))["version"]
    return found if node_binary(cache).exists() else {}


def node_binary(cache: Path) -> Path:
    return cache / "node_modules" / "node" / "bin" / "node"


def install(cache: Path) -> dict[str, str]:
    """Node 22, Node-RED and node-red-contrib-influxdb in ``cache`` (npm), unless already there."""
    versions = installed(cache)
    if versions:
        print(f"Node-RED: reusing {cache} ({', '.join(f'{k} {v}' for k, v in versions.items())})")
        return versions
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: install Node.js and npm (any version: Node 22 itself comes from npm)")
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "package.json").exists():
        (cache / "package.json").write_text('{"name": "sebiao-bench-nodered", "private": true}\n', "utf-8")
    print(f"Node-RED: installing {' '.join(PACKAGES)} into {cache} (npm registry)", flush=True)
    subprocess.run([npm, "install", "--no-audit", "--no-fund", *PACKAGES], cwd=cache, check=True)
    versions = installed(cache)
    if not versions:
        raise SystemExit(f"npm install left {cache} incomplete: no {node_binary(cache)}")
    print(f"Node-RED: installed {', '.join(f'{k} {v}' for k, v in versions.items())}")
    return versions


def lookup_table(config) -> dict:
    """What the flow's colour rule needs, from the workshop config the gateway reads."""
    return {"tags": {t.tag: {"id": t.id, "color": t.color, "kind": str(getattr(t.kind, "value", t.kind))}
                     for t in config.tools},
            "stations": {s.id: {"zone": s.zone, "kind": s.kind.value} for s in config.stations}}


class NodeRedProcess:
    """One Node-RED with one flow, in its own user dir; ``taken()`` is the flow's count of events."""

    def __init__(self, cache: Path, flow: str, workdir: Path, env: dict[str, str]) -> None:
        self.cache, self.workdir = cache, workdir
        self.name = f"Node-RED ({flow})"
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "settings.js", workdir / "settings.js")
        shutil.copy(HERE / f"flow_{flow}.json", workdir / "flows.json")
        # credentialSecret is false in settings.js: the broker account is read from this file as it is
        creds = {"b0e1a1f5c01000b1": {"user": env.pop("MQTT_USER"), "password": env.pop("MQTT_PASSWORD")},
                 "b0e1a1f5c01000c1": {"username": "", "password": ""}}
        (workdir / "flows_cred.json").write_text(json.dumps(creds), "utf-8")
        self.env = {**os.environ, **env, "NR_PORT": str(self.port)}
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 90.0) -> "NodeRedProcess":
        red = self.cache / "node_modules" / "node-red" / "red.js"
        with open(self.workdir / "node-red.log", "ab") as log:
            self.proc = subprocess.Popen([str(node_binary(self.cache)), str(red), "--userDir", str(self.workdir),
                                          "--settings", str(self.workdir / "settings.js")],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=self.workdir, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Node-RED exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                self.taken()
                return self
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.1)
        raise TimeoutError(f"Node-RED did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def taken(self) -> int:
        return int(httpx.get(f"http://127.0.0.1:{self.port}/bench/taken", timeout=5).json()["taken"])

    def stamps(self) -> list[float]:
        """When the function node took each event (wall clock, s; ms resolution)."""
        answer = httpx.get(f"http://127.0.0.1:{self.port}/bench/taken", params={"stamps": 1}, timeout=30)
        return [ms / 1000 for ms in answer.json()["stamps"]]

    def log(self) -> str:
        path = self.workdir / "node-red.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM: Node-RED closes its nodes (the MQTT session is kept: clean session off, no unsubscribe)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
