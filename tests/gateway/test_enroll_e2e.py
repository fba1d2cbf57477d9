"""Enrolment end to end: 30 new tags read at stations (scripted stations through real Mosquitto) are
unknown-tag alarms on the real gateway; ``sebiao enroll --from-gateway`` adds them all in one go; the
config is valid with the previous version kept; the running gateway restarts itself on the new file and
tracks those tools where they were read; a file changed into one the parser refuses is not taken up."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from servers import ROOT
from stations_mqtt import close_all, online_stations

from edge_gateway.config import load_config
from edge_gateway.model.protocol import Label, StationEvent, encode_event, event_topic

pytestmark = pytest.mark.slow
RACKS = ("rack-red-1", "rack-green-1", "rack-yellow-1", "rack-white-1", "rack-red-2")


def _read(station, tag: str, ts: int, label: Label | None) -> None:
    """A tag placed at a scripted station, with its smart label's content when it has one."""
    event = StationEvent(station=station.id, boot=station.boot, seq=station.seq, ts=ts, tag=tag, action="placed",
                         label=label)
    station.seq += 1
    station.client.publish(event_topic(station.ws, station.id), encode_event(event), qos=1)


def _unknown(gateway) -> set[str]:
    return {a["tag"] for a in gateway.get("/api/alarms?state=all", headers={"Authorization": f"Bearer {TOKEN}"}
                                          ).json() if a["type"] == "unknown_tag"}


def _tool_ids(gateway) -> set[str]:
    try:
        return {t["id"] for t in gateway.get("/api/tools", headers={"Authorization": f"Bearer {TOKEN}"}).json()}
    except (httpx.HTTPError, ValueError):  # between the stop and the new start
        return set()


def test_thirty_tags_read_at_stations_are_enrolled_and_then_tracked(mosquitto, tmp_path):
    broker = mosquitto()
    path = write_config(tmp_path / "workshop.yaml", broker)
    before = path.read_text("utf-8")
    gateway = GatewayProcess(path, tmp_path / "data").start()
    stations = online_stations(broker, load_config(path))
    try:
        tags = {f"04CC0000{i:06X}": RACKS[i % len(RACKS)] for i in range(30)}
        start = int(time.time() * 1000) - 60_000
        labelled = {"04CC0000000003": Label(tool="BR-W-07", kind="brush", color="white"),  # read at rack-white-1
                    "04CC0000000005": Label(tool="KN-R-01", kind="knife", color="red")}  # an id already taken
        for n, (tag, rack) in enumerate(tags.items()):
            _read(stations[rack], tag, start + n, labelled.get(tag))
        gateway.wait_for(lambda: _unknown(gateway) >= set(tags), timeout=20, what="30 unknown-tag alarms")
        listed = gateway.get("/api/unknown-tags").json()
        assert [t["tag"] for t in listed] == list(tags)  # in the order first read
        assert listed[3]["label"] == {"tool": "BR-W-07", "kind": "brush", "color": "white"}
        assert listed[0]["label"] is None and listed[0]["station"] == "rack-red-1" and listed[0]["zone"] == "red"
        assert listed[0]["reads"] == 1

        began = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "sebiao.cli", "enroll", "--config", str(path),
                               "--from-gateway", gateway.base, "--kind", "container"],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        assert time.monotonic() - began < 30  # 30 tools in seconds, not an afternoon of typing UIDs
        assert "共 30 件" in proc.stdout and "restarts itself" in proc.stdout

        config = load_config(path)  # the gateway's own loader accepts it
        enrolled = {t.tag: t for t in config.tools if t.tag in tags}
        assert len(enrolled) == 30
        for tag, rack in tags.items():
            if tag in labelled:
                continue
            zone = config.station(rack).zone
            tool = enrolled[tag]
            assert tool.kind == "container" and tool.color == zone  # the colour of the zone that read it
            assert tool.home == rack  # enrolled where it was read: rack-red-2's tools live on rack-red-2
        brush = enrolled["04CC0000000003"]  # its smart label names kind, colour and id: taken as written
        assert (brush.id, brush.kind, brush.color, brush.home) == ("BR-W-07", "brush", "white", "rack-white-1")
        knife = enrolled["04CC0000000005"]  # kind and colour from the label; its id was taken: the next free one
        assert (knife.id, knife.kind, knife.color) == ("KN-R-02", "knife", "red")
        # ids in the order the tags were read: the first red one is the next free red container
        assert enrolled["04CC0000000000"].id == "CT-R-01"
        assert enrolled["04CC0000000002"].id == "CT-Y-02"  # CT-Y-01 was in the config already
        assert (tmp_path / "workshop.yaml.1").read_text("utf-8") == before
        answered = [a for a in gateway.get("/api/alarms?state=all").json() if a["tag"] in tags]
        assert len(answered) == 30 and all(a["state"] == "cleared" for a in answered)  # cleared, saying as what
        detail = gateway.get(f"/api/alarms/{answered[0]['id']}").json()
        assert detail["history"][-1]["by"] == "sebiao enroll" and "enrolled as" in detail["history"][-1]["comment"]

        again = subprocess.run([sys.executable, "-m", "sebiao.cli", "enroll", "--config", str(path),
                                "--from-gateway", gateway.base, "--kind", "container"],
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert again.returncode == 0 and "no tag to enrol" in again.stdout  # enrolled ones are not taken twice

        # the gateway saw its file change and started again on it, on the same port, no restart asked
        gateway.wait_for(lambda: _tool_ids(gateway) >= {t.id for t in enrolled.values()}, timeout=30,
                         what="the gateway on the new config")
        assert "the config file changed (41 tools): restarting to apply it" in gateway.log()
        # no tool lifted again: each is where its tag was read before it was enrolled (its first sighting)

        def tracked():
            rows = {t["id"]: t for t in gateway.get("/api/tools", headers={"Authorization": f"Bearer {TOKEN}"}
                                                    ).json()}
            return all(rows[t.id]["state"] == "on_rack" and rows[t.id]["station"] == tags[t.tag]
                       for t in enrolled.values())
        gateway.wait_for(tracked, timeout=20, what="the 30 enrolled tools on their racks")
        assert not [a for a in gateway.get("/api/alarms").json() if a["type"] != "unknown_tag"]  # nothing judged
        stations["rack-red-2"].event("04CC0000000004", "removed")  # then followed as any tool
        gateway.wait_for(lambda: gateway.rows("SELECT location FROM tools WHERE id = ?", (
            load_config(path).tool_by_tag("04CC0000000004").id,)) == [("out",)], what="the tool taken")
    finally:
        close_all(stations)
        gateway.stop()


def test_a_config_changed_into_a_refused_one_is_not_taken_up(mosquitto, tmp_path):
    broker = mosquitto()
    path = write_config(tmp_path / "workshop.yaml", broker)
    gateway = GatewayProcess(path, tmp_path / "data").start()
    try:
        good = path.read_text("utf-8")
        path.write_text(good.replace("home: rack-red-1", "home: rack-red-9", 1), "utf-8")  # a hand edit gone wrong
        gateway.wait_for(lambda: "the config file changed but is refused" in gateway.log(), timeout=15,
                         what="the refusal in the log")
        assert "station 'rack-red-9' is not defined" in gateway.log()
        assert gateway.proc.poll() is None and "KN-R-01" in _tool_ids(gateway)  # running on the old config
        path.write_text(good.replace("tools:\n", "tools:\n- {id: KN-R-09, kind: knife, color: red, "
                                                  "tag: '04DD000000000A', home: rack-red-1}\n", 1), "utf-8")
        gateway.wait_for(lambda: "KN-R-09" in _tool_ids(gateway), timeout=30, what="the corrected config")
    finally:
        gateway.stop()
