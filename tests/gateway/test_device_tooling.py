"""Device tooling without a device: arguments, the bundle, the station configs, the
serial label protocol (host side against the firmware's side), and the errors."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile

import pytest
from serial_loop import SerialLoop
from servers import EXAMPLE_CONFIG

from edge_gateway.broker.mosquitto import generate
from edge_gateway.config import load_config
from edge_gateway.tooling.devices.deploy import mpremote_args
from edge_gateway.tooling.devices.label_serial import label_command, write_label
from edge_gateway.tooling.devices.ports import DeviceError
from edge_gateway.tooling.firmware_files import firmware_dir
from edge_gateway.tooling.station_config import load_station_config
from edge_gateway.vstation.runner import VirtualStation
from sebiao.cli import main

NO_PORT = "/dev/ttyUSB-sebiao-test-none"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("fw") / "bundle"
    assert main(["firmware", "build", "--out", str(out)]) == 0
    return out


def test_build_compiles_every_station_module(bundle):
    sources = sorted(["sebiao_boot.py"] + [p.relative_to(firmware_dir()).as_posix()
                                           for p in (firmware_dir() / "sebiao_station").rglob("*.py")])
    manifest = json.loads((bundle / "manifest.json").read_text())
    compiled = {f["source"]: f for f in manifest["files"] if f["path"].endswith(".mpy")}
    assert sorted(compiled) == sources and len(sources) >= 20
    for source, entry in compiled.items():
        data = (bundle / entry["path"]).read_bytes()
        assert data[:1] == b"M" and len(data) == entry["bytes"], source  # an .mpy header
    assert (bundle / "main.py").read_text() == (firmware_dir() / "main.py").read_text()
    assert not list(bundle.rglob("*.py"))[1:]  # main.py is the only source on the flash
    assert manifest["march"] == "xtensawin" and manifest["firmware"]
    with zipfile.ZipFile(bundle.with_name("bundle.zip")) as zf:
        assert set(zf.namelist()) == {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}


def test_build_will_not_overwrite_a_foreign_directory(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["firmware", "build", "--out", str(tmp_path)]) == 2
    assert "is not a firmware bundle" in capsys.readouterr().err and (tmp_path / "mine.txt").exists()


def test_provision_writes_configs_the_station_accepts(tmp_path, capsys):
    config = load_config(EXAMPLE_CONFIG)
    files = generate(config, tmp_path / "broker", listen="127.0.0.1:1883")
    out = tmp_path / "stations"
    assert main(["firmware", "provision", "--config", str(EXAMPLE_CONFIG), "--out", str(out),
                 "--credentials", str(tmp_path / "broker"), "--broker", "mqtt://192.168.1.10:1883",
                 "--wifi-ssid", "workshop"]) == 0
    assert "wrote 9 station configs" in capsys.readouterr().out
    for station in config.stations:
        path = out / station.id / "config.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        cfg = load_station_config(path)  # what `sebiao station --config` reads
        account = files.credentials.station(station.id)
        assert (cfg["workshop"], cfg["station"]) == ("ws-demo", station.id)
        assert cfg["broker"]["host"] == "192.168.1.10" and cfg["broker"]["port"] == 1883
        assert (cfg["broker"]["username"], cfg["broker"]["password"]) == (account.username, account.password)
        assert cfg["wifi"]["ssid"] == "workshop"
    vs = VirtualStation(load_station_config(out / "rack-red-1" / "config.json"), tmp_path / "flash")
    assert vs.id == "rack-red-1"


def test_provision_refuses_credentials_of_another_workshop(tmp_path, capsys):
    (tmp_path / "credentials.json").write_text(json.dumps({
        "workshop": "ws-other", "gateway": {"username": "gateway", "password": "x"}, "stations": {}}))
    assert main(["firmware", "provision", "--config", str(EXAMPLE_CONFIG), "--out", str(tmp_path / "o"),
                 "--credentials", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "credentials.json: workshop: these credentials are for workshop 'ws-other'" in err


@pytest.mark.parametrize("argv", [
    ["firmware", "flash", "--port", NO_PORT, "--image", "{image}"],
    ["firmware", "deploy", "--port", NO_PORT, "--bundle", "{bundle}"],
    ["label", "write", "--port", NO_PORT, "--tool", "KN-R-01", "--config", str(EXAMPLE_CONFIG)],
])
def test_without_a_device_each_command_fails_at_once_naming_the_port(argv, bundle, tmp_path, capsys):
    image = tmp_path / "micropython.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    argv = [a.format(image=image, bundle=bundle) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{NO_PORT}: no such serial port" in err and "串口" in err


def test_flash_names_a_missing_image_before_the_port(capsys):
    assert main(["firmware", "flash", "--port", NO_PORT, "--image", "/nonexistent/mp.bin"]) == 2
    assert "--image: /nonexistent/mp.bin: no such file" in capsys.readouterr().err


def test_label_write_names_an_unknown_tool(capsys):
    assert main(["label", "write", "--port", NO_PORT, "--tool", "KN-X-99", "--config", str(EXAMPLE_CONFIG)]) == 2
    assert "no tool 'KN-X-99'" in capsys.readouterr().err


def test_deploy_copies_every_bundle_file_and_the_config(bundle, tmp_path):
    args = mpremote_args("/dev/ttyUSB0", bundle, tmp_path / "config.json")
    assert args[:2] == ["connect", "/dev/ttyUSB0"] and args[-1] == "reset"
    copied = {args[i + 2] for i, a in enumerate(args) if a == "cp"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert copied == {":" + f["path"] for f in manifest["files"]} | {":config.json"}




def test_deploy_copies_the_release_key_when_given(bundle, tmp_path, capsys):
    args = mpremote_args("/dev/ttyUSB0", bundle, None, release_key=tmp_path / "release_key.json")
    copied = {args[i + 2]: args[i + 1] for i, a in enumerate(args) if a == "cp"}
    assert copied[":release_key.json"] == str(tmp_path / "release_key.json")
    (tmp_path / "release_key.json").write_text('{"e":3,"n":"ff"}')  # not a release key: refused before the port
    assert main(["firmware", "deploy", "--port", NO_PORT, "--bundle", str(bundle), "--release-key",
                 str(tmp_path / "release_key.json")]) == 2
    assert "release_key.json" in capsys.readouterr().err


def test_the_bundle_carries_the_boot_when_the_firmware_has_it(tmp_path, monkeypatch):
    tree = tmp_path / "fw"
    shutil.copytree(firmware_dir(), tree, ignore=shutil.ignore_patterns("__pycache__", "sebiao_boot.py"))
    (tree / "sebiao_boot.py").write_text("def select():\n    return None\n")
    monkeypatch.setenv("SEBIAO_FIRMWARE", str(tree))
    assert main(["firmware", "build", "--out", str(tmp_path / "bundle")]) == 0
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    boot = [f for f in manifest["files"] if f["source"] == "sebiao_boot.py"]
    assert [f["path"] for f in boot] == ["sebiao_boot.mpy"]
    args = mpremote_args("/dev/ttyUSB0", tmp_path / "bundle", None)
    assert ":sebiao_boot.mpy" in args


def test_label_write_protocol_against_the_firmware(tmp_path):
    cfg = load_station_config(_station_json(tmp_path))
    vs = VirtualStation(cfg, tmp_path / "flash")
    vs.start()
    vs.board.place("04A224E2C65E80")  # a blank NTAG213 at the reader
    link = SerialLoop(vs)
    written = write_label(link, label_command(load_config(EXAMPLE_CONFIG), "KN-R-01"), "/dev/ttyUSB0")
    assert (written.uid, written.tool) == ("04A224E2C65E80", "KN-R-01")
    from sebiao_station import label as smart_label
    card = vs.board.cards["04A224E2C65E80"]
    assert smart_label.decode(bytes(card.memory[16:16 + 64])) == {"tool": "KN-R-01", "kind": "knife", "color": "red"}
    with pytest.raises(DeviceError, match="the station refused: LABEL takes"):
        write_label(link, "SEBIAO LABEL KN-R-01\n", "/dev/ttyUSB0")


def _station_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"workshop": "ws-demo", "station": "rack-red-1",
                                "broker": {"host": "127.0.0.1", "port": 1}}))
    return path


def test_provision_gives_a_disinfection_station_its_probe(tmp_path):
    import dataclasses
    from types import SimpleNamespace

    from edge_gateway.tooling.devices.provision import ProvisionOptions, station_config

    config = load_config(EXAMPLE_CONFIG)
    files = generate(config, tmp_path / "broker", listen="127.0.0.1:1883")
    # a cabinet (the kind "disinfect"): the workshop's sink-white-1 stands in for one
    cabinet = dataclasses.replace(config.station("sink-white-1"), kind=SimpleNamespace(value="disinfect"))
    config = dataclasses.replace(config, stations=tuple(cabinet if s.id == cabinet.id else s for s in config.stations))
    options = ProvisionOptions(broker_url="mqtt://192.168.1.10:1883")
    cfg = station_config(config, files.credentials, "sink-white-1", options)
    assert cfg["probe"] == {}
    assert load_station_config(_write(tmp_path / "cab.json", cfg))["probe"] == {
        "pin": 4, "start_c": 45, "interval_s": 5, "max_s": 7200}
    assert "probe" not in station_config(config, files.credentials, "rack-red-1", options)


def _write(path, data):
    path.write_text(json.dumps(data))
    return path
