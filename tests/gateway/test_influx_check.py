"""``sebiao influx check`` against real servers: InfluxDB 1.6 (v1, with and without auth) and
VictoriaMetrics (v2 through influxdb-client), and the clear errors for a wrong URL, token,
database or bucket."""

from __future__ import annotations

import subprocess
import sys

import pytest
from gateway_proc import write_config
from servers import ROOT, free_port

pytestmark = pytest.mark.slow


def run_check(tmp_path, influx: dict, data_dir=None) -> subprocess.CompletedProcess:
    cfg = write_config(tmp_path / "ws.yaml", influx=influx)
    args = [sys.executable, "-m", "sebiao.cli", "influx", "check", "--config", str(cfg)]
    args += ["--data-dir", str(data_dir or tmp_path / "no-data")]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_check_v1_prints_version_and_outbox(tmp_path, influxd):
    influx = influxd()
    # A data dir with an outbox: a gateway store made by the Store itself.
    from edge_gateway.store.writer import Store

    store = Store(tmp_path / "data" / "gateway.sqlite3")
    with store.transaction():
        store.outbox_add(False, 1_000, "tool_event,station=x seq=1i 1")
        store.outbox_add(True, 2_000, "alarm,type=x alarm_id=1i 2")
    store.close()
    done = run_check(tmp_path, {"api": "v1", "url": influx.url, "database": "sebiao"}, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "InfluxDB 1.6.7" in done.stdout
    assert "read back through InfluxQL /query" in done.stdout
    assert "2 rows waiting, oldest row" in done.stdout
    assert influx.scalar("SELECT count(value) FROM sebiao_probe", "sebiao") == 1


def test_check_v1_wrong_database_url_and_password(tmp_path, influxd):
    influx = influxd(auth=True)
    good = {"api": "v1", "url": influx.url, "database": "sebiao", "username": "admin", "password": "admin-password"}
    assert run_check(tmp_path, good).returncode == 0

    done = run_check(tmp_path, {**good, "database": "nope"})
    assert done.returncode == 2
    assert "the database does not exist" in done.stderr and "influx.database" in done.stderr

    done = run_check(tmp_path, {**good, "password": "wrong"})
    assert done.returncode == 2
    assert "refused our credentials (HTTP 401" in done.stderr and "influx.password" in done.stderr

    done = run_check(tmp_path, {**good, "url": f"http://127.0.0.1:{free_port()}"})
    assert done.returncode == 2
    assert "cannot reach http://127.0.0.1:" in done.stderr

    done = run_check(tmp_path, {**good, "retention_policy": "nope"})
    assert done.returncode == 2
    assert "fix influx.retention_policy" in done.stderr


def test_check_v2_against_victoria_metrics(tmp_path, victoria_metrics):
    vm = victoria_metrics()
    done = run_check(tmp_path, {"url": vm.url, "token": "any", "org": "ws", "bucket": "sebiao"})
    assert done.returncode == 0, done.stderr
    assert "VictoriaMetrics" in done.stdout
    assert "/api/v1/export" in done.stdout
    assert "not read: " in done.stdout and "no gateway store here" in done.stdout


def test_check_v2_against_influxdb_1_6_says_to_use_v1(tmp_path, influxd):
    influx = influxd()
    done = run_check(tmp_path, {"url": influx.url, "token": "t", "org": "o", "bucket": "sebiao"})
    assert done.returncode == 2
    assert "HTTP 404" in done.stderr and "use api: v1" in done.stderr


def test_check_without_influx_section(tmp_path):
    cfg = write_config(tmp_path / "ws.yaml")
    done = subprocess.run([sys.executable, "-m", "sebiao.cli", "influx", "check", "--config", str(cfg)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "ws.yaml: influx: the config has no influx: section" in done.stderr
