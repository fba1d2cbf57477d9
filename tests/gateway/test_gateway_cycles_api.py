"""``GET /api/cycles`` on the real gateway process, bound beyond loopback (every request then needs the token):
scripted stations publish probe cycles over real Mosquitto; the API lists them as the gateway judged them,
newest first, filtered by station and by time, within a bounded limit, and names a bad query."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from stations_mqtt import close_all, online_stations

from edge_gateway.config import load_config

DISINFECT = Path(__file__).parents[2] / "examples" / "workshop-disinfect.yaml"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    config = load_config(DISINFECT)
    broker = mosquitto_module(config)
    tmp = tmp_path_factory.mktemp("cycles-api")
    gateway = GatewayProcess(write_config(tmp / "workshop.yaml", broker, base=DISINFECT), tmp / "data",
                             extra_args=("--http", "0.0.0.0:0")).start()
    stations = online_stations(broker, config)
    t = int(time.time() * 1000) - 3_600_000
    try:
        stations["dis-1"].event("KN-W-01", "placed", ts=t)
        stations["dis-1"].cycle(start=t + 60_000, temps_c=[121.0] * 11)  # ten minutes held: passes
        stations["dis-1"].cycle(start=t + 1_200_000, temps_c=[100.0] * 5)  # never hot enough
        stations["sink-white-1"].cycle(start=t + 2_400_000, temps_c=[86.0] * 7, interval_s=10)  # a hot wash
        gateway.wait_for(lambda: gateway.count("cycles") == 3, what="three cycles")
        yield gateway, t
    finally:
        close_all(stations)
        gateway.stop()


def _get(gateway: GatewayProcess, headers: dict | None = None, **params: object) -> httpx.Response:
    return gateway.get("/api/cycles", params=params, headers=AUTH if headers is None else headers)


def test_the_cycles_need_the_token(rig):
    gateway, _ = rig
    assert _get(gateway, headers={}).status_code == 401
    r = _get(gateway, headers={"Authorization": "Bearer wrong-token-0000000000"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert _get(gateway).status_code == 200


def test_the_cycles_newest_first_as_judged(rig):
    gateway, t = rig
    body = _get(gateway).json()
    assert [(c["station"], c["passed"]) for c in body] == [("sink-white-1", True), ("dis-1", False),
                                                             ("dis-1", True)]
    passed = body[-1]
    assert passed["method"] == "cabinet" and passed["start"] == t + 60_000 and passed["ts"] == t + 660_000
    assert (passed["max_temp_dc"], passed["hold_s"], passed["hold_required_s"]) == (1210, 600, 600)
    assert passed["tools"] == ["KN-W-01"] and body[1]["tools"] == ["KN-W-01"] and body[0]["tools"] == []
    assert set(passed) == {"station", "boot", "seq", "start", "ts", "interval_s", "received_at", "method",
                           "temp_c", "hold_required_s", "max_temp_dc", "hold_s", "hold_start", "hold_end",
                           "passed", "tools"}


def test_the_cycles_by_station_time_and_limit(rig):
    gateway, t = rig
    assert [c["ts"] for c in _get(gateway, station="dis-1").json()] == [t + 1_440_000, t + 660_000]
    assert [c["station"] for c in _get(gateway, station="sink-white-1").json()] == ["sink-white-1"]
    # the cycle's end: since included, until not
    assert [c["ts"] for c in _get(gateway, since=t + 660_000, until=t + 1_440_000).json()] == [t + 660_000]
    assert [c["ts"] for c in _get(gateway, since=t + 660_001).json()] == [t + 2_460_000, t + 1_440_000]
    assert len(_get(gateway, limit=1).json()) == 1
    assert _get(gateway, station="rack-red-1").json() == []  # a station of the config without cycles


@pytest.mark.parametrize("params, words", [
    ({"limit": 0}, "limit: must be between 1 and 5000"),
    ({"limit": 5001}, "limit: must be between 1 and 5000"),
    ({"limit": "ten"}, "limit: must be a whole number"),
    ({"since": -1}, "since: must be between 0 and"),
    ({"until": "yesterday"}, "until: must be a whole number"),
    ({"station": "dis-9"}, "station: 'dis-9' is not a station of workshop ws-disinfect"),
])
def test_a_bad_query_is_named(rig, params, words):
    gateway, _ = rig
    r = _get(gateway, **params)
    assert r.status_code == 400 and words in r.json()["error"], r.text
