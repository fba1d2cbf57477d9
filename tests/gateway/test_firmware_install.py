"""``sebiao firmware install``: real mpremote against simulated boards on pseudo-terminals (tests/support/
mp_board.py), plugged in one after another; a board that fails mid-deploy; a second run that resumes; the
per-station reader of the workshop config."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import yaml
from mp_board import SimBoard
from servers import EXAMPLE_CONFIG

from edge_gateway.broker.mosquitto import generate
from edge_gateway.config import load_config
from edge_gateway.model.setup import setup_json, setup_of
from edge_gateway.model.workshop import parse_config
from edge_gateway.tooling.devices.install import DONE, EARLIER, FAILED, SKIPPED, Installer, InstallOptions
from edge_gateway.tooling.devices.install_record import record_path
from edge_gateway.tooling.devices.ports import SerialPort, esp32_ports
from edge_gateway.tooling.devices.provision import ProvisionOptions
from sebiao.cli import main
from sebiao_common.errors import ConfigError

CP2102 = (0x10C4, 0xEA60)
STATIONS = ("rack-red-1", "rack-red-2", "sink-red-1")


@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("fw") / "bundle"
    assert main(["firmware", "build", "--out", str(out)]) == 0
    return out


SLIM = ("main.py", "sebiao_station/readers/mfrc522.mpy", "sebiao_station/config.mpy", "sebiao_station/buffer.mpy",
        "sebiao_station/app.mpy", "sebiao_station/readers/pn532.mpy", "sebiao_station/mqtt.mpy")


@pytest.fixture(scope="module")
def bundle(full_bundle, tmp_path_factory):
    """The built bundle cut to 7 of its files (23 KB: more than a small board's 20 KB, a folder too), so that the
    many boards of these tests copy in seconds over the pseudo-terminals (mpremote waits ~20 ms a command);
    the whole bundle goes through once, in the command-line test."""
    out = tmp_path_factory.mktemp("fw") / "slim"
    manifest = json.loads((full_bundle / "manifest.json").read_text())
    manifest["files"] = [f for f in manifest["files"] if f["path"] in SLIM]
    assert len(manifest["files"]) == len(SLIM)
    for f in manifest["files"]:
        (out / f["path"]).parent.mkdir(parents=True, exist_ok=True)
        (out / f["path"]).write_bytes((full_bundle / f["path"]).read_bytes())
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture
def workshop(tmp_path):
    config = load_config(EXAMPLE_CONFIG)
    generate(config, tmp_path / "broker", listen="127.0.0.1:1883")
    return config, tmp_path / "broker"


class Bench:
    """The installer's USB hub: boards plugged in one at a time, each time the run waits for the next."""

    def __init__(self, boards: list[SimBoard], others: list[SerialPort] = ()) -> None:
        self.waiting = list(boards)
        self.plugged: list[SimBoard] = []
        self.others = list(others)
        self.polls = 0

    def ports(self) -> list[SerialPort]:
        self.polls += 1
        return self.others + [SerialPort(device=b.port, vid=CP2102[0], pid=CP2102[1]) for b in self.plugged]

    def sleep(self, seconds: float) -> None:
        if self.waiting:
            self.plugged.append(self.waiting.pop(0))
        time.sleep(min(seconds, 0.02))

    def unplug(self, board: SimBoard) -> None:
        self.plugged.remove(board)
        board.unplug()


class Transcript(list):
    """What the installer sees: whole lines, a board's steps joined onto its line."""

    pending = ""

    def part(self, text: str) -> None:
        self.pending += text

    def say(self, text: str) -> None:
        self.append(self.pending + text)
        self.pending = ""


def _installer(config, creds_dir, bundle, out, bench, lines, **kw):
    from edge_gateway.tooling.devices.provision import load_station_credentials

    options = InstallOptions(bundle=bundle, out=out, provision=ProvisionOptions(broker_url="mqtt://192.168.1.10:1883"),
                             wait_s=kw.pop("wait_s", 1.0), poll_s=0.02, **kw)
    return Installer(config=config, creds=load_station_credentials(config, creds_dir), options=options,
                     lister=bench.ports, sleep=bench.sleep, say=lines.say, part=lines.part)


def _flash_matches(board: SimBoard, bundle, config_file) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert hashlib.sha256((board.flash / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert (board.flash / "config.json").read_bytes() == config_file.read_bytes()


def test_boards_plugged_one_after_another_get_the_stations_in_order(workshop, bundle, tmp_path):
    config, creds = workshop
    boards = [SimBoard(tmp_path / f"flash{i}", mac=f"a4cf1200000{i}") for i in (1, 2, 3)]
    boards[1].capacity = 20_000  # its flash fills up mid-deploy
    bench = Bench(boards, others=[SerialPort(device="/dev/ttyACM9", vid=0x2341, pid=0x0043)])  # an Arduino: ignored
    out, lines = tmp_path / "stations", Transcript()
    installer = _installer(config, creds, bundle, out, bench, lines, stations=STATIONS)
    attempts = installer.run()
    assert bench.polls >= 4 and not bench.waiting  # each board appeared while the run was waiting for it
    assert [(a.station, a.port, a.result) for a in attempts] == [
        ("rack-red-1", boards[0].port, DONE), ("rack-red-2", boards[1].port, FAILED),
        ("sink-red-1", boards[2].port, DONE)]
    assert lines[1] == f"[1/3] {boards[0].port} → rack-red-1（MFRC522）部署… 校验… 完成 / done"
    assert "No space left on device" in attempts[1].error and "rack-red-2" in lines[2] and "失败 / failed" in lines[2]
    for board, station in ((boards[0], "rack-red-1"), (boards[2], "sink-red-1")):
        _flash_matches(board, bundle, out / station / "config.json")
        assert json.loads((board.flash / "config.json").read_text())["station"] == station
    time.sleep(0.3)  # the reset comes 100 ms after mpremote has left
    assert boards[0].resets == 1 and boards[1].resets == 0
    rows = installer.summary()
    assert [(r.station, r.board, r.result) for r in rows] == [
        ("rack-red-1", "a4:cf:12:00:00:01", DONE), ("rack-red-2", "a4:cf:12:00:00:02", FAILED),
        ("sink-red-1", "a4:cf:12:00:00:03", DONE)]
    record = json.loads(record_path(out).read_text())
    assert record["workshop"] == "ws-demo" and record["schema"] == 1
    assert {s: e["result"] for s, e in record["stations"].items()} == {
        "rack-red-1": DONE, "rack-red-2": FAILED, "sink-red-1": DONE}
    assert "password" not in record_path(out).read_text()

    # The second run, rack-red-1 to redo: the failed board, made roomy, comes back first; its chip id (in the
    # record) says it is rack-red-2, though rack-red-1 comes first in the config. Then a board that carries
    # rack-red-1's config.json.
    boards[1].capacity = None
    again = SimBoard(tmp_path / "flash1-again", mac="a4cf12000009")
    (again.flash / "config.json").write_bytes((out / "rack-red-1" / "config.json").read_bytes())
    bench2, lines2 = Bench([boards[1], again]), Transcript()
    second = _installer(config, creds, bundle, out, bench2, lines2, stations=STATIONS, redo=("rack-red-1",))
    attempts = second.run()
    assert [(a.station, a.board, a.result) for a in attempts] == [
        ("rack-red-2", "a4:cf:12:00:00:02", DONE), ("rack-red-1", "a4:cf:12:00:00:09", DONE)]
    assert lines2[0].startswith("共 3 个读卡站，待安装 2 个") and lines2[1].startswith("[2/2] ")
    _flash_matches(boards[1], bundle, out / "rack-red-2" / "config.json")
    _flash_matches(again, bundle, out / "rack-red-1" / "config.json")
    assert [r.result for r in second.summary()] == [DONE, DONE, EARLIER]

    # The third run adds a station: a board that already is rack-red-1 is skipped, a new one gets the new station.
    fresh = SimBoard(tmp_path / "flash-fresh", mac="a4cf1200000a")
    bench3, lines3 = Bench([again, fresh]), Transcript()
    third = _installer(config, creds, bundle, out, bench3, lines3, stations=STATIONS + ("rack-green-1",))
    attempts = third.run()
    assert [(a.station, a.result) for a in attempts] == [("rack-red-1", SKIPPED), ("rack-green-1", DONE)]
    assert "已安装 / this board is rack-red-1, already installed" in attempts[0].error
    assert [r.result for r in third.summary()] == [EARLIER] * 3 + [DONE, SKIPPED]
    for board in boards + [again, fresh]:
        board.unplug()


def test_a_board_that_keeps_its_station_when_plugged_in_again(workshop, bundle, tmp_path):
    """Pulled out mid-deploy and plugged in again: the same station, not the next one."""
    config, creds = workshop
    board = SimBoard(tmp_path / "flash", mac="a4cf120000aa", capacity=15_000)
    bench, lines = Bench([board]), Transcript()
    installer = _installer(config, creds, bundle, tmp_path / "stations", bench, lines,
                           stations=("rack-red-1", "rack-red-2"), wait_s=0.5)
    installer.prepare()
    first = installer.board(board.port)
    assert (first.station, first.result) == ("rack-red-1", FAILED)
    board.capacity = None
    again = installer.board(board.port)  # the run's memory of the chip id
    assert (again.station, again.result) == ("rack-red-1", DONE)
    board.unplug()


def test_the_read_back_catches_a_file_that_differs(workshop, bundle, tmp_path):
    config, creds = workshop
    board = SimBoard(tmp_path / "flash", mac="a4cf120000bb")
    board.mangle = "sebiao_station/app.mpy"  # this file's last byte flips on the flash
    bench, lines = Bench([board]), Transcript()
    installer = _installer(config, creds, bundle, tmp_path / "stations", bench, lines, stations=("rack-red-1",))
    (attempt,) = installer.run()
    assert attempt.result == FAILED
    assert "sebiao_station/app.mpy on the board differs after the copy" in attempt.error
    board.unplug()


def test_the_release_key_goes_onto_the_board_and_is_read_back(workshop, bundle, tmp_path):
    from edge_gateway.fleet.release import PUBLIC_KEY, make_key

    config, creds = workshop
    make_key(tmp_path / "keys")
    board = SimBoard(tmp_path / "flash", mac="a4cf120000cc")
    board.mangle = "release_key.json"  # flipped on the flash: the read-back says so
    bench, lines = Bench([board]), Transcript()
    installer = _installer(config, creds, bundle, tmp_path / "stations", bench, lines, stations=("rack-red-1",),
                           release_key=tmp_path / "keys" / PUBLIC_KEY)
    (attempt,) = installer.run()
    assert attempt.result == FAILED and "release_key.json on the board differs after the copy" in attempt.error
    board.mangle = None
    again = installer.board(board.port)
    assert again.result == DONE
    assert (board.flash / "release_key.json").read_bytes() == (tmp_path / "keys" / PUBLIC_KEY).read_bytes()
    board.unplug()


def test_a_board_without_micropython_is_reported_and_the_run_goes_on(workshop, bundle, tmp_path, monkeypatch):
    from edge_gateway.tooling.devices import board as boards

    monkeypatch.setattr(boards, "PROBE_TIMEOUT_S", 3)  # mpremote waits for ever on a pseudo-terminal
    config, creds = workshop
    mute = SimBoard(tmp_path / "mute", mac="a4cf120000cc")
    mute.mute = True  # no MicroPython: nothing answers the REPL
    good = SimBoard(tmp_path / "good", mac="a4cf120000dd")
    bench, lines = Bench([mute, good]), Transcript()
    installer = _installer(config, creds, bundle, tmp_path / "stations", bench, lines, stations=("rack-red-1",))
    attempts = installer.run()
    assert [(a.station, a.result) for a in attempts] == [(None, FAILED), ("rack-red-1", DONE)]
    assert f"{mute.port}: no answer within 3 s" in attempts[0].error and "板卡无应答" in lines[1]
    mute.unplug()
    good.unplug()


def test_cli_with_a_port_named_and_redo(workshop, full_bundle, tmp_path, capsys):
    bundle = full_bundle  # every file of the real build
    config, creds = workshop
    board = SimBoard(tmp_path / "flash", mac="a4cf120000ee", raw_paste=False)  # mpremote's plain raw REPL
    out = tmp_path / "stations"
    argv = ["firmware", "install", "--config", str(EXAMPLE_CONFIG), "--credentials", str(creds), "--out", str(out),
            "--bundle", str(bundle), "--port", board.port, "--stations", "rack-white-1", "--wait", "1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "rack-white-1（MFRC522）部署… 校验… 完成 / done" in text
    assert "读卡站 / station" in text and "结果 / result" in text and "全部完成 / all stations installed" in text
    assert "a4:cf:12:00:00:ee" in text
    _flash_matches(board, bundle, out / "rack-white-1" / "config.json")  # all 24 files of the build
    assert main(argv) == 0  # done: nothing to do, no board touched
    assert "待安装 0 个" in capsys.readouterr().out
    (board.flash / "main.py").unlink()
    assert main(argv + ["--redo", "rack-white-1"]) == 0
    assert (board.flash / "main.py").is_file() and "完成 / done" in capsys.readouterr().out
    assert main(argv[:-6] + ["--stations", "rack-nope", "--wait", "0"]) == 2
    assert "--stations: no station rack-nope" in capsys.readouterr().err
    board.unplug()


def test_image_is_flashed_with_esptool_then_the_bundle_deployed(workshop, bundle, tmp_path, monkeypatch):
    """esptool against the simulated ROM loader (tests/support/esp_rom.py): a board with MicroPython, whose
    old files the erase removes, and a blank chip that answers no REPL at all."""
    from edge_gateway.tooling.devices import board as boards

    monkeypatch.setattr(boards, "PROBE_TIMEOUT_S", 3)
    config, creds = workshop
    used = SimBoard(tmp_path / "used", mac="a4cf120000f1")
    (used.flash / "old-app.py").write_text("print('old')")
    blank = SimBoard(tmp_path / "blank", mac="a4cf120000f2", blank=True)
    image = tmp_path / "ESP32_GENERIC-v1.24.1.bin"
    image.write_bytes(b"\xe9\x00\x00\x00" + bytes(range(256)) * 40)  # whole words: esptool pads
    bench, lines = Bench([used, blank]), Transcript()
    out = tmp_path / "stations"
    installer = _installer(config, creds, bundle, out, bench, lines, stations=("rack-red-1", "rack-red-2"),
                           image=image)
    attempts = installer.run()
    assert [(a.station, a.board, a.result) for a in attempts] == [
        ("rack-red-1", "a4:cf:12:00:00:f1", DONE), ("rack-red-2", "a4:cf:12:00:00:f2", DONE)]
    assert lines[1] == f"[1/2] {used.port} → rack-red-1（MFRC522）烧录… 部署… 校验… 完成 / done"
    for board, station in ((used, "rack-red-1"), (blank, "rack-red-2")):
        (session,) = board.images
        assert session.erased and session.written == [(0x1000, image.stat().st_size)]
        assert bytes(session.flash[0x1000:0x1000 + image.stat().st_size]) == image.read_bytes()
        _flash_matches(board, bundle, out / station / "config.json")
    assert not (used.flash / "old-app.py").exists()
    used.unplug()
    blank.unplug()


def test_a_failed_flash_is_reported(workshop, bundle, tmp_path):
    config, creds = workshop
    board = SimBoard(tmp_path / "flash", mac="a4cf120000f3")
    board.refuse_loader = True  # the ROM loader never answers: BOOT not held, a bad cable
    image = tmp_path / "micropython.bin"
    image.write_bytes(b"\xe9" + bytes(4095))
    bench, lines = Bench([board]), Transcript()
    installer = _installer(config, creds, bundle, tmp_path / "stations", bench, lines, stations=("rack-red-1",),
                           image=image, wait_s=0.2)
    (attempt,) = installer.run()
    assert attempt.result == FAILED and "flashing micropython.bin failed" in attempt.error
    assert "烧录… " in lines[1] and "部署" not in lines[1] and "失败 / failed" in lines[1]
    board.unplug()


def test_esp32_ports_by_usb_ids():
    ports = [SerialPort(device="/dev/ttyUSB0", vid=0x10C4, pid=0xEA60), SerialPort(device="/dev/ttyUSB1", vid=0x1A86,
             pid=0x7523), SerialPort(device="/dev/ttyUSB2", vid=0x1A86, pid=0x55D4),
             SerialPort(device="/dev/ttyUSB3", vid=0x0403, pid=0x6001),
             SerialPort(device="/dev/ttyUSB4", vid=0x0403, pid=0x6015),
             SerialPort(device="/dev/ttyACM0", vid=0x303A, pid=0x1001), SerialPort(device="/dev/ttyACM1", vid=0x2341,
             pid=0x0043), SerialPort(device="/dev/ttyS0"), SerialPort(device="/dev/ttyUSB5", vid=0x0403, pid=0x6010)]
    assert esp32_ports((), lambda: ports) == [f"/dev/ttyUSB{i}" for i in range(5)] + ["/dev/ttyACM0"]
    assert esp32_ports(("/dev/ttyS0", "/dev/nope-sebiao"), lambda: ports)[-1] == "/dev/ttyS0"


def _config(reader: str | None, tools_at_rack: int, station_reader_key: bool = True):
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    rack = next(s for s in data["stations"] if s["id"] == "rack-red-1")
    if station_reader_key:
        rack["reader"] = reader
    red = [t for t in data["tools"] if t["home"] == "rack-red-1"]
    for n in range(len(red), tools_at_rack):
        data["tools"].append({"id": f"KN-R-{50 + n}", "kind": "knife", "color": "red", "home": "rack-red-1"})
    return data


def test_reader_per_station_in_the_workshop_config():
    config = parse_config(_config("pn532", 2))
    assert config.reader("rack-red-1") == "pn532" and config.reader("rack-red-2") is None
    assert parse_config(_config("mfrc522", 8)).reader("rack-red-1") == "mfrc522"
    # the chip fitted is no rule: the setup the regulator reviews is the same with or without it
    assert setup_json(setup_of(config)) == setup_json(setup_of(parse_config(_config(None, 2, False))))
    with pytest.raises(ConfigError) as err:
        parse_config(_config("pn532", 3), "ws.yaml")
    text = str(err.value)
    assert text.startswith("stations[0].reader：PN532 读卡器最多同时读 2 个标签")
    assert "ws.yaml: stations[0].reader: a pn532 reader follows at most 2 tags, 3 tools call 'rack-red-1' home" in text
    with pytest.raises(ConfigError, match="a mfrc522 reader follows at most 8 tags, 9 tools"):
        parse_config(_config("mfrc522", 9))
    with pytest.raises(ConfigError, match=r"stations\[0\].reader: 'rc522' is not one of: mfrc522, pn532"):
        parse_config(_config("rc522", 1))
    assert parse_config(_config(None, 9, station_reader_key=False)).reader("rack-red-1") is None


def test_provision_takes_each_station_s_reader(tmp_path, capsys):
    data = _config("pn532", 2)
    (tmp_path / "ws.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    generate(parse_config(data), tmp_path / "broker", listen="127.0.0.1:1883")
    argv = ["firmware", "provision", "--config", str(tmp_path / "ws.yaml"), "--out", str(tmp_path / "out"),
            "--credentials", str(tmp_path / "broker")]
    assert main(argv) == 0
    readers = {p.parent.name: json.loads(p.read_text())["reader"]["type"] for p in (tmp_path / "out").glob("*/*.json")}
    assert readers["rack-red-1"] == "pn532" and readers["rack-red-2"] == "mfrc522" and len(readers) == 9
    capsys.readouterr()
    assert main(argv + ["--reader", "pn532"]) == 2  # rack-green-1 says no reader and homes 3 tools
    err = capsys.readouterr().err
    assert "ws.yaml: stations[3]: no 'reader' here, so --reader pn532: a pn532 reader follows at most 2 tags, " \
           "3 tools call 'rack-green-1' home (KN-G-01, CB-G-01, BR-G-01)" in err
    assert "stations[3]：未写 'reader'，按 --reader pn532：PN532 读卡器最多同时读 2 个标签" in err
