"""Firmware updates over Wi-Fi, the gateway's side (docs/fleet.md), against the real gateway process and real
Mosquitto. Each station is played by a scripted MQTT client that does what docs/fleet.md asks of a station: it
takes the ``update`` command, fetches the release over HTTP with its token, checks the signature and every file,
and reports ``downloading``, ``switching``, then the new ``fw`` and ``confirmed`` (or ``failed``).

Covered: a job of three stations in waves finishing (``sebiao fleet update``, exit 0), a job stopped by its first
station failing (the others never get the command, exit 1 naming the station and the reason), a station with
unsent events not started until its buffer is empty, a gateway restarted while a station downloads (the job
goes on, the token still serves), the download URLs attacked (another station's, a used, an expired or a forged
token, no token, path traversal: 404), the API without its token (401), an oversized, unsigned or tampered
upload (413, 422 naming the file).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from raw_http import announce_huge, stream_chunked
from servers import ROOT, example_config
from stations_mqtt import ScriptedStation

from edge_gateway.fleet.release import (
    PRIVATE_KEY,
    PUBLIC_KEY,
    ReleaseError,
    build,
    check_file,
    check_signature,
    load_public_key,
    make_key,
    parse_manifest,
)
from edge_gateway.model.protocol import cmd_topic
from edge_gateway.tooling.firmware_files import firmware_dir

pytestmark = pytest.mark.slow

OLD, NEW = "0.1.0", "0.2.0"
A, B, C = "rack-red-1", "rack-green-1", "rack-white-1"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The release key and a release of the firmware tree as version 0.2.0."""
    tmp = tmp_path_factory.mktemp("fleet")
    make_key(tmp / "keys")
    tree = tmp / "fw"
    shutil.copytree(firmware_dir() / "sebiao_station", tree / "sebiao_station",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = tree / "sebiao_station" / "__init__.py"
    init.write_text(re.sub(r'VERSION = "[^"]+"', f'VERSION = "{NEW}"', init.read_text("utf-8")), "utf-8")
    build(tree, tmp / "release", tmp / "keys" / PRIVATE_KEY)
    return tmp / "keys", tmp / "release"


class FleetStation:
    """A station that follows docs/fleet.md over real MQTT and HTTP. ``behaviour``: ``ok``; ``fail`` (a file's
    hash does not match, as if the download was damaged); ``ignore`` (never answers the command); ``hold``
    (stops after the manifest until ``go`` is set, then goes on)."""

    def __init__(self, broker, station_id: str, key_path: Path, behaviour: str = "ok", buffer_depth: int = 0):
        self.config = example_config()
        self.id, self.behaviour, self.depth = station_id, behaviour, buffer_depth
        self.key = load_public_key(key_path)
        self.fw, self.update = OLD, None
        self.commands: list[dict] = []
        self.fetched = threading.Event()  # the manifest came
        self.go = threading.Event()
        self.outcome = ""
        self.station = ScriptedStation(broker, self.config, station_id)
        self.station.client.subscribe(cmd_topic(self.config.workshop.id, station_id))
        self.report()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def report(self, online: bool = True) -> None:
        health = {"buffer_depth": self.depth, "fw": self.fw, "settings": "d05516785b28"}
        if self.update is not None:
            health["update"] = self.update
        self.station.status(online, **health)

    def set_update(self, state: str, **more) -> None:
        self.update = {"version": NEW, "state": state, **more}
        self.report()

    def _run(self) -> None:
        while self.running:
            try:
                message = self.station.client.messages.get(timeout=0.1)
            except Exception:  # queue.Empty
                continue
            command = json.loads(message.payload)
            if command.get("cmd") == "update":
                self.commands.append(command)
                if self.behaviour != "ignore":
                    self._update(command)

    def _update(self, command: dict) -> None:
        base = f"http://127.0.0.1:{command['port']}{command['path']}"
        manifest, sig = httpx.get(base + "manifest.json"), httpx.get(base + "manifest.sig")
        self.fetched.set()
        if manifest.status_code != 200 or sig.status_code != 200:
            return self.set_update("failed", error=f"http {manifest.status_code}")
        try:
            check_signature(manifest.content, sig.content, self.key, "manifest.sig")
            _, entries = parse_manifest(manifest.content, "manifest.json")
        except ReleaseError:
            return self.set_update("failed", error="signature")
        self.set_update("downloading", done=0, of=len(entries))
        if self.behaviour == "hold":
            self.go.wait(60)
        for entry in entries:
            got = httpx.get(base + "files/" + entry.path)
            if got.status_code != 200:
                return self.set_update("failed", error=f"http {got.status_code}")
            assert int(got.headers["content-length"]) == entry.size
            try:
                check_file(entry, got.content if self.behaviour != "fail" else got.content + b"x", entry.path)
            except ReleaseError:
                self.outcome = "failed"
                return self.set_update("failed", error=f"hash {entry.path}")
        self.set_update("switching")
        self.report(online=False)  # the reset: its last will
        self.fw = NEW
        self.set_update("trial")
        self.set_update("confirmed")
        self.outcome = "confirmed"

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        self.station.close()


class Rig:
    def __init__(self, broker, tmp: Path, made, **fleet) -> None:
        keys, self.release = made
        self.keys = keys
        self.broker = broker
        tmp.mkdir(parents=True, exist_ok=True)
        config = write_config(tmp / "workshop.yaml", broker,
                              fleet={"release_key": str(keys / PUBLIC_KEY), "station_timeout_seconds": 30, **fleet})
        self.gateway = GatewayProcess(config, tmp / "data").start()
        self.stations: dict[str, FleetStation] = {}

    def station(self, station_id: str, behaviour: str = "ok", buffer_depth: int = 0) -> FleetStation:
        self.stations[station_id] = FleetStation(self.broker, station_id, self.keys / PUBLIC_KEY, behaviour,
                                                 buffer_depth)
        return self.stations[station_id]

    def fleet(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sebiao.cli", "fleet", *args, "--gateway", self.gateway.base,
                               "--token", TOKEN], cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def upload(self) -> str:
        answer = self.gateway.post("/api/fleet/releases", _body(self.release))
        assert answer.status_code == 201, answer.text
        return answer.json()["release"]

    def start(self, stations: list[str], wave_size: int = 5) -> dict:
        answer = self.gateway.post("/api/fleet/jobs", {"release": self.upload(), "stations": stations,
                                                       "wave_size": wave_size})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def job(self) -> dict:
        return self.gateway.get("/api/fleet/jobs/current").json()["job"]

    def close(self) -> None:
        for station in self.stations.values():
            station.close()
        self.gateway.stop()


@pytest.fixture
def rig(mosquitto, tmp_path, made):
    rigs: list[Rig] = []

    def make(**fleet) -> Rig:
        rigs.append(Rig(mosquitto(), tmp_path / f"rig{len(rigs)}", made, **fleet))
        return rigs[-1]

    yield make
    for r in rigs:
        r.close()


def _body(release: Path, files: dict[str, bytes] | None = None) -> dict:
    listed = json.loads((release / "manifest.json").read_bytes())["files"]
    data = files if files is not None else {f["path"]: (release / "files" / f["path"]).read_bytes() for f in listed}
    return {"manifest": base64.b64encode((release / "manifest.json").read_bytes()).decode(),
            "signature": base64.b64encode((release / "manifest.sig").read_bytes()).decode(),
            "files": {p: base64.b64encode(d).decode() for p, d in data.items()}}


def _raw_get(port: int, path: str, host: str | None = "127.0.0.1") -> tuple[int, bytes]:
    """A GET sent as written (no client normalises ``..`` away), HTTP/1.0 as the station's client."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = f"Host: {host}\r\n" if host else ""
        sock.sendall(f"GET {path} HTTP/1.0\r\n{head}\r\n".encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_job_of_three_stations_in_waves_finishes(rig):
    r = rig()
    stations = [r.station(s) for s in (A, B, C)]
    done = r.fleet("update", "--release", str(r.release), "--stations", f"{A},{B},{C}", "--wave-size", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "全部完成" in done.stdout and "done: the stations run version 0.2.0" in done.stdout
    for s in (A, B, C):  # not a terminal: plain lines, each station's progress to its end
        assert re.search(rf"wave \d  {s}\s+完成 / done  confirmed$", done.stdout, re.M), done.stdout
    assert all(s.outcome == "confirmed" and len(s.commands) == 1 for s in stations)
    first, second, third = (s.commands[0] for s in stations)
    assert first["version"] == NEW and first["port"] == r.gateway.http_port and "host" not in first
    assert len({first["path"], second["path"], third["path"]}) == 3  # a token each
    assert re.fullmatch(r"/fw/[0-9a-f]{32}/", first["path"])
    job = r.job()
    assert job["state"] == "done" and [t["wave"] for t in job["targets"]] == [0, 1, 1]
    assert all(t["state"] == "done" and "token" not in t for t in job["targets"])
    # B and C were started only once A had confirmed: their wave began after A's end
    a_end = job["targets"][0]["ended_at"]
    assert all(t["started_at"] >= a_end for t in job["targets"][1:])
    listed = r.fleet("list")
    assert listed.returncode == 0
    for s in (A, B, C):
        assert re.search(rf"{s}\s+{re.escape(NEW)}\s+d05516785b28\s+在线 / yes\s+0\s+0.2.0 confirmed", listed.stdout), listed.stdout
    # the ended attempts' tokens serve nothing any more
    for command in (first, second, third):
        assert _raw_get(r.gateway.http_port, command["path"] + "manifest.json")[0] == 404
    status = r.fleet("status")
    assert status.returncode == 0 and "完成 / done" in status.stdout


def test_the_first_failure_stops_the_job_and_the_others_never_get_the_command(rig):
    r = rig()
    bad, b, c = r.station(A, "fail"), r.station(B), r.station(C)
    done = r.fleet("update", "--release", str(r.release), "--stations", f"{A},{B},{C}", "--wave-size", "2")
    assert done.returncode == 1
    assert f"station {A} failed: failed (hash sebiao_station/" in done.stderr
    assert f"not started, still on their version: {B}, {C}" in done.stderr
    time.sleep(2)  # a few ticks more: still nothing for them
    assert len(bad.commands) == 1 and b.commands == [] and c.commands == []
    job = r.job()
    assert job["state"] == "failed" and job["reason"].startswith(f"{A}: failed (hash")
    assert [t["state"] for t in job["targets"]] == ["failed", "not_started", "not_started"]


def test_a_station_with_unsent_events_starts_only_once_its_buffer_is_empty(rig):
    r = rig()
    busy = r.station(A, buffer_depth=3)
    r.start([A])
    time.sleep(3)  # three ticks
    assert busy.commands == [] and r.job()["targets"][0]["state"] == "waiting"
    busy.depth = 0
    busy.report()
    r.gateway.wait_for(lambda: busy.outcome == "confirmed", timeout=20, what="the update once the buffer emptied")
    r.gateway.wait_for(lambda: r.job()["state"] == "done", timeout=10, what="the job done")


def test_a_gateway_restarted_mid_job_goes_on(rig):
    r = rig()
    a, b = r.station(A, "hold"), r.station(B)
    r.start([A, B], wave_size=1)
    assert a.fetched.wait(15)
    r.gateway.stop()
    r.gateway.start()
    job = r.job()
    assert job["state"] == "running" and job["targets"][0]["state"] == "updating"
    a.go.set()  # the files now, with the token given before the restart
    r.gateway.wait_for(lambda: r.job()["state"] == "done", timeout=30, what="the job done after the restart")
    assert a.outcome == b.outcome == "confirmed" and len(a.commands) == len(b.commands) == 1


def test_the_download_urls_give_nothing_but_the_release_to_a_valid_token(rig):
    r = rig(station_timeout_seconds=6)
    waiting = r.station(A, "ignore")
    job = r.start([A, B])
    r.gateway.wait_for(lambda: waiting.commands, timeout=10, what="the command")
    path, port = waiting.commands[0]["path"], r.gateway.http_port
    token = path.split("/")[2]
    status, body = _raw_get(port, path + "manifest.json")
    assert status == 200 and body == (r.release / "manifest.json").read_bytes()
    # a station's minimal HTTP/1.0 request: no Host, or its broker's address as the Host (not a name the
    # gateway's Host check knows)
    assert _raw_get(port, path + "manifest.sig", host=None) == (200, (r.release / "manifest.sig").read_bytes())
    assert _raw_get(port, path + "manifest.sig", host="192.168.1.2:1883")[0] == 200
    assert _raw_get(port, "/api/fleet/stations", host="192.168.1.2:1883")[0] != 200  # the rest keeps the check
    head = httpx.head(r.gateway.base + path + "files/sebiao_station/app.py")
    assert head.status_code == 200 and int(head.headers["content-length"]) == \
        (r.release / "files" / "sebiao_station" / "app.py").stat().st_size
    for attack in [
        "/fw/manifest.json", "/fw//manifest.json", f"/fw/{'0' * 32}/manifest.json",  # no token, a forged one
        f"/fw/{token.upper()}/manifest.json", f"/fw/{token[:-1]}/manifest.json",
        f"{path}files/../manifest.json", f"{path}files/sebiao_station/../../manifest.json",
        f"{path}../../healthz", f"{path}files/../../../workshop.yaml", f"{path}%2e%2e/%2e%2e/api/fleet/stations",
        f"{path}files/sebiao_station/%2e%2e/%2e%2e/manifest.sig", f"{path}gateway.sqlite3", f"{path}files/",
        f"{path}files/sebiao_station/app.py/", f"{path}files//sebiao_station/app.py",
    ]:
        assert _raw_get(port, attack)[0] == 404, attack
    assert httpx.post(r.gateway.base + path + "manifest.json").status_code == 404
    # expired: the attempt timed out (6 s); the job failed naming the station and why
    r.gateway.wait_for(lambda: r.job()["state"] == "failed", timeout=15, what="the timeout")
    assert _raw_get(port, path + "manifest.json")[0] == 404
    assert r.job()["reason"] == f"{A}: timeout: no outcome within 6 s (last: sent)"
    # another station's token: B's attempt in a new job is valid; A's old one still is not, and B's own ends
    other = r.station(B, "ignore")
    r.start([B])
    r.gateway.wait_for(lambda: other.commands, timeout=10, what="B's command")
    assert _raw_get(port, other.commands[0]["path"] + "manifest.json")[0] == 200
    assert _raw_get(port, path + "manifest.json")[0] == 404
    assert job["id"] + 1 == r.job()["id"]


def test_the_api_needs_its_token_and_checks_what_it_takes(rig, made):
    r = rig()
    base, port = r.gateway.base, r.gateway.http_port
    for path, body in [("/api/fleet/releases", _body(r.release)), ("/api/fleet/jobs", {"release": "0" * 16}),
                       ("/api/fleet/jobs/current/stop", {})]:
        assert httpx.post(base + path, json=body).status_code == 401, path
        assert httpx.post(base + path, json=body, headers={"Authorization": "Bearer wrong-token-012345"}
                          ).status_code == 401, path
    auth = {"Authorization": f"Bearer {TOKEN}"}
    huge = announce_huge(port, "/api/fleet/releases", auth)
    assert huge.status == 413
    streamed = stream_chunked(port, "/api/fleet/releases", auth, most=64 << 20)
    assert streamed.status == 413 and streamed.sent < 16 << 20  # answered while it still came (socket buffers aside)
    # unsigned by the configured key: refused, naming the signature
    other = made[0].parent / "other-keys"
    if not other.exists():
        make_key(other)
    tree = made[1].parent / "other-release"
    if not tree.exists():
        build(made[1].parent / "fw", tree, other / PRIVATE_KEY)
    answer = r.gateway.post("/api/fleet/releases", _body(tree))
    assert answer.status_code == 422 and "manifest.sig" in answer.json()["error"]
    # a tampered file: refused, naming it
    listed = json.loads((r.release / "manifest.json").read_bytes())["files"]
    files = {f["path"]: (r.release / "files" / f["path"]).read_bytes() for f in listed}
    files["sebiao_station/app.py"] = files["sebiao_station/app.py"].replace(b"def ", b"DEF ", 1)
    answer = r.gateway.post("/api/fleet/releases", _body(r.release, files))
    assert answer.status_code == 422 and "files/sebiao_station/app.py" in answer.json()["error"]
    assert not (r.gateway.data_dir / "fleet" / "releases").exists() or \
        not list((r.gateway.data_dir / "fleet" / "releases").iterdir())
    # a job of an unknown release or station, a second job while one runs, stop without a job
    assert r.gateway.post("/api/fleet/jobs", {"release": "0" * 16}).status_code == 404
    assert r.gateway.post("/api/fleet/jobs", {"release": "../../etc"}).status_code == 404
    release = r.upload()
    assert r.gateway.post("/api/fleet/jobs", {"release": release, "stations": ["nope"]}).status_code == 400
    assert r.gateway.post("/api/fleet/jobs/current/stop").status_code == 409
    r.station(A, "ignore")
    assert r.gateway.post("/api/fleet/jobs", {"release": release, "stations": [A, B]}).status_code == 201
    again = r.gateway.post("/api/fleet/jobs", {"release": release, "stations": [A]})
    assert again.status_code == 409 and "job 1 is running" in again.json()["error"]
    stopped = r.fleet("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert r.job()["state"] == "stopping"  # A updating still: followed to its end; B never starts


def test_without_a_fleet_section_there_is_nothing(mosquitto, tmp_path):
    gateway = GatewayProcess(write_config(tmp_path / "workshop.yaml", mosquitto()), tmp_path / "data").start()
    try:
        assert gateway.get("/api/fleet/stations").status_code == 404
        assert _raw_get(gateway.http_port, f"/fw/{'0' * 32}/manifest.json")[0] == 404
        listed = subprocess.run([sys.executable, "-m", "sebiao.cli", "fleet", "list", "--gateway", gateway.base],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 2 and "the gateway has no fleet: section" in listed.stderr
    finally:
        gateway.stop()


def test_only_the_newest_releases_are_kept(rig, made, tmp_path):
    r = rig()
    keys, release = made
    ids = []
    for n in range(7):
        tree = tmp_path / f"fw{n}"
        shutil.copytree(release.parent / "fw", tree)
        init = tree / "sebiao_station" / "__init__.py"
        init.write_text(re.sub(r'VERSION = "[^"]+"', f'VERSION = "0.3.{n}"', init.read_text("utf-8")), "utf-8")
        build(tree, tmp_path / f"release{n}", keys / PRIVATE_KEY)
        answer = r.gateway.post("/api/fleet/releases", _body(tmp_path / f"release{n}"))
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["release"])
        time.sleep(0.01)
    kept = {d.name for d in (r.gateway.data_dir / "fleet" / "releases").iterdir()}
    assert kept == set(ids[2:])
    assert r.gateway.post("/api/fleet/jobs", {"release": ids[0]}).status_code == 404
