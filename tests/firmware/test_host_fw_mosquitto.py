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
    user, password = broker.account("rack-red-1")
    ws = broker.config.workshop.id
    cfg = config.validate({
        "workshop": ws, "station": "rack-red-1",
        "broker": {"host": "127.0.0.1", "port": broker.port, "username": user, "password": password,
                   "keepalive_s": 10},
        "timing": {"backoff_min_ms": 200, "backoff_max_ms": 1000, "socket_timeout_ms": 1000,
                   "puback_timeout_ms": 1000},
    })
    board = HostBoard(str(tmp_path / "flash"))
    st = Station(board, cfg)
    st.start()
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
