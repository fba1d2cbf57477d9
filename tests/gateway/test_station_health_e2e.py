"""Station health end to end: scripted stations publish their statuses over real Mosquitto to the real gateway,
which raises and clears ``station_resets`` and ``reader_fault``, keeps the boots by cause, and shows every
station's figures on the owner's console (headless Chromium, a phone's width, both languages)."""

from __future__ import annotations

import pytest
from gateway_proc import TOKEN, GatewayProcess, online_workshop, write_config
from station_proc import StationProcess
from stations_mqtt import close_all, online_stations
from web_browser import PHONE, browser, contrast_failures, login, screenshot

from edge_gateway.config import load_config
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs

pytestmark = pytest.mark.slow

PC = (1280, 900)
HEALTH = {"fw": "0.2.0", "uptime_s": 93_780, "heap_free": 81_234, "rssi": -67, "reader_ok": True,
          "reader": {"type": "mfrc522", "ok": True, "rf_errors": 2, "chip_faults": 1}, "buffer_depth": 0,
          "buffer_dropped": 0, "clock_synced": True}


def _active(gateway, alarm_type: str) -> list[dict]:
    return [a for a in gateway.get("/api/alarms?state=active").json() if a["type"] == alarm_type]


def _all(gateway, alarm_type: str) -> list[dict]:
    return [a for a in gateway.get("/api/alarms?state=all").json() if a["type"] == alarm_type]


def _boot(station, boot: str, cause: str, **more) -> None:
    station.status(True, **{**HEALTH, "boot": boot, "reset_cause": cause, **more})


def test_a_station_that_keeps_resetting_and_a_failing_reader_raise_their_alarms(mosquitto, tmp_path):
    with online_workshop(mosquitto(), tmp_path) as (gateway, stations):
        red = stations["rack-red-1"]
        _boot(red, "0000000a", "power_on")
        _boot(red, "0000000a", "power_on")  # a heartbeat of the same boot
        _boot(red, "0000000b", "watchdog")
        gateway.wait_for(lambda: len(gateway.rows("SELECT * FROM station_boots")) == 2, what="two boots kept")
        assert _active(gateway, "station_resets") == []
        _boot(red, "0000000c", "watchdog")
        (alarm,) = gateway.wait_for(lambda: _active(gateway, "station_resets"), what="the station_resets alarm")
        assert (alarm["station"], alarm["severity"]) == ("rack-red-1", "major")
        assert "重启了 3 次（看门狗 2 次、上电 1 次）" in alarm["text"]["zh"]
        assert "reset 3 times within 1 h (watchdog 2, power on 1)" in alarm["text"]["en"]

        sink = stations["sink-red-1"]
        sink.status(True, **{**HEALTH, "boot": "000000ee", "reset_cause": "power_on", "reader_ok": False})
        (fault,) = gateway.wait_for(lambda: _active(gateway, "reader_fault"), what="the reader_fault alarm")
        assert fault["station"] == "sink-red-1" and fault["text"]["zh"].startswith("读卡器故障：")
        sink.status(True, **{**HEALTH, "boot": "000000ee", "reset_cause": "power_on", "reader_ok": True})
        gateway.wait_for(lambda: not _active(gateway, "reader_fault"), what="reader_fault cleared")
        assert [a["state"] for a in _all(gateway, "reader_fault")] == ["cleared"]


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_the_console_shows_every_stations_health_on_a_phone_and_a_pc(mosquitto, tmp_path, size):
    with online_workshop(mosquitto(), tmp_path) as (gateway, stations), browser() as chrome:
        red = stations["rack-red-1"]
        for boot, cause in (("0000000a", "power_on"), ("0000000b", "watchdog"), ("0000000c", "watchdog")):
            _boot(red, boot, cause, settings="s-7f3a", update={"version": "0.2.0", "state": "confirmed"})
        gateway.wait_for(lambda: _active(gateway, "station_resets"), what="the station_resets alarm")
        white = stations["rack-white-1"]
        _boot(white, "000000f1", "power_on", reader_ok=False, settings="s-7f3a",
              settings_error={"version": "d05516785b28", "error": "timing.poll_ms: 10 is outside 20..5000"},
              update={"version": "0.3.0", "state": "rolled_back", "error": "hash sebiao_station/app.py"})
        gateway.wait_for(lambda: _active(gateway, "reader_fault"), what="the reader_fault alarm")
        stations["sink-red-1"].status(True, **HEALTH, settings="")

        page = login(chrome, gateway.base, TOKEN, PHONE if size == "phone" else PC)
        page.wait_rendered()
        page.wait_for_function("""() => {
            const r = document.querySelector('tr[data-station="rack-white-1"] td[data-update]');
            return r && r.dataset.update === 'rolled_back'; }""")
        row = page.locator('tr[data-station="rack-red-1"]')
        text = row.inner_text()
        for words in ("0.2.0", "-67 dBm", "79 KB", "1 天 2 小时", "s-7f3a", "✓", "已确认", "▲", "反复重启",
                      "3 次（看门狗 2 次、上电 1 次）", "已校时"):
            assert words in text, (words, text)
        assert row.locator("td[data-resets]").get_attribute("data-resets") == "3"
        assert row.locator("td:nth-child(6)").inner_text().endswith("3")  # reader errors: rf_errors + chip_faults
        white_row = page.locator('tr[data-station="rack-white-1"]')
        text = white_row.inner_text()
        for words in ("✗", "读卡器故障", "0.3.0", "已回退", "hash sebiao_station/app.py",
                      "未采用：d05516785b28: timing.poll_ms: 10 is outside 20..5000"):
            assert words in text, (words, text)
        assert white_row.locator("td[data-reader]").get_attribute("data-reader") == "fault"
        never = page.locator('tr[data-station="sink-white-1"]').inner_text()
        assert "未更新过" in never and "未上报" in never  # no update attempted, no settings version reported
        assert "出厂参数" in page.locator('tr[data-station="sink-red-1"]').inner_text()  # settings "": as provisioned
        if size == "phone":  # each row a card, every cell labelled
            label = row.locator("td[data-resets]").evaluate("td => getComputedStyle(td, '::before').content")
            assert "24 小时内重启" in label
        else:  # thirteen columns: a figure keeps on one line (the table scrolls in its box instead)
            for column in (3, 4, 5, 8, 10):
                lines = row.locator(f"td:nth-child({column})").evaluate(
                    "td => { const r = document.createRange(); r.selectNodeContents(td); "
                    "return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; }")
                assert lines == 1, (column, row.locator(f"td:nth-child({column})").inner_text())
        width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width <= client, f"the page is {width} px wide in a {client} px window"
        row.scroll_into_view_if_needed()
        assert screenshot(page, f"console-station-health-{size}", full_page=False).stat().st_size > 10_000
        measured, failures = contrast_failures(page)  # the new marks and words too: WCAG AA
        assert measured > 100 and failures == [], failures
        cards = page.eval_on_selector_all("article.alarm", "els => els.map(e => e.innerText)")
        assert any("读卡站反复重启" in c for c in cards) and any("读卡器故障" in c for c in cards)

        page.click("#lang")
        text = row.inner_text()
        for words in ("1 d 2 h", "keeps resetting", "3 (watchdog 2, power on 1)", "confirmed"):
            assert words in text, (words, text)
        text = white_row.inner_text()
        assert "reader fault" in text and "rolled back" in text and "not taken: d05516785b28: timing.poll_ms" in text
        assert page.errors == []
        page.context.close()


def test_the_real_firmware_restarted_three_times_raises_station_resets(mosquitto, tmp_path):
    """The station's own code (``sebiao station``, the firmware on the host) started three times on one flash: each
    start sends a new boot id with its reset cause and a healthy reader, and the third raises the alarm."""
    broker = mosquitto()
    config_path = write_config(tmp_path / "workshop.yaml", broker)
    write_station_configs(load_config(config_path), broker.credentials, tmp_path / "stations",
                          ProvisionOptions(broker_url=broker.url))
    with GatewayProcess(config_path, tmp_path / "data") as gateway:
        for start in range(3):
            station = StationProcess(tmp_path / "stations" / "rack-red-1" / "config.json", tmp_path / "flash")
            try:
                station.expect("connected to the broker")
                gateway.wait_for(lambda: len(gateway.rows("SELECT boot FROM station_boots")) == start + 1,
                                 what=f"boot {start + 1} seen")
                assert station.finish() == (0, "")
            finally:
                station.kill()
        (alarm,) = gateway.wait_for(lambda: _active(gateway, "station_resets"), what="the station_resets alarm")
        assert alarm["station"] == "rack-red-1" and "重启了 3 次" in alarm["text"]["zh"]
        causes = {cause for (cause,) in gateway.rows("SELECT reset_cause FROM station_boots")}
        assert causes and "unknown" not in causes  # the firmware names its reset cause
        assert _active(gateway, "reader_fault") == []  # its simulated reader answers from the first status on


def test_both_alarms_reach_the_cloud(mosquitto, tmp_path):
    """The real cloud takes the new types from the real gateway: raised, and reader_fault cleared."""
    from functools import partial

    from cloud_server import CloudServer
    from test_cloud_push_e2e import _gateway_token, _rows

    cloud = CloudServer(tmp_path)
    query = partial(_rows, tmp_path / "cloud.db")
    token = _gateway_token(cloud, "ws-demo", tmp_path / "data")
    cloud.start()
    broker = mosquitto()
    config = write_config(tmp_path / "w.yaml", broker, cloud={"url": cloud.url, "token": token, "linger_seconds": 0})
    try:
        with GatewayProcess(config, tmp_path / "data") as gateway:
            stations = online_stations(broker, load_config(config))
            try:
                for boot in ("0000000a", "0000000b", "0000000c"):
                    _boot(stations["rack-red-1"], boot, "watchdog", reader_ok=boot != "0000000c")
                _boot(stations["rack-red-1"], "0000000c", "watchdog")
                gateway.wait_for(lambda: sorted(query("SELECT type, state FROM alarms")) == [
                    ("reader_fault", "cleared"), ("station_resets", "active")], timeout=30, what="both in the cloud")
                assert gateway.count("cloud_outbox_dead") == 0
            finally:
                close_all(stations)
    finally:
        cloud.stop()
