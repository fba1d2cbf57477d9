"""The owner's day on the real gateway process with scripted stations over real Mosquitto, and the console in
headless Chromium: a day's work, then closing time (the gateway restarted with a closing time already past,
as after a late start), the roll call's alarm, ``GET /api/days/{day}``, training records through the API, and
the console showing the summary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from gateway_proc import TOKEN, GatewayProcess, write_config
from servers import example_config
from stations_mqtt import close_all, online_stations
from web_browser import browser, login

pytestmark = pytest.mark.slow


def _zone_at_midday() -> tuple[str, datetime]:
    """A fixed-offset zone where it is now between 06:00 and 18:00 (so the opening check is due at start and a
    closing time just past is the same local day), and the local time now."""
    now = datetime.now(timezone.utc)
    for offset in range(-12, 13):
        local = now + timedelta(hours=offset)
        if 6 <= local.hour < 18:
            name = "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX sign
            return name, local
    raise AssertionError("unreachable")


def test_roll_call_at_closing_on_the_real_gateway_and_the_console_shows_it(mosquitto, tmp_path):
    broker = mosquitto()
    zone, local = _zone_at_midday()
    day = local.date().isoformat()
    config = write_config(tmp_path / "workshop.yaml", broker, day={"opens": "00:00", "closes": "23:59",
                                                                   "timezone": zone})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    stations = online_stations(broker, example_config())
    try:
        gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM day_checks WHERE kind = 'opening'"),
                         what="the opening check")
        for tool in example_config().tools:  # the morning: every tool seen on its home rack
            stations[tool.home].event(tool.id, "placed")
        stations["rack-red-1"].event("KN-R-01", "removed")  # used, and put back without a wash
        stations["rack-red-1"].event("KN-R-01", "placed")
        stations["rack-green-1"].event("KN-G-01", "removed")  # used and not brought back
        gateway.wait_for(lambda: gateway.rows("SELECT location FROM tools WHERE id = 'KN-G-01'") == [("out",)],
                         what="the events applied")
        assert gateway.get(f"/api/days/{day}").json()["roll_call"] is None
        assert gateway.post("/api/training", {"who": "张三", "topic": "色标分区与清洗", "by": "李店长"}).status_code == 201
        assert gateway.post("/api/training", {"who": "", "topic": "x", "by": "y"}).status_code == 422
        assert gateway.post("/api/training", {"who": "x", "topic": "x", "by": "y"}, token=None).status_code == 401
        gateway.stop()
        closes = (local - timedelta(minutes=1)).strftime("%H:%M")  # closing time has just passed
        write_config(config, broker, day={"opens": "00:00", "closes": closes, "timezone": zone})
        gateway.start()
        gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM day_checks WHERE kind = 'roll_call'"),
                         what="the roll call")
        summary = gateway.get(f"/api/days/{day}").json()
        missing = {m["tool"]: (m["not_home"], m["unwashed"]) for m in summary["roll_call"]["missing"]}
        assert missing == {"KN-R-01": (False, True), "KN-G-01": (True, True)}
        assert summary["roll_call"]["counts"]["uses"] == 2
        assert summary["opening"]["stations"] and gateway.get("/api/days").json() == [day]
        alarms = {a["tool"]: a for a in gateway.get("/api/alarms").json() if a["type"] == "roll_call"}
        assert set(alarms) == {"KN-R-01", "KN-G-01"}
        assert "未见清洗" in alarms["KN-R-01"]["text"]["zh"]
        assert "蔬菜刀具架" in alarms["KN-G-01"]["text"]["zh"]  # its home rack, by name
        assert [r["who"] for r in gateway.get("/api/training").json()] == ["张三"]
        assert gateway.get("/api/days/2026-13-40").status_code == 400
        with browser() as chrome:
            page = login(chrome, gateway.base, TOKEN)
            page.wait_rendered()
            page.wait_for_selector('tr[data-missing="KN-G-01"]')
            assert "收工点检" in page.text_content("#roll-call-note") and "2 件器具未通过" in page.text_content(
                "#roll-call-note")
            assert "未归位" in page.text_content('tr[data-missing="KN-G-01"]')
            assert "开工检查" in page.text_content("#opening-note")
            assert "色标分区与清洗" in page.text_content('tr[data-training="张三"]')
            assert page.errors == []
            page.context.close()
    finally:
        close_all(stations)
        gateway.stop()
