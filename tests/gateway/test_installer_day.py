"""An installer's day, end to end, with the documented commands only: a new workshop's config with no tools
(examples/workshop-new.yaml, the worked 10-station example of hardware_docs/example-workshop.md),
``sebiao broker-config`` and Mosquitto, the gateway, ``sebiao firmware provision`` and ten virtual stations
running the real firmware (``sebiao station``), the 30 tools of the example enrolled kind by kind from the
tags the stations read (``sebiao enroll --from-gateway``), the commissioning check (``sebiao check``), and at
closing time the roll call's alarm at the owner's webhook (``notify:``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pdfplumber
import pytest
import yaml
from gateway_proc import GatewayProcess
from notify_receiver import NotifyReceiver
from servers import MOSQUITTO, ROOT, _die_with_parent, free_port, listens
from station_proc import StationProcess

from edge_gateway.config import load_config
from sebiao_common import strict_json

pytestmark = pytest.mark.slow

NEW = ROOT / "examples" / "workshop-new.yaml"
TOKEN = "installer-token-0123456789abcdef"
# The worked example's tools (hardware_docs/example-workshop.md): per rack, kind -> how many; 30 in all.
TOOLS = {
    "rack-red-1": {"knife": 4, "scissors": 1, "cloth": 2},
    "rack-red-2": {"cutting_board": 3},
    "rack-green-1": {"knife": 2, "cutting_board": 2, "brush": 1, "cloth": 2},
    "rack-yellow-1": {"container": 4, "scissors": 1, "cloth": 1},
    "rack-white-1": {"knife": 2, "cutting_board": 1, "container": 3, "cloth": 1},
}
KINDS = ("knife", "cutting_board", "cloth", "scissors", "container", "brush")


def _sebiao(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _zone_at_midday() -> tuple[str, datetime]:
    """A fixed-offset zone where it is now between 06:00 and 18:00 (the day is open and a closing time a
    minute ago is the same local day), and the local time now."""
    now = datetime.now(timezone.utc)
    for offset in range(-12, 13):
        local = now + timedelta(hours=offset)
        if 6 <= local.hour < 18:
            return ("UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"), local
    raise AssertionError("unreachable")


def _edit(path: Path, **sections: object) -> None:
    """What the installer (then the owner) changes by hand in the config file."""
    data = yaml.safe_load(path.read_text("utf-8"))
    data.update(sections)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


class _Mosquitto:
    """Mosquitto on the files ``sebiao broker-config`` wrote (docs/broker.md: ``mosquitto -c``)."""

    def __init__(self, conf: Path, port: int, log: Path) -> None:
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while not listens(self.proc.pid, port):
            assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _tags() -> dict[str, tuple[str, str]]:
    """Tag UID -> (rack, kind) for the 30 tools, in the order the installer puts them down."""
    out, n = {}, 0
    for kind in KINDS:
        for rack, kinds in TOOLS.items():
            for _ in range(kinds.get(kind, 0)):
                out[f"04EE{n:010X}"] = (rack, kind)
                n += 1
    return out


def _unknown(gateway: GatewayProcess) -> set[str]:
    try:
        return {t["tag"] for t in gateway.get("/api/unknown-tags").json()}
    except (httpx.HTTPError, ValueError):  # the gateway starting again on its new config
        return set()


def _tools(gateway: GatewayProcess) -> dict[str, dict]:
    try:
        return {t["id"]: t for t in gateway.get("/api/tools", headers={"Authorization": f"Bearer {TOKEN}"}).json()}
    except (httpx.HTTPError, ValueError):
        return {}


def test_a_new_workshop_commissioned_in_a_day_with_the_documented_commands(tmp_path):
    zone, local = _zone_at_midday()
    config = tmp_path / "workshop.yaml"
    config.write_text(NEW.read_text("utf-8"), "utf-8")
    hook = NotifyReceiver()
    # 1. the broker: accounts for the gateway and every station, then Mosquitto on its files
    port = free_port()
    broker_dir = tmp_path / "broker"
    _ok(_sebiao("broker-config", "--config", str(config), "--out", str(broker_dir), "--listen", f"127.0.0.1:{port}",
                "--persistence-dir", str(tmp_path / "persistence"),
                *(["--run-as", "root"] if os.geteuid() == 0 else [])))
    mosquitto = _Mosquitto(broker_dir / "mosquitto.conf", port, tmp_path / "mosquitto.log")
    creds = strict_json.loads((broker_dir / "credentials.json").read_text("utf-8"))
    # 2. the gateway's config: its broker account, its API token, the owner's phone, the working day
    _edit(config, http={"token": TOKEN},
          broker={"url": f"mqtt://127.0.0.1:{port}", "username": creds["gateway"]["username"],
                  "password": creds["gateway"]["password"]},
          time_server={"listen": "127.0.0.1", "port": 0},  # not the machine's port 123
          notify={"channels": [{"name": "店主", "kind": "webhook", "url": f"{hook.base}/sebiao",
                                "types": ["roll_call"]}], "retry_max_seconds": 0.5},
          day={"opens": "00:00", "closes": "23:59", "timezone": zone})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    stations: dict[str, StationProcess] = {}
    try:
        # 3. every station's config.json, and the ten stations started on them
        out = _ok(_sebiao("firmware", "provision", "--config", str(config), "--credentials", str(broker_dir),
                          "--out", str(tmp_path / "stations")))
        ids = [s.id for s in load_config(config).stations]
        assert len(ids) == 10 and all(i in out for i in ids)
        for sid in ids:
            stations[sid] = StationProcess(tmp_path / "stations" / sid / "config.json", tmp_path / "flash" / sid)
        gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM stations WHERE online = 1") == 10,
                         timeout=30, what="ten stations online")

        # 4. enrolment: each kind's tools put on their own racks, then enrolled in one command
        tags = _tags()
        began = time.monotonic()
        for kind in KINDS:
            batch = {tag: rack for tag, (rack, k) in tags.items() if k == kind}
            for tag, rack in batch.items():
                stations[rack].send(f"place {tag}")
            gateway.wait_for(lambda: _unknown(gateway) >= set(batch), timeout=30, what=f"the {kind} tags read")
            said = _ok(_sebiao("enroll", "--config", str(config), "--from-gateway", gateway.base,
                               "--kind", kind))
            assert f"共 {len(batch)} 件" in said
        assert time.monotonic() - began < 120  # 30 tools in a couple of minutes, not an afternoon
        enrolled = load_config(config)
        assert len(enrolled.tools) == 30 and (tmp_path / "workshop.yaml.1").exists()
        for tag, (rack, kind) in tags.items():
            tool = enrolled.tool_by_tag(tag)
            assert (tool.kind, tool.color, tool.home) == (kind, enrolled.station(rack).zone, rack), tag

        # 5. the gateway on the final config follows every tool where it lies
        def all_home() -> bool:
            rows = _tools(gateway)
            return len(rows) == 30 and all(r["state"] == "on_rack" and r["station"] == r["home"]
                                           for r in rows.values())
        gateway.wait_for(all_home, timeout=40, what="the 30 tools on their home racks")

        # 6. the commissioning check: every station online with its clock, every tool home, every LED and
        # buzzer played (confirmed here by --yes, which the sheet says), and the sign-off sheet
        sheet = tmp_path / "验收单.pdf"
        said = _ok(_sebiao("commission", "--config", str(config), "--gateway", gateway.base, "--yes",
                           "--installer", "王师傅", "--out", str(sheet), timeout=120))
        assert sheet.exists() and all(sid in said for sid in ids)
        text = "\n".join(page.extract_text() or "" for page in pdfplumber.open(sheet).pages)
        assert "王师傅" in text and "未经人工确认" in text and all(t.id in text for t in enrolled.tools)

        # 7. at closing time: a knife taken from the raw-meat rack and never brought back
        knife = next(t for t in enrolled.tools if t.home == "rack-red-1" and t.kind == "knife")
        stations["rack-red-1"].send(f"remove {knife.tag}")
        gateway.wait_for(lambda: _tools(gateway)[knife.id]["state"] == "out", what="the knife taken")
        closes = (local - timedelta(minutes=1)).strftime("%H:%M")  # the owner sets today's closing time
        _edit(config, day={"opens": "00:00", "closes": closes, "timezone": zone})
        [call] = hook.wait_for(1, timeout=40)
        alarm = call.body["alarm"]
        assert (alarm["type"], alarm["tool"], call.body["transition"]["action"]) == ("roll_call", knife.id, "raised")
        assert knife.id in alarm["text"]["zh"] and call.body["workshop"]["name"] == "新建凉皮作坊"
        assert [a["tool"] for a in gateway.get("/api/alarms").json() if a["type"] == "roll_call"] == [knife.id]
    finally:
        for station in stations.values():
            station.kill()
        gateway.stop()
        mosquitto.stop()
        hook.stop()
