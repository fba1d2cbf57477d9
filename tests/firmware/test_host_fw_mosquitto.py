"""The station application on the host (HostBoard, simulated MFRC522) against a
real Mosquitto with the generated ACL: events, retained status, the will, and
events kept through a broker outage."""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))

from sebiao_sim.host import HostBoard  # noqa: E402
from sebiao_station import config  # noqa: E402
from sebiao_station.app import Station  # noqa: E402

TAG = "04A224E2C65E80"


def _started(broker, tmp_path, **extra):
    """rack-red-1 on a HostBoard, logged in to `broker` with its own account, started; `extra`: more config."""
    user, password = broker.account("rack-red-1")
    given = {
        "workshop": broker.config.workshop.id, "station": "rack-red-1",
        "broker": {"host": "127.0.0.1", "port": broker.port, "username": user, "password": password,
                   "keepalive_s": 10},
        "timing": {"backoff_min_ms": 200, "backoff_max_ms": 1000, "socket_timeout_ms": 1000,
                   "puback_timeout_ms": 1000},
    }
    board = HostBoard(str(tmp_path / "flash"))
    st = Station(board, config.validate({**given, **extra}))
    st.start()
    return board, st


def _run(station, seconds, until=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        station.step()
        if until is not None and until():
            return True
        time.sleep(0.02)
    return until is None


def test_station_speaks_to_real_mosquitto(mosquitto, tmp_path):
    broker = mosquitto()
    ws = broker.config.workshop.id
    board, st = _started(broker, tmp_path)
    with broker.client("gateway") as gw:
        gw.subscribe("sebiao/%s/rack-red-1/#" % ws)
        board.place(TAG, {"tool": "KN-R-01", "kind": "knife", "color": "red"})
        assert _run(st, 5, lambda: st.buffer.depth == 0 and st.seq == 1)
        event = gw.receive_until(lambda m: m.topic.endswith("/event"))[-1]
        body = json.loads(event.payload)
        assert body["action"] == "placed" and body["tag"] == TAG and body["ts"] > 1.7e12
        assert body["label"] == {"tool": "KN-R-01", "kind": "knife", "color": "red"}

        broker.stop()  # outage: the tag leaves and comes back meanwhile
        board.remove(TAG)
        _run(st, 1.5)
        board.place(TAG)
        _run(st, 1.0)
        assert st.buffer.depth == 2
        broker.start()
        assert _run(st, 10, lambda: st.buffer.depth == 0)
    with broker.client("gateway") as gw2:
        gw2.subscribe("sebiao/%s/rack-red-1/status" % ws)
        status = json.loads(gw2.expect().payload)
        assert status["online"] is True and status["buffer_depth"] == 0
    assert st.link.stats["connects"] >= 2
    st.link.client.close()  # unclean: the broker publishes the will
    with broker.client("gateway") as gw3:
        gw3.subscribe("sebiao/%s/rack-red-1/status" % ws)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msg = gw3.expect(timeout=5)
            if json.loads(msg.payload) == {"v": 1, "online": False}:
                break
        else:
            raise AssertionError("no last will")


def test_a_probe_cycle_reaches_real_mosquitto_and_waits_out_an_outage(mosquitto, tmp_path):
    """A cycle is QoS 1 evidence: the ACL lets the station write it, and a cycle that ends while the
    broker is away is published when it is back (Mosquitto would acknowledge and drop a refused one)."""
    broker = mosquitto()
    ws = broker.config.workshop.id
    board, st = _started(broker, tmp_path, probe={"interval_s": 1, "start_c": 60, "max_s": 60})
    topic = "sebiao/%s/rack-red-1/cycle" % ws
    with broker.client("gateway") as gw:
        gw.subscribe(topic)
        board.probe.temp_c = 75.0
        assert _run(st, 10, lambda: st.probe.detector.running)
        _run(st, 2.2)
        board.probe.temp_c = 40.0
        assert _run(st, 5, lambda: st.seq == 1 and st.buffer.depth == 0)
        first = json.loads(gw.receive_until(lambda m: m.topic == topic)[-1].payload)
        assert first["seq"] == 0 and first["interval_s"] == 1 and first["boot"] == st.boot
        assert first["temps_dc"][0] == 750 and first["temps_dc"][-1] == 400 and len(first["temps_dc"]) >= 3
        assert abs(first["ts"] - first["start"] - (len(first["temps_dc"]) - 1) * 1000) < 500
        assert abs(first["ts"] - time.time() * 1000) < 10000

        broker.stop()  # the next cycle ends while the broker is away
        board.probe.temp_c = 92.0
        assert _run(st, 10, lambda: st.probe.detector.running)
        _run(st, 2.2)
        board.probe.temp_c = 20.0
        assert _run(st, 5, lambda: st.seq == 2)
        assert st.buffer.depth == 1 and st.health()["probe_errors"] == 0
    broker.start()
    with broker.client("gateway") as gw2:
        gw2.subscribe(topic)
        assert _run(st, 10, lambda: st.buffer.depth == 0)
        second = json.loads(gw2.receive_until(lambda m: m.topic == topic)[-1].payload)
        assert second["seq"] == 1 and second["temps_dc"][0] == 920 and second["temps_dc"][-1] == 200
