"""Firmware updates where the two halves meet (docs/fleet.md): real ``sebiao station`` processes (the real firmware
update code, restarting into the new slot as a board boots) updated by the real gateway process through real
Mosquitto, driven by the real ``sebiao fleet update``, with a release made by ``edge_gateway.fleet.release``.

The stations fetch through a small TCP proxy on loopback (``fleet.port`` is the proxy's port), which passes
everything on unchanged unless a test asks it to damage one answer.

Covered: three stations in waves (the first alone, confirmed before the others get the command); a download
damaged on the way (``failed`` ``hash``, the old version runs on and still sends events, the others are never
started, exit 1 naming the station and why); a station holding another release key (``failed`` ``signature``); a
new version that cannot reach the broker (reset, rolled back with its error, the job stops); a power cut after
the switch (the station boots the new version on trial and confirms, the job completes) and one in the middle of
the download (the old version boots and says the attempt was lost: the job fails that station at once; a station
that does not come back is failed by the timeout); the gateway restarted while a
station downloads (the station asks again, the job and ``sebiao fleet update`` go on).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from servers import ROOT, _die_with_parent
from station_proc import StationProcess

from edge_gateway.config import load_config
from edge_gateway.fleet.release import PRIVATE_KEY, PUBLIC_KEY, build, make_key
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs
from edge_gateway.tooling.firmware_files import firmware_dir

pytestmark = pytest.mark.slow

NEW = "0.2.0"
OLD = re.search(r'VERSION = "([^"]+)"', (firmware_dir() / "sebiao_station" / "__init__.py").read_text()).group(1)
A, B, C = "rack-red-1", "rack-green-1", "rack-white-1"
KNIFE = "04A224E2C65E80"  # KN-R-01, red, home rack-red-1
POWER_CUT_EXIT = 86  # firmware/sebiao_sim/host.py
APP = "sebiao_station/app.py"


def _release(out: Path, key_dir: Path, patches: dict[str, tuple[str, str]] | None = None) -> Path:
    """The firmware tree as version 0.2.0 (``patches``: file -> (text, replacement), each found exactly once),
    built and signed by ``edge_gateway.fleet.release.build``."""
    tree = out / "fw"
    shutil.copytree(firmware_dir() / "sebiao_station", tree / "sebiao_station",
                    ignore=shutil.ignore_patterns("__pycache__"))
    edits = {"__init__.py": (f'VERSION = "{OLD}"', f'VERSION = "{NEW}"'), **(patches or {})}
    for name, (old, new) in edits.items():
        path = tree / "sebiao_station" / name
        text = path.read_text("utf-8")
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new), "utf-8")
    build(tree, out / "release", key_dir / PRIVATE_KEY)
    return out / "release"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """The release key the gateway and the stations trust, and another one."""
    tmp = tmp_path_factory.mktemp("keys")
    make_key(tmp / "keys")
    make_key(tmp / "other")
    return tmp / "keys", tmp / "other"


@pytest.fixture(scope="module")
def release(keys, tmp_path_factory):
    return _release(tmp_path_factory.mktemp("release"), keys[0])


class Proxy:
    """A TCP proxy on loopback in front of the gateway's HTTP port, one request a connection (HTTP/1.0, as the
    station asks). With ``corrupt`` set to a path ending, the body of the next 200 answer to such a GET gets one
    byte flipped (same length: only the hash can tell)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = 0
        self.corrupt: str | None = None
        self.delay = 0.0  # seconds before each answer goes on (a slow Wi-Fi)
        self.requests: list[str] = []
        self.flipped: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            up = socket.create_connection(("127.0.0.1", self.target), timeout=10)
        except OSError:  # the gateway is not there: the station's connection is refused as it would be
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        with conn, up:
            conn.settimeout(10)
            request = b""
            while b"\r\n\r\n" not in request:
                got = conn.recv(4096)
                if not got:
                    return
                request += got
            up.sendall(request)
            answer = b""
            while got := up.recv(65536):
                answer += got
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            self.requests.append(line)
            head, sep, body = answer.partition(b"\r\n\r\n")
            if self.corrupt and line.split(" ")[1].endswith(self.corrupt) and b" 200 " in head.split(b"\r\n")[0] \
                    and body:
                self.corrupt = None
                i = len(body) // 2
                body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
                self.flipped.append(line)
            time.sleep(self.delay)
            conn.sendall(head + sep + body)

    def close(self) -> None:
        self.server.close()


class Rig:
    """Mosquitto, the gateway (``fleet:`` with a short station timeout, the stations fetching through the proxy),
    the stations' configs as ``sebiao firmware provision`` writes them, and the stations started."""

    def __init__(self, broker, tmp: Path, keys: tuple[Path, Path], timeout_s: int) -> None:
        self.broker, self.tmp, self.keys = broker, tmp, keys
        tmp.mkdir(parents=True)
        self.proxy = Proxy()
        config = write_config(tmp / "workshop.yaml", broker,
                              fleet={"release_key": str(keys[0] / PUBLIC_KEY), "station_timeout_seconds": timeout_s,
                                     "port": self.proxy.port})
        self.configs = tmp / "stations"
        write_station_configs(load_config(config), broker.credentials, self.configs,
                              ProvisionOptions(broker_url=broker.url))
        self.gateway = GatewayProcess(config, tmp / "data").start()
        self.proxy.target = self.gateway.http_port
        self.stations: dict[str, StationProcess] = {}

    def station(self, station_id: str, key_dir: Path | None = None, power_cut: str | None = None,
                version: str = OLD, slot: str = "factory") -> StationProcess:
        """``sebiao station`` on its own flash dir (kept across a restart), holding ``key_dir``'s public key
        (default: the gateway's); online, and heard by the gateway, before it is returned."""
        key = (key_dir or self.keys[0]) / PUBLIC_KEY
        old = self.stations.get(station_id)
        if old is not None:
            old.kill()
        st = StationProcess(self.configs / station_id / "config.json", self.tmp / "flash" / station_id,
                            "--release-key", str(key), "--keep-running",
                            env={**os.environ, "SEBIAO_POWER_CUT": power_cut} if power_cut else None)
        self.stations[station_id] = st
        _saw(st, f"firmware {version} ({slot})")
        _saw(st, "connected to the broker")
        self.gateway.wait_for(lambda: self.seen(station_id, online=True, fw=version), timeout=10,
                              what=f"{station_id} online with {version} at the gateway")
        return st

    def seen(self, station_id: str, **fields) -> dict | None:
        """The station as ``GET /api/fleet/stations`` shows it, when it has ``fields``."""
        row = next(s for s in self.gateway.get("/api/fleet/stations").json() if s["id"] == station_id)
        return row if all(row.get(k) == v for k, v in fields.items()) else None

    def fleet(self, *args: str, background: bool = False, timeout: float = 90):
        cmd = [sys.executable, "-m", "sebiao.cli", "fleet", *args, "--gateway", self.gateway.base, "--token", TOKEN]
        if background:
            return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=_die_with_parent)  # a killed test run leaves no command behind
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def update(self, release: Path, stations: list[str], *more: str, background: bool = False):
        return self.fleet("update", "--release", str(release), "--stations", ",".join(stations), *more,
                          background=background)

    def job(self) -> dict:
        return self.gateway.get("/api/fleet/jobs/current").json()["job"]

    def retained(self, station_id: str) -> dict:
        """The station's retained status at the broker, as a new subscriber gets it (the read-only monitor
        account: Mosquitto takes the user name as the client id, so a "gateway" login would throw the gateway
        off)."""
        with self.broker.client("monitor") as client:
            client.subscribe(f"sebiao/{self.broker.config.workshop.id}/{station_id}/status")
            return json.loads(client.expect(timeout=5).payload)

    def close(self) -> None:
        for st in self.stations.values():
            st.kill()
        self.gateway.stop()
        self.proxy.close()


@pytest.fixture
def rig(mosquitto, tmp_path, keys):
    rigs: list[Rig] = []

    def make(timeout_s: int = 40) -> Rig:
        rigs.append(Rig(mosquitto(), tmp_path / f"rig{len(rigs)}", keys, timeout_s))
        return rigs[-1]

    yield make
    for r in rigs:
        r.close()


def _saw(st: StationProcess, text: str, timeout: float = 20.0) -> None:
    """Until the station has printed a line with ``text`` (the lines stay for ``expect``)."""
    deadline = time.monotonic() + timeout
    while not st.said(text):
        if st.proc.poll() is not None:
            st._pumper.join(5)  # every line it printed
            if st.said(text):
                return
        if time.monotonic() > deadline or st.proc.poll() is not None:
            ended = "" if st.proc.poll() is None else f"; it exited with {st.proc.returncode}: " \
                f"{st.proc.stderr.read()[-2000:]}"
            raise TimeoutError(f"no line with {text!r} within {timeout} s; got {[line for _, line in st.stamped]}"
                               + ended)
        time.sleep(0.02)


def _never_commanded(*stations: StationProcess) -> None:
    for st in stations:
        assert not st.said("firmware update:"), st.seen


def _tool(gateway, tool_id):
    return next(t for t in gateway.get("/api/tools").json() if t["id"] == tool_id)


def test_three_stations_are_updated_in_waves_and_run_the_new_version(rig, release):
    r = rig()
    stations = {s: r.station(s) for s in (A, B, C)}
    done = r.update(release, [A, B, C], "--wave-size", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: the stations run version 0.2.0" in done.stdout
    for sid, st in stations.items():
        st.expect("firmware 0.2.0 (fw_a)", timeout=5)
        st.expect("update 0.2.0: confirmed", timeout=5)
        assert len(st.said("firmware update: 0.2.0")) == 1
        status = r.retained(sid)
        assert status["fw"] == NEW and status["update"] == {"version": NEW, "state": "confirmed"}, status
        assert (r.tmp / "flash" / sid / "fw" / "current").read_text() == "a"
    job = r.job()
    assert job["state"] == "done" and [t["wave"] for t in job["targets"]] == [0, 1, 1]
    assert all(t["state"] == "done" for t in job["targets"])
    # the first station confirmed before any other got its command: in the job, and as the stations saw it
    assert all(t["started_at"] >= job["targets"][0]["ended_at"] for t in job["targets"][1:])
    confirmed = stations[A].said("update 0.2.0: confirmed")[0]
    assert all(stations[s].said("firmware update: 0.2.0")[0] > confirmed for s in (B, C))
    assert all(re.match(r"GET /fw/[0-9a-f]{32}/", line) for line in r.proxy.requests)  # fetched through fleet.port
    # an update is one reset: no station_resets alarm (docs/alarms.md: 3 within the hour)
    assert not [a for a in r.gateway.get("/api/alarms?state=active").json() if a["type"] == "station_resets"]


def test_a_download_damaged_on_the_way_fails_and_the_old_version_runs_on(rig, release):
    r = rig()
    a, b, c = (r.station(s) for s in (A, B, C))
    r.proxy.corrupt = "files/" + APP
    done = r.update(release, [A, B, C], "--wave-size", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"station {A} failed: failed (hash {APP})" in done.stderr
    assert f"not started, still on their version: {B}, {C}" in done.stderr
    assert len(r.proxy.flipped) == 1 and r.proxy.flipped[0].endswith(f"/files/{APP} HTTP/1.0")
    a.expect(f"update 0.2.0: failed (hash {APP})", timeout=5)
    assert not a.said("the station resets") and not (r.tmp / "flash" / A / "fw" / "trial").exists()
    status = r.retained(A)
    assert status["fw"] == OLD and status["update"] == {"version": NEW, "state": "failed", "error": f"hash {APP}"}
    # the old version still reads tags and sends events
    a.send(f"place {KNIFE} KN-R-01 knife red")
    a.expect("placed")
    r.gateway.wait_for(lambda: _tool(r.gateway, "KN-R-01")["state"] == "on_rack"
                       and _tool(r.gateway, "KN-R-01")["station"] == A, what="KN-R-01 on its rack")
    job = r.job()
    assert job["state"] == "failed" and job["reason"] == f"{A}: failed (hash {APP})"
    assert [t["state"] for t in job["targets"]] == ["failed", "not_started", "not_started"]
    time.sleep(1.5)  # a tick more: still nothing for the others
    _never_commanded(b, c)


def test_a_station_holding_another_release_key_fails_on_the_signature(rig, release, keys):
    r = rig()
    a, b = r.station(A, key_dir=keys[1]), r.station(B)
    done = r.update(release, [A, B])
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"station {A} failed: failed (signature)" in done.stderr
    a.expect("update 0.2.0: failed (signature)", timeout=5)
    # nothing but the manifest and its signature was fetched: the files come only after the signature checks
    assert [line.split("/")[3].split(" ")[0] for line in r.proxy.requests] == ["manifest.json", "manifest.sig"]
    job = r.job()
    assert job["state"] == "failed" and [t["state"] for t in job["targets"]] == ["failed", "not_started"]
    assert r.retained(A)["fw"] == OLD
    _never_commanded(b)
    # asked again, it fails again, in the same words: judged as this attempt's outcome, not the timeout
    t0 = time.monotonic()
    again = r.update(release, [A, B])
    assert again.returncode == 1 and f"station {A} failed: failed (signature)" in again.stderr, again.stderr
    assert time.monotonic() - t0 < 20 and len(a.said("firmware update: 0.2.0")) == 2
    _never_commanded(b)


def test_a_new_version_that_cannot_reach_the_broker_is_rolled_back(rig, keys, tmp_path):
    # The released version decides its own trial window (trial.py runs from the new slot), so a release whose
    # window is 4 s, not 120 s, keeps this test short; its link connects to port 1, where no broker listens.
    broken = _release(tmp_path / "broken", keys[0], {
        "link.py": ('b["host"], b["port"],', 'b["host"], 1,'),
        "trial.py": ("CONFIRM_MS = 120000", "CONFIRM_MS = 4000"),
    })
    r = rig()
    a, b = r.station(A), r.station(B)
    done = r.update(broken, [A, B])
    assert done.returncode == 1, done.stdout + done.stderr
    why = "not confirmed in 4 s: no broker"
    assert f"station {A} failed: rolled_back ({why})" in done.stderr
    a.expect("firmware 0.2.0 (fw_a)", timeout=5)  # it did run the new version
    a.expect(f"firmware {OLD} (factory)", timeout=5)  # then reset and came back to the old one
    a.expect(f"update 0.2.0: rolled_back ({why})", timeout=5)
    status = r.retained(A)
    assert status["fw"] == OLD and status["update"] == {"version": NEW, "state": "rolled_back", "error": why}
    job = r.job()
    assert job["state"] == "failed" and job["reason"] == f"{A}: rolled_back ({why})"
    assert [t["state"] for t in job["targets"]] == ["failed", "not_started"]
    _never_commanded(b)


@pytest.mark.parametrize("cut", [
    "update trial",  # fw/trial written, the reset not reached: the new version boots on trial and confirms
    "tmp result",  # during the confirmation, fw/current written: the boot finishes it (fw/result confirmed)
])
def test_a_power_cut_after_the_switch_boots_the_new_version_which_confirms(rig, release, cut):
    r = rig()
    a = r.station(A, power_cut=cut)
    b = r.station(B)
    job = r.update(release, [A, B], background=True)
    try:
        assert a.proc.wait(30) == POWER_CUT_EXIT
        assert (r.tmp / "flash" / A / "fw" / "trial").exists()
        a = r.station(A, version=NEW, slot="fw_a")  # power back: it boots the new version
        a.expect("update 0.2.0: confirmed", timeout=20)
        out, err = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 0, out + err
    assert r.job()["state"] == "done" and [t["state"] for t in r.job()["targets"]] == ["done", "done"]
    b.expect("update 0.2.0: confirmed", timeout=5)
    for sid in (A, B):
        status = r.retained(sid)
        assert status["fw"] == NEW and status["update"] == {"version": NEW, "state": "confirmed"}


def test_a_power_cut_during_the_download_leaves_the_old_version_which_says_the_attempt_was_lost(rig, release):
    r = rig()  # station_timeout_seconds 40: the job must end well before it
    a = r.station(A, power_cut="update chunk#20")  # in the middle of the files, before the switch
    b = r.station(B)
    t0 = time.monotonic()
    job = r.update(release, [A, B], background=True)
    try:
        assert a.proc.wait(30) == POWER_CUT_EXIT
        a = r.station(A)  # power back: the old version, the half-written slot never booted
        out, err = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 1, out + err
    assert f"station {A} failed: failed (reset during the download)" in err, err
    assert time.monotonic() - t0 < 30  # told by the station, not found by the timeout
    assert f"not started, still on their version: {B}" in err
    assert r.job()["state"] == "failed"
    status = r.retained(A)
    assert status["fw"] == OLD and status["update"] == {"version": NEW, "state": "failed",
                                                        "error": "reset during the download"}
    a.send(f"place {KNIFE} KN-R-01 knife red")  # and it works
    a.expect("placed")
    _never_commanded(b)


def test_a_station_that_does_not_come_back_is_failed_by_the_timeout(rig, release):
    # docs/fleet.md "The job": a station started and not ended within station_timeout_seconds has failed
    r = rig(timeout_s=6)
    a = r.station(A, power_cut="update chunk#20")  # and the power stays off
    b = r.station(B)
    done = r.update(release, [A, B])
    assert a.proc.poll() == POWER_CUT_EXIT
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(rf"station {A} failed: timeout: no outcome within 6 s \(last: downloading \d+/\d+\)",
                     done.stderr), done.stderr
    assert f"not started, still on their version: {B}" in done.stderr
    _never_commanded(b)


def test_a_gateway_restarted_while_a_station_downloads_goes_on_with_it(rig, release):
    # docs/fleet.md "The job": the job and its tokens survive the gateway's restart, and the station asks again
    # for what was refused meanwhile (update.py RETRIES); `sebiao fleet update` waits for the gateway to come back
    r = rig()
    a = r.station(A)
    r.proxy.delay = 0.1  # a slow Wi-Fi: the restart comes in the middle of the files
    job = r.update(release, [A], background=True)
    try:
        r.gateway.wait_for(lambda: sum("/files/" in q for q in r.proxy.requests) >= 3, timeout=20, what="3 files")
        r.gateway.stop()
        r.gateway.start()
        out, err = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 0, out + err
    assert "the gateway cannot be reached (restarting?)" in err
    a.expect("update 0.2.0: confirmed", timeout=5)
    assert not a.said("failed") and len(a.said("firmware update: 0.2.0")) == 1  # the same attempt, its token
    done = r.job()
    assert done["state"] == "done" and [(t["state"], t["attempt"]) for t in done["targets"]] == [("done", 1)]
