"""``sebiao service install``: the systemd units pass ``systemd-analyze verify``, their ExecStart really runs the
gateway, and that command line killed with SIGKILL and started again loses no event (a power cut)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import ROOT, example_config
from servers import _die_with_parent as die_with_parent
from stations_mqtt import STREAM, close_all, ms_ago, online_stations, stream

from edge_gateway.tooling.service_units import GATEWAY_UNIT, MOSQUITTO_UNIT, exec_start


def sebiao(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def install(tmp: Path, config: Path, *extra: str) -> Path:
    """Units for ``config`` installed under the staging root ``tmp/root``; that root."""
    root = tmp / "root"
    done = sebiao("service", "install", "--config", str(config), "--data", str(tmp / "data"),
                  "--root", str(root), *extra)
    assert done.returncode == 0, done.stderr
    return root


def unit_dir(root: Path) -> Path:
    return root / "etc/systemd/system"


@pytest.fixture
def mosquitto_files(tmp_path: Path) -> tuple[Path, Path]:
    """The example's workshop config and the broker files `sebiao broker-config` wrote for it."""
    config = write_config(tmp_path / "workshop.yaml")
    done = sebiao("broker-config", "--config", str(config), "--out", str(tmp_path / "broker"),
                  "--persistence-dir", str(tmp_path / "mosquitto-db"))
    assert done.returncode == 0, done.stderr
    return config, tmp_path / "broker"


def test_the_units_pass_systemd_analyze_verify(mosquitto_files, tmp_path):
    if shutil.which("systemd-analyze") is None:  # scripts/test installs Debian's systemd, which has it
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    config, broker_dir = mosquitto_files
    root = install(tmp_path, config, "--broker-dir", str(broker_dir))
    units = [unit_dir(root) / GATEWAY_UNIT, unit_dir(root) / MOSQUITTO_UNIT]
    # verify reads unit files by path and needs no running systemd; it exits 0 on unknown keys and bad
    # values but names them, so its whole output must be empty.
    done = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    gateway, mosquitto = (u.read_text("utf-8") for u in units)
    for text in (gateway, mosquitto):
        assert "WantedBy=multi-user.target" in text and "Restart=always" in text
        assert "ProtectSystem=strict" in text and "NoNewPrivileges=yes" in text and "PrivateTmp=yes" in text
        assert "StartLimitIntervalSec=0" in text
    assert f"ReadWritePaths={tmp_path / 'data'}\n" in gateway
    assert f"ReadWritePaths={tmp_path / 'mosquitto-db'}\n" in mosquitto
    assert "After=network.target sebiao-mosquitto.service\n" in gateway
    ordering = [line for line in gateway.splitlines() if line.startswith(("After=", "Wants=", "Requires="))]
    assert not any("time-sync" in line or "network-online" in line for line in ordering)  # offline boots
    assert "User=sebiao\n" in gateway and "TimeoutStopSec=30" in gateway
    assert f"ExecStart={shutil.which('mosquitto') or '/usr/sbin/mosquitto'} -c {broker_dir / 'mosquitto.conf'}" \
        in mosquitto
    assert "Conflicts=mosquitto.service" in mosquitto
    data = root / str(tmp_path / "data").lstrip("/")
    assert data.is_dir() and (data.stat().st_mode & 0o777) == 0o700


def test_a_dry_run_prints_the_units_and_writes_nothing(mosquitto_files, tmp_path):
    config, broker_dir = mosquitto_files
    done = sebiao("service", "install", "--config", str(config), "--data", str(tmp_path / "data"),
                  "--broker-dir", str(broker_dir), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "[Service]" in done.stdout and "useradd" not in done.stdout and "create system user" in done.stdout
    assert not (tmp_path / "data").exists()


def test_a_config_the_service_user_cannot_reach_is_pointed_out(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    config = write_config(closed / "workshop.yaml")
    done = sebiao("service", "install", "--config", str(config), "--data", "/var/lib/sebiao", "--no-mosquitto",
                  "--dry-run")
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stdout.splitlines() if line.startswith(f"注意：--config {config}")]
    assert "无法进入" in note and "cannot enter" in note and "sebiao" in note


def test_a_missing_broker_config_is_named_with_what_to_do(tmp_path):
    config = write_config(tmp_path / "workshop.yaml")
    done = sebiao("service", "install", "--config", str(config), "--data", str(tmp_path / "data"),
                  "--broker-dir", str(tmp_path / "nowhere"), "--root", str(tmp_path / "root"))
    assert done.returncode == 2
    assert "nowhere/mosquitto.conf" in done.stderr and "sebiao broker-config" in done.stderr
    assert not (tmp_path / "root").exists()


def test_a_path_systemd_would_split_is_refused(tmp_path):
    config = write_config(tmp_path / "workshop.yaml")
    done = sebiao("service", "install", "--config", str(config), "--data", str(tmp_path / "my data"),
                  "--no-mosquitto", "--root", str(tmp_path / "root"))
    assert done.returncode == 2 and "--data-dir" in done.stderr and "my data" in done.stderr


class UnitGateway(GatewayProcess):
    """The gateway started by its unit's ExecStart command line, as systemd would (without its sandbox unless
    ``prefix`` gives one)."""

    def __init__(self, argv: list[str], config: Path, data_dir: Path, prefix: tuple[str, ...] = ()) -> None:
        super().__init__(config, data_dir)
        self.argv = [*prefix, *argv]

    def start(self, timeout: float = 20.0) -> "UnitGateway":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=ROOT,
                                     preexec_fn=die_with_parent)
        log.close()
        self.wait_ready(timeout)  # listening.json from this pid, then /healthz with the broker connected
        return self


@pytest.mark.slow
def test_the_units_exec_start_serves_and_a_kill_9_loses_nothing(mosquitto, tmp_path):
    broker = mosquitto()
    config = write_config(tmp_path / "workshop.yaml", broker)
    root = install(tmp_path, config, "--no-mosquitto", "--http", "127.0.0.1:0")
    assert not (unit_dir(root) / MOSQUITTO_UNIT).exists()
    argv = exec_start((unit_dir(root) / GATEWAY_UNIT).read_text("utf-8"))
    assert Path(argv[0]).is_absolute() and argv[argv.index("--data-dir") + 1] == str(tmp_path / "data")
    gateway = UnitGateway(argv, config, tmp_path / "data").start()
    assert gateway.get("/healthz").json()["status"] in ("ok", "degraded")
    stations = online_stations(broker, example_config(), reconnect=True)
    sent: dict = {}
    per_station = 300
    publisher = threading.Thread(target=stream, args=(stations, per_station, sent, ms_ago(60)))
    publisher.start()
    try:
        gateway.wait_for(lambda: gateway.count("events") > 100, what="stream under way")
        gateway.kill9()  # a power cut
        killed_at = gateway.count("events")
        gateway.start()  # what Restart=always does: the same command line again
        publisher.join(120)
        gateway.wait_for(lambda: gateway.count("events") >= len(sent), timeout=60, what="every event stored")
        assert set(gateway.rows("SELECT station, boot, seq FROM events")) == set(sent)
        assert gateway.count("dead_letters") == 0
        assert 100 < killed_at < len(sent)  # the kill fell in the middle of the stream
        assert len(sent) == per_station * len(STREAM)
        assert_stops_cleanly(gateway)
    finally:
        close_all(stations)
        gateway.stop()


def assert_stops_cleanly(gateway: GatewayProcess) -> None:
    """systemctl stop: SIGTERM, and the gateway closes its store (SQLite folds its write-ahead log back
    and deletes it only on a clean close) before it ends by that signal, as uvicorn means it to."""
    assert gateway.stop() == -15, gateway.log()[-3000:]
    assert not (gateway.data_dir / "gateway.sqlite3-wal").exists(), "the store was not closed"


# The unit's ProtectSystem=strict + ReadWritePaths=, NoNewPrivileges=yes and UMask=0077, as far as they can be
# had without systemd: a private mount namespace where every file system is read-only but the data dir.
SANDBOX = r"""
set -e
data=$1; shift
mount --bind "$data" "$data"
for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
  case "$m" in /proc*|/sys*|/dev*|"$data") continue ;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
touch /sandbox-probe 2>/dev/null && { echo "the root is still writable" >&2; exit 97; }
umask 0077
exec setpriv --no-new-privs "$@"
"""


def sandbox_prefix(unit_text: str) -> tuple[str, ...]:
    (rw,) = [line.removeprefix("ReadWritePaths=") for line in unit_text.splitlines()
             if line.startswith("ReadWritePaths=")]
    return ("unshare", "--mount", "--propagation", "private", "sh", "-c", SANDBOX, "sandbox", rw)


@pytest.mark.slow
def test_the_gateway_works_inside_the_units_read_only_sandbox(mosquitto, tmp_path):
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no mount namespaces here (unshare: {probe.stderr.decode().strip()}): the sandbox needs root")
    broker = mosquitto()
    config = write_config(tmp_path / "workshop.yaml", broker)
    (tmp_path / "data").mkdir(mode=0o700)  # as `service install` makes it: a bind mount needs it to exist
    root = install(tmp_path, config, "--no-mosquitto", "--http", "127.0.0.1:0")
    unit = (unit_dir(root) / GATEWAY_UNIT).read_text("utf-8")
    gateway = UnitGateway(exec_start(unit), config, tmp_path / "data", prefix=sandbox_prefix(unit)).start()
    stations = online_stations(broker, example_config())
    try:
        sent: dict = {}
        stream(stations, 10, sent, ms_ago(30))
        gateway.wait_for(lambda: gateway.count("events") == len(sent), what="events stored in the sandbox")
        assert gateway.get("/healthz").json()["status"] == "ok", gateway.log()[-2000:]
        store = tmp_path / "data" / "gateway.sqlite3"
        assert store.stat().st_mode & 0o077 == 0  # UMask=0077: the store is the gateway user's alone
        assert_stops_cleanly(gateway)
    finally:
        close_all(stations)
        gateway.stop()


@pytest.mark.slow
def test_the_mosquitto_unit_runs_as_mosquitto_with_the_owners_install_set(tmp_path):
    """The host steps for real (chgrp of passwd and acl, the database dir's owner), then the Mosquitto unit's
    ExecStart as its User= in the read-only sandbox: stations log in, and a stop writes the database."""
    import pwd

    from servers import connack_reason, free_port

    from edge_gateway.broker.credentials import load_credentials
    from edge_gateway.tooling.service_install import apply, plan
    from edge_gateway.tooling.service_units import MosquittoUnit, ServiceSettings, checked_path, persistence_location

    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if os.geteuid() != 0 or probe.returncode != 0:
        pytest.skip("needs root and mount namespaces (chown, the sandbox)")
    try:
        mosquitto_user = pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no user mosquitto (Debian's mosquitto package makes it)")
    import tempfile
    # Outside pytest's tmp (0700 root): the mosquitto user must be able to reach the files, as under /etc.
    base = Path(tempfile.mkdtemp(prefix="sebiao-unit-", dir="/var/tmp"))
    proc = None
    try:
        os.chmod(base, 0o755)
        config = write_config(base / "workshop.yaml")
        port = free_port()
        done = sebiao("broker-config", "--config", str(config), "--out", str(base / "broker"),
                      "--persistence-dir", str(base / "db"), "--listen", f"127.0.0.1:{port}")
        assert done.returncode == 0, done.stderr
        conf = base / "broker" / "mosquitto.conf"
        unit = MosquittoUnit(program=checked_path(shutil.which("mosquitto") or "/usr/sbin/mosquitto", "mosquitto"),
                             conf=checked_path(str(conf), "conf"),
                             persistence_dir=checked_path(persistence_location(conf.read_text()).rstrip("/"), "db"))
        settings = ServiceSettings(workshop="ws-demo", user="mosquitto", exec_start=("/bin/true",),
                                   data_dir=checked_path(str(base / "data"), "data"), mosquitto=unit)
        steps = plan(settings, Path("/"), config, (base / "broker" / "passwd", base / "broker" / "acl"),
                     unit_dir=tmp_path / "units")  # the host's paths, but not its /etc/systemd
        apply(steps, staging=False, echo=lambda _: None)
        assert (base / "db").stat().st_uid == mosquitto_user.pw_uid
        assert (base / "broker" / "passwd").stat().st_gid == mosquitto_user.pw_gid
        text = (tmp_path / "units" / MOSQUITTO_UNIT).read_text("utf-8")
        user = ("setpriv", f"--reuid={mosquitto_user.pw_uid}", f"--regid={mosquitto_user.pw_gid}", "--clear-groups")
        log = open(tmp_path / "mosquitto.log", "wb")
        proc = subprocess.Popen([*sandbox_prefix(text), *user, *exec_start(text)], stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        creds = load_credentials(base / "broker" / "credentials.json")
        station = creds.station("rack-red-1")
        deadline = time.monotonic() + 10
        reason = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                reason = connack_reason("127.0.0.1", port, station.username, station.password)
                break
            except OSError:
                time.sleep(0.1)
        log_text = (tmp_path / "mosquitto.log").read_text(errors="replace")
        assert reason is not None and reason.value == 0, log_text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, log_text
        assert (base / "db" / "mosquitto.db").exists()  # written at the clean exit, in ReadWritePaths
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
