"""``sebiao enroll`` on the workshop file: the gateway's parser accepts the result, the owner's comments and
order stay, the previous version is kept, a bad request is refused naming it and writes nothing, and
enrolments at the same time all land."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest
from gateway_proc import EXAMPLE
from serial_loop import SerialLoop
from servers import ROOT

from edge_gateway.config import enrol, load_config, pending_labels
from edge_gateway.model.enrolment import Request


def _sebiao(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "workshop.yaml"
    path.write_text(EXAMPLE.read_text("utf-8"), "utf-8")
    return path


def test_enrolled_tools_are_appended_in_the_files_own_style(config):
    before = config.read_text("utf-8")
    proc = _sebiao("enroll", "--config", str(config), "--tag", "04aa000000000a", "--tag", "04AA000000000B",
                   "--kind", "knife", "--color", "red")
    assert proc.returncode == 0, proc.stderr
    assert "KN-R-02" in proc.stdout and "restarts itself" in proc.stdout and "自动重启" in proc.stdout
    after = config.read_text("utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["  - {id: KN-R-02, kind: knife, color: red, tag: '04AA000000000A', home: rack-red-1}",
                     "  - {id: KN-R-03, kind: knife, color: red, tag: '04AA000000000B', home: rack-red-1}"]
    # every line the owner wrote (comments included) is still there, in its order
    kept = [line for line in after.splitlines() if line not in added]
    assert kept == before.splitlines()
    assert after.index("KN-R-03") < after.index("rules:")
    assert (config.parent / "workshop.yaml.1").read_text("utf-8") == before
    tools = load_config(config)
    assert tools.tool("KN-R-03").tag == "04AA000000000B" and tools.tool("KN-R-03").home == "rack-red-1"
    assert pending_labels(config) == ["KN-R-02", "KN-R-03"]


def test_a_second_enrolment_keeps_the_versions_before(config):
    config.chmod(0o640)  # it holds the broker password and the API token: the new file and the copies keep the mode
    first = config.read_text("utf-8")
    enrol(config, [Request(tag="04AA0000000001", kind="cloth", color="green")])
    second = config.read_text("utf-8")
    enrol(config, [Request(tag="04AA0000000002", kind="cloth", color="green", home="rack-green-1", id="CL-G-X")])
    assert (config.parent / "workshop.yaml.1").read_text("utf-8") == second
    assert (config.parent / "workshop.yaml.2").read_text("utf-8") == first
    ids = [t.id for t in load_config(config).tools]
    assert ids[-2:] == ["CL-G-01", "CL-G-X"]
    for path in (config, config.parent / "workshop.yaml.1", config.parent / "workshop.yaml.2"):
        assert path.stat().st_mode & 0o777 == 0o640, path


@pytest.mark.parametrize(("args", "named"), [
    (("--tag", "04AA0000000001", "--kind", "spoon", "--color", "red"), "invalid choice: 'spoon'"),
    (("--tag", "04AA0000000001", "--kind", "knife", "--color", "purple"), "invalid choice: 'purple'"),
    (("--tag", "04a224e2c65e80", "--kind", "knife", "--color", "red"),
     "enrol[0] (04a224e2c65e80).tag: 标签 04A224E2C65E80 已登记为 KN-R-01 / tag 04A224E2C65E80 is already enrolled"),
    (("--tag", "04AA0000000001", "--kind", "knife", "--color", "red", "--home", "sink-red-1"),
     "enrol[0] (04AA0000000001).home: 'sink-red-1' 是清洗池，不是器具架 / is a sink, not a rack"),
    (("--tag", "04AA0000000001", "--kind", "knife", "--color", "red", "--home", "rack-red-9"),
     "'rack-red-9' 不是本作坊的读卡站 / is not a station of this workshop"),
    (("--tag", "04AA0000000001", "--kind", "knife", "--color", "red", "--home", "rack-white-1"),
     "home: station 'rack-white-1' is a white rack, the tool is red"),
    (("--tag", "04AA0000000001", "--kind", "knife", "--color", "blue"), "the blue zone has no rack: give --home"),
    (("--tag", "12345", "--kind", "knife", "--color", "red"), "enrol[0] (12345).tag"),
    (("--tag", "04AA0000000001", "--tag", "04aa0000000001", "--kind", "knife", "--color", "red"),
     "tag 04AA0000000001 is given twice"),
])
def test_a_bad_request_is_refused_naming_it_and_nothing_is_written(config, args, named):
    before = config.read_text("utf-8")
    proc = _sebiao("enroll", "--config", str(config), *args)
    assert proc.returncode == 2, proc.stdout
    assert named in proc.stderr
    assert config.read_text("utf-8") == before
    assert not (config.parent / "workshop.yaml.1").exists()
    assert pending_labels(config) == []


def test_a_config_in_another_style_is_appended_to_or_refused_never_broken(tmp_path):
    block = tmp_path / "block.yaml"  # items as block mappings, no indent, as yaml.safe_dump writes them
    block.write_text(EXAMPLE.read_text("utf-8").replace(
        "  - {id: CT-W-01, kind: container, color: white, tag: 04E3E3E3E3E380, home: rack-white-1}",
        "- id: CT-W-01\n  kind: container\n  color: white   # a comment\n  tag: 04E3E3E3E3E380\n  home: rack-white-1"
    ).replace("\n  - {", "\n- {"), "utf-8")
    load_config(block)
    enrol(block, [Request(tag="04AA0000000001", kind="brush", color="white")])
    assert load_config(block).tool("BR-W-01").home == "rack-white-1"
    assert "  color: white   # a comment\n  tag: 04E3E3E3E3E380\n  home: rack-white-1\n- {id: BR-W-01" in \
        block.read_text("utf-8")

    head = ("workshop: {id: ws-x, name: x, district: y}\nstations:\n  - {id: rack-red-1, kind: rack, zone: red}\n"
            "  - {id: sink-red-1, kind: sink, zone: red}\n")
    flow = tmp_path / "flow.yaml"
    flow.write_text(head + "tools: [{id: KN-R-01, kind: knife, color: red, tag: '04AA0000000009', "
                           "home: rack-red-1}]\n", "utf-8")
    before = flow.read_text("utf-8")
    with pytest.raises(Exception, match="one line"):
        enrol(flow, [Request(tag="04AA0000000001", kind="knife", color="red")])
    assert flow.read_text("utf-8") == before

    empty = tmp_path / "empty.yaml"  # a new workshop's config (examples/workshop-new.yaml): becomes a block list
    empty.write_text(head + "tools: []   # 安装当天登记 / enrolled on the day\nrules: {}\n", "utf-8")
    enrol(empty, [Request(tag="04AA0000000001", kind="knife", color="red"),
                  Request(tag="04AA0000000002", kind="cloth", color="red")])
    assert empty.read_text("utf-8") == head + (
        "tools:  # 安装当天登记 / enrolled on the day\n"
        "  - {id: KN-R-01, kind: knife, color: red, tag: '04AA0000000001', home: rack-red-1}\n"
        "  - {id: CL-R-01, kind: cloth, color: red, tag: '04AA0000000002', home: rack-red-1}\nrules: {}\n")
    assert [t.id for t in load_config(empty).tools] == ["KN-R-01", "CL-R-01"]


def _enrol_one(path: str, i: int) -> None:
    enrol(path, [Request(tag=f"04BB00000000{i:02X}", kind="container", color="yellow")])


def test_enrolments_at_the_same_time_are_all_kept(config):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_enrol_one, args=(str(config), i)) for i in range(12)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 12
    tools = [t for t in load_config(config).tools if t.tag and t.tag.startswith("04BB")]
    assert sorted(t.tag for t in tools) == sorted(f"04BB00000000{i:02X}" for i in range(12))
    assert sorted(t.id for t in tools) == [f"CT-Y-{n:02d}" for n in range(2, 14)]
    assert len(pending_labels(config)) == 12




@pytest.fixture
def usb_station(tmp_path):
    from edge_gateway.tooling.station_config import load_station_config
    from edge_gateway.vstation.runner import VirtualStation

    cfg = tmp_path / "station.json"
    cfg.write_text('{"workshop": "ws-demo", "station": "rack-red-1", "broker": {"host": "127.0.0.1", "port": 1}}')
    vs = VirtualStation(load_station_config(cfg), tmp_path / "flash")
    vs.start()
    return vs


def test_tags_held_to_a_usb_station_get_their_label_and_are_enrolled(config, usb_station):
    from sebiao_station import label as smart_label

    from edge_gateway.commands.enroll import enrol_at_reader

    link = SerialLoop(usb_station)
    said: list[str] = []
    usb_station.board.place("04AB000000000A")  # a blank NTAG213 at the reader: the first one held
    first = enrol_at_reader(str(config), link, "/dev/ttyUSB0", "scissors", "red", None, 1, say=said.append)
    usb_station.board.remove("04AB000000000A")
    usb_station.board.place("04AB000000000B")
    second = enrol_at_reader(str(config), link, "/dev/ttyUSB0", "scissors", "red", None, 1, say=said.append)
    assert [t.id for t in first + second] == ["SC-R-01", "SC-R-02"]
    assert "hold new tag 1 of 1 to the reader" in said[0]
    card = usb_station.board.cards["04AB000000000B"]
    assert smart_label.decode(bytes(card.memory[16:16 + 64])) == {"tool": "SC-R-02", "kind": "scissors",
                                                                  "color": "red"}
    tool = load_config(config).tool("SC-R-02")
    assert (tool.tag, tool.home) == ("04AB000000000B", "rack-red-1")

    before = config.read_text("utf-8")  # a home of another colour: refused before the tag is written
    with pytest.raises(Exception, match="'rack-white-1' is a white rack, the tool is red"):
        enrol_at_reader(str(config), link, "/dev/ttyUSB0", "scissors", "red", "rack-white-1", 1, say=said.append)
    assert config.read_text("utf-8") == before
    assert smart_label.decode(bytes(card.memory[16:16 + 64]))["tool"] == "SC-R-02"


def test_labels_pending_prints_just_the_enrolled_then_empties_the_queue(config, tmp_path):
    import pdfplumber

    from sebiao.cli import main

    enrol(config, [Request(tag="04AA0000000001", kind="knife", color="red"),
                   Request(tag="04AA0000000002", kind="cloth", color="white")])
    out = tmp_path / "new.pdf"
    assert main(["labels", "--config", str(config), "--pending", "--out", str(out)]) == 0
    with pdfplumber.open(out) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "KN-R-02" in text and "CL-W-01" in text
    assert "KN-R-01" not in text and "CB-G-01" not in text  # the tools printed before
    assert pending_labels(config) == []
    assert main(["labels", "--config", str(config), "--pending", "--out", str(out)]) == 2  # nothing waiting


def test_without_kind_each_tag_is_asked_at_the_terminal_chinese_first(config):
    import os
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: sebiao enroll on a terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "sebiao.cli", "enroll", "--config", str(config),
                                  "--tag", "04AA0000000001"])
    answers = iter([b"spoon\n", b"brush\n", b"\n", b"\n", b"\n"])  # a wrong kind is asked again; then defaults
    seen = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 20)
        assert ready, seen.decode(errors="replace")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if chunk.rstrip().endswith(b":"):
            os.write(fd, next(answers))
    _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert text.index("种类 / kind") < text.index("颜色 / colour") < text.index("固定存放架 / home rack")
    assert "'spoon' 不在可选项中 / is not one of the choices" in text
    tool = load_config(config).tool_by_tag("04AA0000000001")
    assert (tool.id, tool.kind, tool.color, tool.home) == ("BR-R-01", "brush", "red", "rack-red-1")


def test_the_config_watch_sees_real_changes_only(config):
    import os

    from edge_gateway.config import ConfigWatch
    from sebiao_common.errors import ConfigError as Refused

    watch = ConfigWatch(config)
    assert watch.changed() is None
    text = config.read_text("utf-8")
    config.write_text(text, "utf-8")  # saved again, same bytes: no change
    os.utime(config, ns=(1, 1))
    assert watch.changed() is None
    config.write_text(text.replace("home: rack-red-1", "home: rack-red-9", 1), "utf-8")
    refused = watch.changed()
    assert isinstance(refused, Refused) and "rack-red-9" in str(refused)
    assert watch.changed() is None  # reported once
    enrol_text = text.replace("tools:\n", "tools:\n  - {id: KN-R-09, kind: knife, color: red, tag: '04DD0000000001', "
                                          "home: rack-red-1}\n", 1)
    config.write_text(enrol_text, "utf-8")
    taken = watch.changed()
    assert taken.tool("KN-R-09").tag == "04DD0000000001"


def test_a_config_that_cannot_be_written_is_a_named_error(tmp_path):
    from sebiao_common.errors import ConfigError as Refused

    missing = tmp_path / "gone" / "workshop.yaml"  # its directory is not there: nothing can be locked or written
    with pytest.raises(Refused, match=r"gone/workshop.yaml: 无法写入配置文件 / cannot write the config file"):
        enrol(missing, [Request(tag="04AA0000000001", kind="knife", color="red")])
