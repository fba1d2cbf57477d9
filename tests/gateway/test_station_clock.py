"""Station clocks against the real gateway over real Mosquitto: a clock ahead or gone back never dates an
event in the future or in the past, every event is kept, and the ``station_clock`` alarm is raised and cleared.

The ``ts`` each scripted station sends is its clock; the gateway's receive time is real wall time.
"""

from __future__ import annotations

import time

import pytest
from gateway_proc import online_workshop

MINUTE = 60_000
YEAR = 365 * 24 * 3600 * 1000

pytestmark = pytest.mark.slow


def _now() -> int:
    return int(time.time() * 1000)


def _tool(gateway, tool_id: str) -> dict:
    return next(t for t in gateway.get("/api/tools").json() if t["id"] == tool_id)


def _clock_alarms(gateway, state: str = "all") -> list[dict]:
    return [a for a in gateway.get(f"/api/alarms?state={state}").json() if a["type"] == "station_clock"]


def _event(gateway, station: str, seq: int) -> tuple:
    return gateway.rows("SELECT ts, station_ts, received_at, note FROM events WHERE station = ? AND seq = ?",
                        (station, seq))[0]


def test_a_clock_far_ahead_loses_no_event_and_raises_the_alarm_until_it_is_right(mosquitto, tmp_path):
    with online_workshop(mosquitto(), tmp_path) as (gateway, stations):
        red = stations["rack-red-1"]
        ahead = red.event("KN-R-01", "removed", ts=_now() + 10 * MINUTE)  # more than the old 5-minute limit
        gateway.wait_for(lambda: _clock_alarms(gateway, "active"), what="the station_clock alarm")
        ts, station_ts, received_at, note = _event(gateway, "rack-red-1", ahead.seq)
        assert station_ts == ahead.ts and ts == received_at <= _now()  # counted when received, its ts kept
        assert "按网关接收时间记录" in note and "counted at the gateway's receive time" in note
        assert _tool(gateway, "KN-R-01")["state"] == "out" and _tool(gateway, "KN-R-01")["since"] == received_at
        (alarm,) = _clock_alarms(gateway, "active")
        assert (alarm["station"], alarm["severity"]) == ("rack-red-1", "major")
        assert "快了 10.0 分钟" in alarm["text"]["zh"] and "10.0 min ahead" in alarm["text"]["en"]
        assert gateway.metric("sebiao_events_rejected_total", 'reason="future_ts"') == 0

        red.event("KN-R-01", "placed", ts=_now() + 9 * MINUTE)  # still ahead: the same alarm, not a repeat
        red.event("CL-R-01", "removed")  # its clock set right
        gateway.wait_for(lambda: not _clock_alarms(gateway, "active"), what="the alarm cleared")
        (alarm,) = _clock_alarms(gateway)
        assert alarm["count"] == 1 and alarm["state"] == "cleared"
        assert gateway.count("events") == 3 and gateway.count("dead_letters") == 0


def test_a_clock_slightly_ahead_no_longer_holds_a_tool_back(mosquitto, tmp_path):
    """Ahead by less than the old tolerance: the taking was dated in the future, so the wash that followed
    it looked older than the taking and never moved the knife to the sink."""
    with online_workshop(mosquitto(), tmp_path) as (gateway, stations):
        stations["rack-red-1"].event("KN-R-01", "removed", ts=_now() + 3 * MINUTE)
        gateway.wait_for(lambda: _tool(gateway, "KN-R-01")["state"] == "out", what="KN-R-01 taken")
        assert _tool(gateway, "KN-R-01")["since"] <= _now()
        stations["sink-red-1"].event("KN-R-01", "placed")
        gateway.wait_for(lambda: _tool(gateway, "KN-R-01")["state"] == "at_sink", what="KN-R-01 at the sink")
        assert gateway.scalar("SELECT late FROM events WHERE station = 'sink-red-1'") == 0
        assert [a["station"] for a in _clock_alarms(gateway, "active")] == ["rack-red-1"]


def test_a_clock_that_jumped_back_years_is_not_applied_silently(mosquitto, tmp_path):
    with online_workshop(mosquitto(), tmp_path) as (gateway, stations):
        green = stations["rack-green-1"]
        green.event("KN-G-01", "removed")
        gateway.wait_for(lambda: _tool(gateway, "KN-G-01")["state"] == "out", what="KN-G-01 taken")
        back = green.event("KN-G-01", "placed", ts=_now() - 3 * YEAR)  # NTP answered with a date years ago
        gateway.wait_for(lambda: _tool(gateway, "KN-G-01")["state"] == "on_rack", what="KN-G-01 back on its rack")
        ts, station_ts, received_at, note = _event(gateway, "rack-green-1", back.seq)
        assert station_ts == back.ts and ts == received_at
        assert "站点时钟倒退" in note
        (alarm,) = _clock_alarms(gateway, "active")
        assert alarm["station"] == "rack-green-1" and "倒退" in alarm["text"]["zh"]
        assert "went" in alarm["text"]["en"] and "back" in alarm["text"]["en"]
        # a buffered event sent late, after the station's earlier ones, is evidence as it is: no alarm
        stations["rack-white-1"].event("KN-W-01", "removed", ts=_now() - 30 * MINUTE)
        gateway.wait_for(lambda: _tool(gateway, "KN-W-01")["state"] == "out", what="KN-W-01 taken")
        assert [a["station"] for a in _clock_alarms(gateway, "active")] == ["rack-green-1"]


# -- the rule on its own, in-process (tests/support/workshop_sim.py) ---------------------------------------


def test_an_unset_clock_and_a_gateway_clock_set_back_judge_no_station(tmp_path):
    from workshop_sim import T0, Sim

    sim = Sim(tmp_path).all_online()
    sim.at(100).event("rack-red-1", "KN-R-01", "removed", ts=0)  # the station's clock is not set yet
    sim.at(110).event("rack-red-1", "CL-R-01", "removed", ts=T0 + 50_000)  # buffered before: not its mark
    sim.at(200).event("rack-red-2", "CB-R-01", "removed")
    sim.at(20).event("rack-red-2", "CB-R-01", "placed")  # the gateway's clock was set back 3 minutes
    assert "station_clock" not in sim.types()
    sim.at(300).event("rack-red-2", "CB-R-01", "removed", ts=T0 + 100_000)  # back 100 s: a reordering
    assert "station_clock" not in sim.types()
    sim.at(400).event("rack-red-2", "CB-R-01", "placed", ts=T0 - 600_000)  # back 10 min: its clock was set back
    assert ("station_clock", "rack-red-2", "major") in sim.raised
