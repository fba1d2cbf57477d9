"""A cycle, a disinfect station and an undisinfected return travel from scripted stations over real Mosquitto
through the real gateway process to the real cloud process (SQLite): stored once, nothing refused, and the cycle
verified against the evidence chain and the gateway's signature."""

from __future__ import annotations

import contextlib
import io
import json
import time
from functools import partial
from pathlib import Path

import pytest
from cloud_server import CloudServer
from gateway_proc import GatewayProcess, write_config
from stations_mqtt import close_all, online_stations
from test_cloud_push_e2e import _gateway_token, _rows

from edge_gateway.config import load_config
from sebiao.cli import main

pytestmark = pytest.mark.slow
DISINFECT = Path(__file__).parents[2] / "examples" / "workshop-disinfect.yaml"


def test_cycles_and_their_alarms_reach_the_cloud(mosquitto, tmp_path):
    config = load_config(DISINFECT)
    cloud = CloudServer(tmp_path)
    query = partial(_rows, tmp_path / "cloud.db")
    token = _gateway_token(cloud, config.workshop.id, tmp_path / "data")
    cloud.start()
    broker = mosquitto(config)
    path = write_config(tmp_path / "w.yaml", broker, base=DISINFECT, cloud={
        "url": cloud.url, "token": token, "batch_items": 50, "linger_seconds": 1, "timeout_seconds": 2,
        "retry_max_seconds": 1})
    gateway = GatewayProcess(path, tmp_path / "data").start()
    st = online_stations(broker, config)
    try:
        t = int(time.time() * 1000) - 900_000
        st["rack-white-1"].event("KN-W-01", "removed", ts=t)
        st["dis-1"].event("KN-W-01", "placed", ts=t + 60_000)
        st["dis-1"].cycle(start=t + 120_000, temps_c=[100.0] * 11)  # a cabinet at 100 °C: fails
        st["dis-1"].event("KN-W-01", "removed", ts=t + 800_000)
        st["rack-white-1"].event("KN-W-01", "placed", ts=t + 810_000)
        gateway.wait_for(lambda: query("SELECT COUNT(*) FROM cycles")[0][0] == 1
                         and query("SELECT COUNT(*) FROM alarms WHERE type = 'undisinfected_return'")[0][0] == 1,
                         timeout=30, what="the cycle and the alarm in the cloud")
        gateway.wait_for(lambda: gateway.count("cloud_outbox") == 0, timeout=30, what="an empty outbox")
        (row,) = query("SELECT station, method, passed, hold_s, max_temp_dc, temp_c, hold_required_s, tools "
                       "FROM cycles")
        kinds = dict(query("SELECT station, kind FROM stations"))
        dead = gateway.count("cloud_outbox_dead")
    finally:
        close_all(st)
        gateway.stop()
        cloud.stop()
    assert row[:7] == ("dis-1", "cabinet", 0, 0, 1000, 120.0, 600) and json.loads(row[7]) == ["KN-W-01"]
    assert kinds["dis-1"] == "disinfect" and kinds["sink-white-1"] == "sink"
    assert dead == 0  # nothing the cloud refused
    # the cycle is in the evidence chain, and what the gateway signed: sebiao cloud verify says so
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["cloud", "verify", "--config", str(cloud.config_path)])
    assert code == 0, out.getvalue()
    assert "the disinfection cycles match the chain: 1 rows" in out.getvalue(), out.getvalue()
    assert "entries hold what was signed" in out.getvalue(), out.getvalue()
