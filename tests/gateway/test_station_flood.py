"""One station account flooding real Mosquitto cannot make it drop the other stations' events.

Mosquitto acknowledges every QoS 1 message to the station that sent it and queues it for the gateway's one
session, up to ``max_queued_messages`` for all stations together; past that it drops silently. A flood
faster than the gateway can commit filled that queue, and the events the other stations sent meanwhile
were acknowledged to them and lost. Now each station has its rate (``intake:`` in the config,
``edge_gateway/intake/rates.py``): the excess is acknowledged and dropped at the gateway's door, as fast
as it comes, counted, and the ``station_flood`` alarm is raised; the queue never fills.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from gateway_proc import online_workshop
from mqtt_flood import Flood

from edge_gateway.model.protocol import event_topic

pytestmark = pytest.mark.slow
WS = "ws-demo"
FLOOD = 100_000  # events of rack-red-1, sent as fast as the broker takes them
STEADY = {"rack-white-1": "KN-W-01", "rack-green-1": "KN-G-01", "rack-yellow-1": "CT-Y-01"}


def _flood_events(count: int) -> list[bytes]:
    start = int(time.time() * 1000) - 60_000
    return [json.dumps({"v": 1, "boot": "f100d000", "seq": i, "ts": start + i // 100, "tag": "04A224E2C65E80",
                        "action": "placed" if i % 2 else "removed"}, separators=(",", ":")).encode()
            for i in range(count)]


def test_a_flooding_station_loses_no_event_of_the_others(mosquitto, tmp_path):
    broker = mosquitto()
    payloads = _flood_events(FLOOD)
    with online_workshop(broker, tmp_path) as (gateway, stations):
        sent: dict[str, int] = {}
        flooding = threading.Event()

        def steady(station_id: str) -> None:  # a working station: a few events a second, each acknowledged
            n = 0
            while flooding.is_set() or n < 10:
                stations[station_id].event(STEADY[station_id], "removed" if n % 2 == 0 else "placed")
                n += 1
                time.sleep(0.05)
            sent[station_id] = n

        flooding.set()
        workers = [threading.Thread(target=steady, args=(s,)) for s in STEADY]
        for worker in workers:
            worker.start()
        with Flood(broker.host, broker.port, *broker.account("rack-red-1")) as flood:
            flood.send(event_topic(WS, "rack-red-1"), payloads)
            assert flood.wait_acked(FLOOD, timeout=120) == FLOOD  # the broker took every one
        flooding.clear()
        for worker in workers:
            worker.join(60)

        def stored(station_id: str) -> int:
            return gateway.scalar("SELECT count(*) FROM events WHERE station = ?", (station_id,))

        gateway.wait_for(lambda: all(stored(s) >= n for s, n in sent.items()), timeout=120,
                         what=f"every event of the working stations {sent}: "
                              f"{ {s: stored(s) for s in sent} } {gateway.get('/healthz').json()}")
        assert {s: stored(s) for s in sent} == sent
        health = gateway.get("/healthz").json()
        limited = health["rate_limited"]["rack-red-1"]
        assert limited >= 1 and stored("rack-red-1") + limited <= FLOOD
        assert stored("rack-red-1") < 2 * 1000  # its burst and its rate, not the flood
        assert gateway.metric("sebiao_station_rate_limited_total", 'station="rack-red-1"') == limited
        alarms = [a for a in gateway.get("/api/alarms").json() if a["type"] == "station_flood"]
        assert [(a["station"], a["severity"]) for a in alarms] == [("rack-red-1", "major")]
        assert gateway.scalar("SELECT count(*) FROM dead_letters WHERE reason = 'rate_limited'") == 1
        print(f"sent by the working stations {sent}; flood {FLOOD}: stored {stored('rack-red-1')}, "
              f"dropped over the rate {limited}")


def test_junk_is_kept_within_its_bound_and_what_goes_is_counted(mosquitto, tmp_path):
    """Rejected messages are dead letters, the newest kept: at most ``max_rows`` of them and ``max_mb``."""
    broker = mosquitto()
    bound = {"dead_letters": {"max_rows": 100, "max_mb": 1}}
    with online_workshop(broker, tmp_path, intake=bound) as (gateway, stations):
        junk = stations["rack-red-1"].client.client  # a station's own account, on its own topic
        for i in range(300):
            junk.publish(event_topic(WS, "rack-red-1"), b"not json %d" % i, qos=1)
        gateway.wait_for(lambda: gateway.metric("sebiao_events_rejected_total", 'reason="bad_json"') == 300,
                         what="300 rejected")
        kept = gateway.get("/healthz").json()["store"]["dead_letters"]
        assert kept["rows"] == gateway.count("dead_letters") <= 100
        assert kept["dropped"] == 300 - kept["rows"] == gateway.metric("sebiao_dead_letters_dropped")
        assert bytes(gateway.rows("SELECT payload FROM dead_letters ORDER BY id DESC LIMIT 1")[0][0]) == b"not json 299"
        big = stations["rack-green-1"].client.client
        for i in range(600):  # 2.4 MB of junk against a 1 MB bound
            big.publish(event_topic(WS, "rack-green-1"), b"%04d" % i + b"x" * 3996, qos=1)
        gateway.wait_for(lambda: gateway.metric("sebiao_events_rejected_total", 'reason="bad_json"') == 900,
                         what="900 rejected")
        kept = gateway.get("/healthz").json()["store"]["dead_letters"]
        size = gateway.scalar("SELECT SUM(length(CAST(topic AS BLOB)) + length(payload) + length(CAST(detail AS BLOB)))"
                              " FROM dead_letters")
        assert kept["bytes"] == size <= 1024 * 1024
        assert kept["rows"] + kept["dropped"] == 900
        assert gateway.metric("sebiao_dead_letter_bytes") == size


def test_a_flooding_station_is_shut_out_for_its_pause_then_taken_again(mosquitto, tmp_path):
    """Over its rate, a station's topics are shut out at the broker for ``flood_pause_seconds`` (what it sends
    meanwhile never reaches the gateway); after the pause the gateway takes them again, and once it has kept
    to its rate that long the ``station_flood`` alarm clears."""
    broker = mosquitto()
    pause = 3
    intake = {"station_rate": 20, "station_burst": 20, "flood_pause_seconds": pause}
    with online_workshop(broker, tmp_path, intake=intake) as (gateway, stations):
        flooded = stations["rack-red-1"]
        for n in range(60):  # three times its burst at once
            flooded.event("KN-R-01", "removed" if n % 2 == 0 else "placed")

        def flood() -> list[dict]:
            return [a for a in gateway.get("/api/alarms?state=all").json() if a["type"] == "station_flood"]

        gateway.wait_for(lambda: [a["state"] for a in flood()] == ["active"], what="station_flood raised")
        shut_at = time.monotonic()
        before = gateway.scalar("SELECT count(*) FROM events WHERE station = 'rack-red-1'")
        assert before <= 21  # its burst (and what the rate refilled meanwhile)
        flooded.event("KN-R-01", "removed")  # shut out: the broker throws it away
        stations["rack-white-1"].event("KN-W-01", "removed")  # another station goes through meanwhile
        gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM events WHERE station = 'rack-white-1'") == 1,
                         what="the other station's event")
        assert time.monotonic() - shut_at < pause
        assert gateway.scalar("SELECT count(*) FROM events WHERE station = 'rack-red-1'") == before
        time.sleep(max(0.0, shut_at + pause + 1.5 - time.monotonic()))  # the pause, and a quiet spell as long
        flooded.event("KN-R-01", "placed")
        gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM events WHERE station = 'rack-red-1'")
                         == before + 1, what="the station's event taken again after the pause")
        gateway.wait_for(lambda: [a["state"] for a in flood()] == ["cleared"], timeout=2 * pause + 10,
                         what=f"station_flood cleared: {flood()}")
