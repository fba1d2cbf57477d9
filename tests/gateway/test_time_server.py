"""The gateway as the workshop's time source: its SNTP answers, their stratum/leap policy, the clock's health.

The firmware's own SNTP client (``firmware/sebiao_station/sntp.py``, run under CPython) asks the real gateway
process over UDP; a malformed request gets no answer, and an address asking too often is held back.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
import yaml
from gateway_proc import TOKEN, online_workshop
from servers import example_config
from web_browser import browser, login

from edge_gateway.timeserver import sntp as server_sntp
from edge_gateway.timeserver.own_clock import read_own_clock
from edge_gateway.timeserver.server import _Buckets
from edge_gateway.timeserver.settings import parse_time_server
from edge_gateway.tooling.firmware_files import use_firmware
from sebiao_common.errors import ConfigError

use_firmware()
from sebiao_station import sntp as station_sntp  # noqa: E402 - on the path once use_firmware() ran

SYNCED = server_sntp.OwnClock(synchronised=True, source="adjtimex", offset_us=-120, max_error_us=16000)
UNSYNCED = server_sntp.OwnClock(synchronised=False, source="adjtimex")


@pytest.mark.parametrize(("own", "local_stratum", "leap", "stratum", "ref_id", "usable"), [
    (SYNCED, None, 0, 3, b"SBAO", True),
    (SYNCED, 10, 0, 3, b"SBAO", True),  # synchronised wins over the local fallback
    (UNSYNCED, None, 3, 16, b"INIT", False),  # the truth: "alarm", unsynchronised
    (UNSYNCED, 10, 0, 10, b"LOCL", True),  # chrony's "local stratum 10": one consistent clock offline
    (UNSYNCED, 15, 0, 15, b"LOCL", True),
])
def test_the_stratum_and_leap_say_what_the_gateway_knows(own, local_stratum, leap, stratum, ref_id, usable):
    stance = server_sntp.stance(own, local_stratum)
    assert (stance.leap, stance.stratum, stance.ref_id, stance.usable) == (leap, stratum, ref_id, usable)
    nonce = bytes(range(8))
    now_ns = 1764142800_250_000_000
    reply = server_sntp.answer(station_sntp.request(nonce), stance=stance, received_ns=now_ns, sent_ns=now_ns,
                               reference_ns=now_ns)
    assert len(reply) == 48 and reply[0] >> 6 == leap and reply[0] & 7 == 4 and reply[1] == stratum
    # the station's client sets its clock from exactly the usable answers
    assert station_sntp.parse(reply, nonce) == (1764142800250 if usable else 0)


@pytest.mark.parametrize(("packet", "answered"), [
    (b"\x23" + bytes(47), True),  # v4 client
    (b"\x1b" + bytes(47), True),  # v3 client
    (b"\x0b" + bytes(47), True),  # v1 client
    (b"\x23" + bytes(46), False),  # short
    (b"\x23" + bytes(48), False),  # longer: extension fields or a MAC, or an amplification attempt
    (b"\x24" + bytes(47), False),  # mode 4: a server's packet
    (b"\x16" + bytes(47), False),  # mode 6: control (ntpq)
    (b"\x17" + bytes(47), False),  # mode 7: private (monlist)
    (b"\x03" + bytes(47), False),  # version 0
    (b"", False),
])
def test_only_a_well_formed_client_request_is_answered(packet, answered):
    assert server_sntp.is_client_request(packet) is answered


def test_the_rate_limit_refills_and_forgets_idle_addresses():
    buckets = _Buckets(per_min=60)  # one a second, four at once
    assert [buckets.take("10.0.0.5", 0) for _ in range(5)] == [True] * 4 + [False]
    assert buckets.take("10.0.0.6", 0)  # another address has its own bucket
    assert not buckets.take("10.0.0.5", 500) and buckets.take("10.0.0.5", 1600)


def test_the_section_is_checked():
    assert parse_time_server(None).port == 123 and parse_time_server(None).local_stratum is None
    assert parse_time_server({"local_stratum": 10, "port": 1123}).local_stratum == 10
    with pytest.raises(ConfigError, match="local_stratum"):
        parse_time_server({"local_stratum": 16})
    with pytest.raises(ConfigError, match="listen"):
        parse_time_server({"listen": "gateway.local"})
    with pytest.raises(ConfigError, match="unknown|stratum_local"):
        parse_time_server({"stratum_local": 10})


def test_the_documented_section_loads():
    text = (Path(__file__).parents[2] / "docs" / "config.md").read_text("utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("time_server:")]
    settings = parse_time_server(yaml.safe_load(block)["time_server"], "docs/config.md")
    assert settings.local_stratum == 10 and settings.port == 123


def _ask(port: int, packet: bytes, timeout: float = 0.5) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", port))
        try:
            return s.recv(512)
        except TimeoutError:
            return None


@pytest.mark.slow
def test_a_station_sets_its_clock_from_the_real_gateway(mosquitto, tmp_path):
    """An offline workshop's gateway with ``local_stratum: 10`` (or a synchronised one) answers the firmware."""
    with online_workshop(mosquitto(), tmp_path, {"clock_synced": False},
                         time_server={"local_stratum": 10, "per_address_per_min": 600}) as (gateway, _stations):
        port = int(gateway.listening["sntp"].rsplit(":", 1)[1])
        before = int(time.time() * 1000)
        got = station_sntp.query(socket, "127.0.0.1", 1000, port)
        assert before - 50 <= got <= int(time.time() * 1000) + 50
        health = gateway.get("/healthz").json()["clock"]
        own = read_own_clock()
        assert health["synchronised"] is own.synchronised and health["source"] == "adjtimex"
        serving = health["time_server"]
        assert serving["listening"] == f"127.0.0.1:{port}" and serving["error"] is None
        assert serving["stratum"] == (3 if own.synchronised else 10) and serving["usable"] is True
        assert serving["answered"] == 1
        # every station of the example reported a clock never set: each is named
        assert health["stations_not_set"] == sorted(s.id for s in example_config().stations)
        assert gateway.metric("sebiao_sntp_requests_total", 'outcome="answered"') == 1
        assert gateway.metric("sebiao_clock_synchronised") == int(own.synchronised)
        with browser() as chrome:  # the console's clock line names them too, and marks each row
            page = login(chrome, gateway.base, TOKEN)
            page.wait_rendered()
            line = page.text_content("#clock-line")
            assert "时钟从未校准的读卡站" in line and ("已与互联网时间同步" if own.synchronised else "未与互联网时间同步") in line
            assert ("为读卡站授时（层级 3）" if own.synchronised else "按网关本机时钟为读卡站授时（层级 10") in line
            assert page.locator('#station-table td[data-clock="false"]').count() == len(example_config().stations)
            assert page.errors == []


@pytest.mark.slow
def test_bad_requests_get_nothing_and_an_eager_address_is_held_back(mosquitto, tmp_path):
    with online_workshop(mosquitto(), tmp_path, time_server={"per_address_per_min": 2}) as (gateway, _stations):
        port = int(gateway.listening["sntp"].rsplit(":", 1)[1])
        for bad in (b"\x23" + bytes(46), b"\x23" + bytes(200), b"\x17" + bytes(47), b"\x24" + bytes(47)):
            assert _ask(port, bad) is None
        first, second = _ask(port, station_sntp.request(b"A" * 8)), _ask(port, station_sntp.request(b"B" * 8))
        assert first is not None and second is not None and len(first) == 48 and first[24:32] == b"A" * 8
        assert _ask(port, station_sntp.request(b"C" * 8)) is None  # two a minute, both taken
        own = read_own_clock()
        if not own.synchronised:  # no local_stratum: the answer says "unsynchronised" and the station refuses it
            assert first[0] >> 6 == 3 and first[1] == 16 and station_sntp.parse(first, b"A" * 8) == 0
        serving = gateway.get("/healthz").json()["clock"]["time_server"]
        assert (serving["ignored"], serving["answered"], serving["rate_limited"]) == (4, 2, 1)
        assert gateway.get("/healthz").json()["clock"]["stations_not_set"] == []  # none reported clock_synced false



def test_a_station_config_asks_the_gateway_unless_it_names_a_server():
    from edge_gateway.tooling.station_config import validate

    given = {"workshop": "ws-demo", "station": "rack-red-1", "broker": {"host": "192.168.1.10"}}
    cfg = validate(given, "config.json")
    assert (cfg["ntp_host"], cfg["ntp_port"]) == ("", 123)  # "": the broker's host, the gateway
    old = validate({**given, "ntp_host": "pool.ntp.org"}, "config.json")  # a config written before still loads
    assert old["ntp_host"] == "pool.ntp.org"
    with pytest.raises(ConfigError, match="ntp_port"):
        validate({**given, "ntp_port": 0}, "config.json")
