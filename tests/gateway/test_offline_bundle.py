"""``sebiao bundle``: the offline installation bundle holds every wheel and .deb, and sebiao installs from it
into a fresh virtualenv with no package index. The bundle is built once for this file (about 20 s and
60 MB: pip fetches the wheels, apt the .deb files apt's cache lacks)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from gateway_proc import write_config
from servers import ROOT

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """The environment without this checkout on the path: the installed sebiao must run on its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle, built by the command and unpacked: its top folder."""
    out = tmp_path_factory.mktemp("bundle")
    done = subprocess.run([sys.executable, "-m", "sebiao", "bundle", "--out", str(out / "b.tar.gz")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with tarfile.open(out / "b.tar.gz") as tar:
        tar.extractall(out / "x", filter="data")
    (top,) = (out / "x").iterdir()
    return top


def test_the_bundle_holds_sebiao_its_dependencies_mosquitto_and_the_units(bundle):
    wheels = {p.name.split("-")[0].lower() for p in (bundle / "wheels").glob("*.whl")}
    assert {"sebiao", "paho_mqtt", "amqtt", "uvicorn", "cryptography", "sqlalchemy"} <= wheels
    debs = {p.name.split("_")[0] for p in (bundle / "debs").glob("*.deb")}
    assert {"mosquitto", "libmosquitto1", "mosquitto-clients", "python3-venv"} <= debs
    assert not debs & {"libelogind0", "dpkg", "perl-base"}  # not an alternative, not the base system
    assert {p.name for p in (bundle / "units").iterdir()} == {"sebiao-gateway.service", "sebiao-mosquitto.service"}
    readme = (bundle / "README.md").read_text("utf-8")
    assert readme.index("## 中文") < readme.index("## English")
    assert not (bundle / "source").exists()
    done = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sebiao_installs_from_the_bundle_with_no_index(bundle, tmp_path):
    prefix = tmp_path / "venv"
    config = write_config(tmp_path / "workshop.yaml")
    # the arguments from --config on go to `sebiao service install` (staged under --root here)
    done = subprocess.run([str(bundle / "install.sh"), "--no-debs", "--prefix", str(prefix), "--python",
                           sys.executable, "--config", str(config), "--data-dir", str(tmp_path / "data"),
                           "--no-mosquitto", "--root", str(tmp_path / "root")],
                          cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    unit = (tmp_path / "root/etc/systemd/system/sebiao-gateway.service").read_text("utf-8")
    assert f"ExecStart={prefix}/bin/sebiao gateway --config {config} " in unit  # the bundle's own sebiao
    for args in (["--help"], ["demo", "--help"], ["service", "install", "--help"]):
        run = subprocess.run([str(prefix / "bin" / "sebiao"), *args], cwd=tmp_path, env=clean_env(),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    # the copy in the fresh venv, not this checkout
    where = subprocess.run([str(prefix / "bin" / "python"), "-c", "import sebiao; print(sebiao.__file__)"],
                           cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(prefix)), where.stdout + where.stderr


def test_the_install_script_lists_the_debs_and_changes_nothing_in_a_dry_run(bundle):
    done = subprocess.run([str(bundle / "install.sh"), "--debs-dry-run"], capture_output=True, text=True,
                          env=clean_env(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = [line for line in done.stdout.splitlines() if "already installed:" in line or "to install:" in line]
    assert len(listed) == len(list((bundle / "debs").glob("*.deb")))
    assert any("already installed: mosquitto " in line for line in listed)  # this machine has it: left alone


def test_a_tampered_bundle_is_refused_before_anything_is_installed(bundle, tmp_path):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(bundle), str(copy)], check=True)
    wheel = next((copy / "wheels").glob("sebiao-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    done = subprocess.run([str(copy / "install.sh"), "--no-debs", "--prefix", str(tmp_path / "venv")],
                          capture_output=True, text=True, env=clean_env(), timeout=120)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr and not (tmp_path / "venv").exists()


def test_a_bundle_is_rebuilt_from_a_wheelhouse_with_no_index(bundle, tmp_path):
    """--wheelhouse: the wheels come from a folder only (here the first bundle's), never from an index."""
    env = dict(clean_env(), PYTHONPATH=str(ROOT), PIP_INDEX_URL="http://127.0.0.1:9/nowhere")
    done = subprocess.run([sys.executable, "-m", "sebiao", "bundle", "--out", str(tmp_path / "again.tar.gz"),
                           "--wheelhouse", str(bundle / "wheels"), "--no-debs"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with tarfile.open(tmp_path / "again.tar.gz") as tar:
        names = {Path(n).name for n in tar.getnames() if n.endswith(".whl")}
        debs = [n for n in tar.getnames() if n.endswith(".deb")]
    assert names == {p.name for p in (bundle / "wheels").glob("*.whl")} and debs == []


def test_a_wheelhouse_without_sebiao_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    done = subprocess.run([sys.executable, "-m", "sebiao", "bundle", "--out", str(tmp_path / "b.tar.gz"),
                           "--wheelhouse", str(tmp_path / "empty"), "--no-debs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "sebiao bundle: wheels:" in done.stderr and "--wheelhouse" in done.stderr
    assert not (tmp_path / "b.tar.gz").exists() and list(tmp_path.iterdir()) == [tmp_path / "empty"]
