"""Start-up of the real ``sebiao gateway`` on a bad data dir: a damaged store, a file in the data
dir's place and a full disk each stop it with one line naming the path and the reason (exit code
2, no traceback), the damaged store left byte for byte as it was; and the data dir is private.
A config that still claims its own grade stops it the same way, saying where grades come from."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from gateway_proc import GatewayProcess, write_config
from servers import ROOT

pytestmark = pytest.mark.slow


def _sebiao_gateway(config: Path, data_dir: Path, *prefix: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """``sebiao gateway`` expected to stop by itself; one that keeps running is killed after ``timeout``."""
    command = [*prefix, sys.executable, "-m", "sebiao.cli", "gateway", "--config", str(config),
               "--data-dir", str(data_dir), "--http", "127.0.0.1:0", "--embedded-broker", "127.0.0.1:0"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the gateway started and ran on:\n{err[-2000:]}")
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sebiao gateway: "), result.stderr
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_store_stops_start_up_and_is_left_as_it_was(tmp_path, mosquitto):
    config = write_config(tmp_path / "workshop.yaml", mosquitto())
    data = tmp_path / "data"
    GatewayProcess(config, data).start().stop()  # a store of a day's work, closed cleanly
    store = data / "gateway.sqlite3"
    with sqlite3.connect(store) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'dead_letters'").fetchone()[0]
    conn.close()
    with open(store, "r+b") as f:  # a page the start-up never reads: the gateway would run on it
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 16)
    before = _digest(store)
    line = _one_line(_sebiao_gateway(config, data))
    assert line.startswith(f"sebiao gateway: {store}: 数据库已损坏")
    assert "the database is damaged" in line and f"sqlite3 {store} .recover" in line
    assert _digest(store) == before  # the evidence, byte for byte


def test_a_file_in_the_data_dirs_place_is_one_line(tmp_path):
    config = write_config(tmp_path / "workshop.yaml")
    data = tmp_path / "data"
    data.write_text("not a directory")
    line = _one_line(_sebiao_gateway(config, data))
    assert line == (f"sebiao gateway: {data}: 数据目录是一个文件，不是目录；请用 --data-dir 指定目录 / "
                    "the data dir is a file, not a directory: give a directory with --data-dir")
    nested = _one_line(_sebiao_gateway(config, data / "inside"))
    assert nested.startswith(f"sebiao gateway: {data / 'inside'}: ") and "Not a directory" in nested


def test_a_grade_in_the_config_stops_start_up_saying_where_grades_come_from(tmp_path):
    config = write_config(tmp_path / "workshop.yaml", workshop={"grade": "gold"})  # as older releases took it
    line = _one_line(_sebiao_gateway(config, tmp_path / "data"))
    assert line.startswith(f"sebiao gateway: {config}: workshop.grade: 等级（金/银/铜/橙榜）由监管部门在云端评定并发布")
    assert "published by the regulator in the cloud" in line and "cloud.public_key" in line
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_a_grade_max_age_shorter_than_two_fetches_stops_start_up(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    (tmp_path / "cloud.pub").write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    config = write_config(tmp_path / "workshop.yaml", display={"grade_max_age_hours": 1}, cloud={
        "url": "http://127.0.0.1:9", "token": "sbg_" + "g" * 30, "public_key": "cloud.pub",
        "grade_poll_seconds": 7200})
    line = _one_line(_sebiao_gateway(config, tmp_path / "data"))
    assert line.startswith(f"sebiao gateway: {config}: display.grade_max_age_hours: 1 h is less than two grade "
                           "fetches (cloud.grade_poll_seconds: 7200 s)")
    assert not (tmp_path / "data").exists()


def _namespaces_work() -> bool:
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces_work(), reason="needs unshare -rm (user and mount namespaces) for a tmpfs")
def test_a_full_disk_at_start_is_one_line(tmp_path):
    config = write_config(tmp_path / "workshop.yaml")
    disk = tmp_path / "disk"
    disk.mkdir()
    # A 64 KiB tmpfs of its own, filled up, in a mount namespace only the gateway sees.
    full = ("unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {disk} && "
            f"(dd if=/dev/zero of={disk}/fill bs=4k 2>/dev/null; true) && exec \"$@\"", "sh")
    data = disk / "data"
    line = _one_line(_sebiao_gateway(config, data, *full))
    assert line.startswith(f"sebiao gateway: {data}: ") and "磁盘已满" in line and "the disk of the data dir is full" \
        in line, line


def _modes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in [root, *root.rglob("*")]}


def test_the_data_dir_and_the_secrets_in_it_are_private(tmp_path):
    config = write_config(tmp_path / "workshop.yaml")  # no broker: the embedded one, with its passwords
    data = tmp_path / "data"
    old = os.umask(0o022)  # the usual umask: what the gateway creates must not depend on it
    try:
        gateway = GatewayProcess(config, data, extra_args=("--embedded-broker", "127.0.0.1:0"))
        gateway.start()
        assert gateway.get("/api/tools").status_code == 200  # the store has its -wal and -shm now
        modes = _modes(data)
        gateway.stop()
    finally:
        os.umask(old)
    expected = {".", "gateway.sqlite3", "gateway.sqlite3-wal", "gateway.sqlite3-shm", ".lock", "web-session.key",
                "broker", "broker/credentials.json", "listening.json"}
    assert expected <= set(modes), modes
    assert modes["."] == "0o700" and modes["broker"] == "0o700", modes
    assert {name: mode for name, mode in modes.items() if name not in (".", "broker")} == \
        {name: "0o600" for name in modes if name not in (".", "broker")}
    # what an older gateway (or a copy) left world-readable is narrowed at the next start
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    with GatewayProcess(config, data, extra_args=("--embedded-broker", "127.0.0.1:0")):
        narrowed = _modes(data)
    assert all(mode in ("0o700", "0o600") for mode in narrowed.values()), narrowed
