"""Updates over Wi-Fi on the host: a signed release (built here with ``cryptography``, by
docs/fleet.md) served by a real HTTP server on loopback, a station on HostBoard and ``sebiao
station`` processes with real Mosquitto. The virtual station resets by starting itself again, so
after the switch it really runs the new files, confirms, or is rolled back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from gateway_proc import write_config
from release_signing import build_release, firmware_files, new_key, public_json
from station_proc import StationProcess

from edge_gateway.config import load_config
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
sys.path.insert(0, str(FIRMWARE))

import sebiao_boot  # noqa: E402
from sebiao_sim.host import POWER_CUT_EXIT, HostBoard  # noqa: E402
from sebiao_station import VERSION, config  # noqa: E402
from sebiao_station.app import Station  # noqa: E402

pytestmark = pytest.mark.slow
TOKEN = "3f2a9c0d1e6b4a7f8c9d0e1f2a3b4c5d"
STATION = "rack-red-1"


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def key():
    return new_key()


@pytest.fixture
def web(tmp_path):
    """A plain HTTP/1.0 file server on loopback: (its root, its port)."""
    www = tmp_path / "www"
    www.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Files, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, server.server_address[1]
    server.shutdown()
    server.server_close()


def _release(www: Path, key, version: str = "0.2.0", extra: dict | None = None) -> Path:
    return build_release(www / "fw" / TOKEN, version, firmware_files(version, extra), key)


def _cmd(port: int, version: str = "0.2.0") -> str:
    return json.dumps({"v": 1, "cmd": "update", "version": version, "host": "127.0.0.1", "port": port,
                       "path": f"/fw/{TOKEN}/"})


def _imported_from(flash: Path) -> str:
    """What a board whose flash this is would run: select, then import sebiao_station (a new process)."""
    code = ("import sys; sys.path.insert(0, %r); import sebiao_boot; slot = sebiao_boot.select(%r); "
            "sys.path.insert(0, slot) if slot else None; import sebiao_station; "
            "print(sebiao_station.VERSION, sebiao_station.__file__)" % (str(FIRMWARE), str(flash)))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def _hostboard_station(flash: Path, key, broker=None):
    flash.mkdir(parents=True, exist_ok=True)
    (flash / "release_key.json").write_text(public_json(key))
    user, password = broker.account(STATION) if broker else ("x", "y")
    cfg = config.validate({"workshop": broker.config.workshop.id if broker else "ws", "station": STATION,
                           "broker": {"host": "127.0.0.1", "port": broker.port if broker else 9,
                                      "username": user, "password": password, "keepalive_s": 10},
                           "timing": {"backoff_min_ms": 200, "backoff_max_ms": 1000, "socket_timeout_ms": 1000,
                                      "puback_timeout_ms": 1000}})
    board = HostBoard(str(flash))
    st = Station(board, cfg)
    st.start()
    return board, st


def _run(st, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        st.step()
        if until is not None and until():
            return True
        time.sleep(0.02)
    return False


def test_a_hostboard_station_fetches_a_signed_release_over_http(mosquitto, web, key, tmp_path):
    broker = mosquitto()
    www, port = web
    rel = _release(www, key)
    flash = tmp_path / "flash"
    board, st = _hostboard_station(flash, key, broker)
    ws = broker.config.workshop.id
    with broker.client("gateway") as gw:
        gw.subscribe(f"sebiao/{ws}/{STATION}/status")
        assert _run(st, 10, lambda: st.link.up)
        gw.publish(f"sebiao/{ws}/{STATION}/cmd", _cmd(port))
        with pytest.raises(SystemExit, match="reset"):
            _run(st, 30)
        seen = [json.loads(m.payload).get("update") for m in gw.receive_until(
            lambda m: (json.loads(m.payload).get("update") or {}).get("state") == "switching", timeout=10)]
    assert {"version": "0.2.0", "state": "downloading", "done": 0, "of": len(firmware_files("0.2.0"))} in seen
    assert json.loads((flash / "fw" / "trial").read_text()) == {"slot": "a", "version": "0.2.0", "boots": 0}
    for p in firmware_files("0.2.0"):
        assert (flash / "fw_a" / p).read_bytes() == (rel / "files" / p).read_bytes(), p
    version, where = _imported_from(flash).split(" ")
    assert version == "0.2.0" and where == str(flash / "fw_a" / "sebiao_station" / "__init__.py")


def test_a_file_changed_on_the_server_after_signing_fails_and_the_old_version_runs_on(web, key, tmp_path):
    www, port = web
    rel = _release(www, key)
    app = rel / "files" / "sebiao_station" / "app.py"
    app.write_bytes(app.read_bytes().replace(b"LOOP_MS = 50", b"LOOP_MS = 40"))  # same size, other bytes
    flash = tmp_path / "flash"
    board, st = _hostboard_station(flash, key)
    st.command(json.loads(_cmd(port)))
    assert _run(st, 20, lambda: st.updater is None)
    assert st.update == {"version": "0.2.0", "state": "failed", "error": "hash sebiao_station/app.py"}
    assert not (flash / "fw" / "trial").exists()
    assert _imported_from(flash) == f"{VERSION} {FIRMWARE / 'sebiao_station' / '__init__.py'}"


# ---- `sebiao station`: it restarts the way a board boots

@pytest.fixture
def station_config_file(mosquitto, tmp_path):
    broker = mosquitto()
    config_path = write_config(tmp_path / "workshop.yaml", broker)
    configs = tmp_path / "stations"
    write_station_configs(load_config(config_path), broker.credentials, configs,
                          ProvisionOptions(broker_url=broker.url))
    return broker, configs / STATION / "config.json"


def _station(cfg: Path, tmp_path: Path, key) -> StationProcess:
    key_file = tmp_path / "release_key.json"
    key_file.write_text(public_json(key))
    return StationProcess(cfg, tmp_path / "flash", "--release-key", str(key_file), "--keep-running")


def _send_update(broker, port: int) -> None:
    with broker.client("gateway") as gw:
        gw.publish(f"sebiao/{broker.config.workshop.id}/{STATION}/cmd", _cmd(port))


def _retained_status(broker) -> dict:
    with broker.client("gateway") as gw:
        gw.subscribe(f"sebiao/{broker.config.workshop.id}/{STATION}/status")
        return json.loads(gw.expect(timeout=5).payload)


def test_sebiao_station_updates_restarts_into_the_new_files_and_confirms(station_config_file, web, key, tmp_path):
    broker, cfg = station_config_file
    www, port = web
    _release(www, key)
    st = _station(cfg, tmp_path, key)
    try:
        st.expect(f"firmware {VERSION} (factory)")
        st.expect("connected to the broker")
        _send_update(broker, port)
        st.expect("update 0.2.0: switching", timeout=30)
        st.expect("the station resets")
        st.expect("firmware 0.2.0 (fw_a)", timeout=20)
        st.expect("update 0.2.0: confirmed", timeout=20)
        deadline = time.monotonic() + 10
        while (status := _retained_status(broker)).get("update", {}).get("state") != "confirmed" \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status["fw"] == "0.2.0" and status["update"] == {"version": "0.2.0", "state": "confirmed"}
        assert (tmp_path / "flash" / "fw" / "current").read_text() == "a"
    finally:
        st.kill()


def test_a_release_that_crashes_on_trial_is_rolled_back(station_config_file, web, key, tmp_path):
    broker, cfg = station_config_file
    www, port = web
    broken = (FIRMWARE / "sebiao_station" / "app.py").read_bytes() + b"\nraise RuntimeError('broken release')\n"
    _release(www, key, extra={"sebiao_station/app.py": broken})
    st = _station(cfg, tmp_path, key)
    try:
        st.expect("connected to the broker")
        _send_update(broker, port)
        st.expect("the version on trial crashed: RuntimeError", timeout=30)
        st.expect(f"firmware {VERSION} (factory)", timeout=20)
        st.expect("update 0.2.0: rolled_back (crash RuntimeError)")
        st.expect("connected to the broker")
        status = _retained_status(broker)
        assert status["fw"] == VERSION and status["update"] == {"version": "0.2.0", "state": "rolled_back",
                                                                "error": "crash RuntimeError"}
    finally:
        st.kill()


@pytest.mark.parametrize("cut, after", [("update chunk#20", "factory"), ("update trial", "fw_a"),
                                        ("confirm result", "fw_a")])
def test_a_power_cut_during_the_update_leaves_a_station_that_boots(station_config_file, web, key, tmp_path,
                                                                   monkeypatch, cut, after):
    broker, cfg = station_config_file
    www, port = web
    _release(www, key)
    monkeypatch.setenv("SEBIAO_POWER_CUT", cut)
    st = _station(cfg, tmp_path, key)
    try:
        st.expect("connected to the broker")
        _send_update(broker, port)
        assert st.proc.wait(60) == POWER_CUT_EXIT
    finally:
        st.kill()
    monkeypatch.delenv("SEBIAO_POWER_CUT")
    st = _station(cfg, tmp_path, key)
    try:
        version = VERSION if after == "factory" else "0.2.0"
        st.expect(f"firmware {version} ({after})", timeout=20)
        if after == "factory":  # the next attempt works
            st.expect("connected to the broker")
            _send_update(broker, port)
            st.expect("firmware 0.2.0 (fw_a)", timeout=40)
        st.expect("update 0.2.0: confirmed", timeout=20)
    finally:
        st.kill()
    assert sebiao_boot.current(str(tmp_path / "flash")) == "a"


def test_release_key_goes_onto_the_flash_and_a_wrong_one_is_named(key, tmp_path):
    from edge_gateway.vstation.runner import install_release_key
    from sebiao_common.errors import SebiaoError

    good = tmp_path / "key.json"
    good.write_text(public_json(key).upper().replace('"E"', '"e"').replace('"N"', '"n"'))  # upper-case hex too
    install_release_key(tmp_path / "flash", good)
    assert json.loads((tmp_path / "flash" / "release_key.json").read_text()) == json.loads(public_json(key))
    for text in ('{"e":3,"n":"%s"}' % json.loads(public_json(key))["n"], '{"e":65537,"n":"abc"}', "[]", "{"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(SebiaoError, match="bad.json"):
            install_release_key(tmp_path / "flash2", bad)
