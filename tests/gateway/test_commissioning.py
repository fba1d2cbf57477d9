"""The commissioning check (``sebiao commission``) against the real gateway process through real Mosquitto, with
virtual stations running the real firmware (which plays the ``test`` pattern and confirms it in its status):
all good gives exit 0 and a sheet listing every station and tool as passed; a stopped station, a tool away from
home, a station that ignores the test and an installer who saw nothing each fail, naming what failed; the test
endpoint refuses an unauthenticated caller, an unknown station, an offline one, and a second test too soon."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import pdfplumber
import pytest
from gateway_proc import GatewayProcess, write_config
from servers import ROOT
from stations_mqtt import ScriptedStation

from edge_gateway.commands import commission
from edge_gateway.config import load_config
from edge_gateway.tooling.commissioning import check
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs
from edge_gateway.tooling.station_config import load_station_config
from edge_gateway.vstation.runner import VirtualStation
from edge_gateway.vstation.script import Place, Remove

pytestmark = pytest.mark.slow


class Rig:
    """The gateway and one virtual station per station of the example (but those in ``scripted``: a scripted
    MQTT client that reports online and never plays a command), stepped by one thread, every tool at home."""

    def __init__(self, broker, tmp_path, scripted: tuple[str, ...] = ()) -> None:
        self.broker, self.tmp = broker, tmp_path
        self.config_path = write_config(tmp_path / "workshop.yaml", broker)
        self.config = load_config(self.config_path)
        configs = tmp_path / "stations"
        write_station_configs(self.config, broker.credentials, configs, ProvisionOptions(broker_url=broker.url))
        self.gateway = GatewayProcess(self.config_path, tmp_path / "data").start()
        self.virtual: dict[str, VirtualStation] = {}
        self.scripted: dict[str, ScriptedStation] = {}
        for station in self.config.stations:
            if station.id in scripted:
                self.scripted[station.id] = ScriptedStation(broker, self.config, station.id)
                self.scripted[station.id].status(True, buffer_depth=0, clock_synced=True)
            else:
                vs = VirtualStation(load_station_config(configs / station.id / "config.json"), tmp_path / station.id)
                vs.start()
                self.virtual[station.id] = vs
        self.lock, self.running = threading.Lock(), True
        self.thread = threading.Thread(target=self._step, daemon=True)
        self.thread.start()
        for tool in self.config.tools:
            if tool.home in self.virtual:
                self.apply(tool.home, Place(uid=tool.tag))
        self.gateway.wait_for(self._settled, timeout=30, what="every station online and every tool at home")

    def _step(self) -> None:
        while self.running:
            with self.lock:
                for vs in self.virtual.values():
                    vs.step()
            time.sleep(0.02)

    def apply(self, station: str, command) -> None:
        with self.lock:
            self.virtual[station].apply(command)

    def _settled(self) -> bool:
        stations = self.gateway.get("/api/stations").json()
        tools = self.gateway.get("/api/tools").json()
        return (all(s["online"] and s["clock_synced"] for s in stations)
                and all(t["state"] == "on_rack" and t["station"] == t["home"] for t in tools
                        if t["home"] in self.virtual))

    def commission(self, *extra: str) -> tuple[subprocess.CompletedProcess, str]:
        """``sebiao commission --yes`` as the installer runs it; its result and the sheet's text."""
        out = self.tmp / "sheet.pdf"
        run = subprocess.run([sys.executable, "-m", "sebiao.cli", "commission", "--config", str(self.config_path),
                              "--gateway", self.gateway.base, "--out", str(out), "--answer-seconds", "8", *extra],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert run.returncode in (0, 1), run.stdout + run.stderr
        return run, sheet_text(out)

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        for vs in self.virtual.values():
            vs.power_off()
        for station in self.scripted.values():
            station.close()
        self.gateway.stop()


def sheet_text(path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


@pytest.fixture
def rig(mosquitto, tmp_path, request):
    made = Rig(mosquitto(), tmp_path, scripted=getattr(request, "param", ()))
    yield made
    made.close()


def test_everything_in_order_passes_and_the_sheet_lists_every_station_and_tool(rig):
    run, text = rig.commission("--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "全部通过" in run.stdout and "everything passed" in text
    for station in rig.config.stations:  # each station: online, clock set, test played, passed
        row = lines_with(text, station.id)[0]
        assert "在线" in row and "已设置" in row and "已播放" in row and "通过" in row and "未通过" not in row, row
        assert "未经人工确认" in row  # --yes: no one claims to have seen it
    for tool in rig.config.tools:
        row = lines_with(text, tool.id)[0]
        assert "在固定位置" in row and "未通过" not in row, row
    knife = lines_with(text, "KN-R-01")[0]
    assert "红色圆形" in knife and "刀具" in knife  # colour, shape and kind, not colour alone
    assert "安装人员签字" in text and "店主签字" in text and "日期" in text
    assert "示例凉皮作坊" in text and "0.1.0" in text  # the workshop and the gateway's version
    # each station's status confirms the test with its seq (docs/protocol.md): what the check waited for
    played = [s["played"] for s in rig.gateway.get("/api/stations").json()]
    assert all(p and p["pattern"] == "test" and p["sent_at"] > 0 for p in played), played


def test_a_stopped_station_fails_naming_it(rig):
    with rig.lock:
        rig.virtual["sink-green-1"].power_off()  # its last will: offline
        del rig.virtual["sink-green-1"]
    rig.gateway.wait_for(lambda: not next(s for s in rig.gateway.get("/api/stations").json()
                                          if s["id"] == "sink-green-1")["online"], what="sink-green-1 offline")
    run, text = rig.commission("--yes")
    assert run.returncode == 1
    assert "读卡站 sink-green-1（蔬菜清洗池）：不在线" in run.stdout
    row = lines_with(text, "sink-green-1")[0]
    assert "不在线" in row and "未发送" in row and "未通过" in row, row
    assert any("sink-green-1" in line and "offline" in line for line in lines_with(text, "不在线"))
    others = [s.id for s in rig.config.stations if s.id != "sink-green-1"]
    assert all("未通过" not in lines_with(text, s)[0] for s in others)


def test_a_tool_away_from_home_fails_naming_it(rig):
    rig.apply("rack-green-1", Remove(uid=rig.config.tool("CB-G-01").tag))
    rig.gateway.wait_for(lambda: next(t for t in rig.gateway.get("/api/tools").json()
                                      if t["id"] == "CB-G-01")["state"] == "out", what="CB-G-01 taken")
    run, text = rig.commission("--yes")
    assert run.returncode == 1
    assert "器具 绿色三角形 砧板 CB-G-01" in run.stdout and "未在固定位置 rack-green-1 看到（已取走）" in run.stdout
    row = lines_with(text, "CB-G-01")[0]
    assert "未通过" in row and "已取走" in row, row
    assert all("未通过" not in lines_with(text, t.id)[0] for t in rig.config.tools if t.id != "CB-G-01")


@pytest.mark.parametrize("rig", [("rack-yellow-1",)], indirect=True)
def test_a_station_that_ignores_the_test_is_no_answer(rig):
    run, text = rig.commission("--yes")
    assert run.returncode == 1
    assert "读卡站 rack-yellow-1（半成品器具架）：无应答" in run.stdout
    row = lines_with(text, "rack-yellow-1")[0]
    assert "在线" in row and "无应答" in row and "未通过" in row and "未经人工确认" not in row, row


def test_the_installer_answers_at_the_terminal_chinese_first(rig, capsys):
    questions: list[str] = []
    fourth = rig.config.stations[3].id
    # the name; then at each station: Enter when there, and what they saw ("r" again at the first: tested twice)
    answers = iter(["张三", "", "r", "y"] + ["", "y"] * 2 + ["", "n"] + ["", "y"] * 5)

    def ask(question: str) -> str:
        questions.append(question)
        return next(answers)

    args = argparse.Namespace(config=str(rig.config_path), gateway=rig.gateway.base, token=None,
                              out=str(rig.tmp / "asked.pdf"), installer=None, yes=False, answer_seconds=8.0, font=None)
    assert commission.run(args, ask) == 1
    assert questions[0].startswith("安装人员姓名") and questions[1].startswith("请走到读卡站 rack-red-1")
    seen = [q for q in questions if "是否看到红灯" in q]
    assert len(seen) == len(rig.config.stations) + 1 and all(q.strip().startswith("读卡站") for q in seen)
    assert f"读卡站 {fourth}（{rig.config.stations[3].name}）：安装人员未看到灯光或未听到蜂鸣" in capsys.readouterr().out
    text = sheet_text(rig.tmp / "asked.pdf")
    assert "张三" in lines_with(text, rig.config.stations[0].id)[0]
    assert "未看到或未听到" in lines_with(text, fourth)[0] and "未通过" in lines_with(text, fourth)[0]
    assert next(answers, None) is None  # every answer was asked for


def test_the_test_endpoint_refuses_what_it_should(rig):
    gateway = rig.gateway
    assert gateway.post("/api/stations/rack-red-1/test", token=None).status_code == 401
    assert gateway.post("/api/stations/rack-red-1/test", token="wrong-token-0123456789").status_code == 401
    unknown = gateway.post("/api/stations/rack-nowhere/test")
    assert unknown.status_code == 404 and "rack-nowhere" in unknown.json()["error"]
    sent = gateway.post("/api/stations/rack-red-1/test")
    assert sent.status_code == 202 and sent.json()["pattern"] == "test"
    again = gateway.post("/api/stations/rack-red-1/test")  # one a station every 5 s
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    assert gateway.post("/api/stations/rack-red-2/test").status_code == 202  # per station
    gateway.wait_for(lambda: (next(s for s in gateway.get("/api/stations").json() if s["id"] == "rack-red-1")
                              ["played"] or {}).get("seq") == sent.json()["seq"], what="rack-red-1 confirms")
    with rig.lock:
        rig.virtual["sink-red-1"].power_off()
        del rig.virtual["sink-red-1"]
    gateway.wait_for(lambda: not next(s for s in gateway.get("/api/stations").json()
                                      if s["id"] == "sink-red-1")["online"], what="sink-red-1 offline")
    offline = gateway.post("/api/stations/sink-red-1/test")
    assert offline.status_code == 409 and "不在线" in offline.json()["error"]


def _station(**changes) -> check.StationResult:
    base = dict(id="rack-red-1", name="生肉刀具架", zone="red", online=True, clock_synced=True, clock_alarm=False,
                clock_offset_ms=-40, test=check.PLAYED, seen=check.SEEN, confirmed_by="张三")
    return check.StationResult(**{**base, **changes})


@pytest.mark.parametrize("changes, failure", [
    ({}, None),
    ({"clock_offset_ms": 6_000}, "时钟偏差 +6.0 秒"),
    ({"clock_offset_ms": -5_000}, None),
    ({"clock_synced": False}, "时钟未设置"),
    ({"clock_synced": None}, "未报告时钟"),
    ({"clock_alarm": True}, "时钟报警中"),
    ({"test": check.NO_ANSWER, "seen": check.NOT_ASKED}, "无应答"),
    ({"seen": check.NOT_SEEN}, "安装人员未看到灯光或未听到蜂鸣"),
    ({"seen": check.BY_YES, "confirmed_by": "--yes"}, None),
])
def test_a_station_passes_only_online_with_its_clock_set_and_its_test_played_and_seen(changes, failure):
    station = _station(**changes)
    result = check.Commissioning(workshop_id="ws-demo", workshop_name="示例", at="", gateway="", gateway_version=None,
                                 gateway_clock_synchronised=None, stations=(station,), tools=())
    assert station.passed is (failure is None) and result.passed is (failure is None)
    if failure:
        assert result.failures[0][0] == f"读卡站 rack-red-1（生肉刀具架）：{failure}"


def test_tools_are_named_by_colour_shape_and_kind_and_judged_by_what_the_readers_saw():
    rows = [{"id": "KN-R-01", "kind": "knife", "color": "red", "home": "rack-red-1", "tag": "04A2", "state": "on_rack",
             "station": "rack-red-1"},
            {"id": "KN-W-01", "kind": "knife", "color": "white", "home": "rack-white-1", "tag": "04E1",
             "state": "on_rack", "station": "rack-red-1"},
            {"id": "CT-W-01", "kind": "container", "color": "white", "home": "rack-white-1", "tag": None,
             "state": "unknown", "station": None},
            {"id": "SC-Y-01", "kind": "scissors", "color": "yellow", "home": "rack-yellow-1", "tag": "04D0",
             "state": "unknown", "station": None}]
    home, elsewhere, untagged, never = check.tool_results(rows)
    assert home.problem is None and home.name_zh == "红色圆形 刀具 KN-R-01" and home.name_en == "red circle knife"
    assert elsewhere.problem == ("未在固定位置 rack-white-1 看到（在 rack-red-1）",
                                 "not seen at home rack-white-1 (on rack-red-1)")
    assert untagged.problem is None and untagged.where == ("未贴标签，未检查", "no tag, not checked")
    assert never.problem[0] == "未在固定位置 rack-yellow-1 看到（从未被读到）"
    result = check.Commissioning(workshop_id="ws-demo", workshop_name="示例", at="", gateway="",
                                 gateway_version=None, gateway_clock_synchronised=None, stations=(_station(),),
                                 tools=(home, elsewhere, untagged, never))
    assert [f[0].split("：")[0] for f in result.failures] == ["器具 白色六边形 刀具 KN-W-01", "器具 黄色方形 剪刀 SC-Y-01"]
    assert not check.Commissioning(workshop_id="ws-demo", workshop_name="示例", at="", gateway="",
                                   gateway_version=None, gateway_clock_synchronised=None, stations=(),
                                   tools=()).passed  # nothing checked is not a pass


def test_the_wrong_gateway_or_token_is_a_named_error(rig, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(rig.config_path.read_text("utf-8").replace("id: ws-demo", "id: ws-other"), "utf-8")
    run = subprocess.run([sys.executable, "-m", "sebiao.cli", "commission", "--config", str(other), "--gateway",
                          rig.gateway.base, "--yes", "--out", str(tmp_path / "x.pdf")],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 2 and "ws-demo" in run.stderr and "ws-other" in run.stderr
    run = subprocess.run([sys.executable, "-m", "sebiao.cli", "commission", "--config", str(rig.config_path),
                          "--gateway", rig.gateway.base, "--yes", "--token", "wrong-token-0123456789",
                          "--out", str(tmp_path / "x.pdf")], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 2 and "令牌无效" in run.stderr
    assert not (tmp_path / "x.pdf").exists()  # no sheet claims anything
