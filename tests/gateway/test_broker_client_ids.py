"""A client id belongs to its account: no account can knock another off, take over its session or
lock it out, and persistent sessions (QoS 1 queues) keep working."""

from __future__ import annotations

import pytest
from gateway_proc import start_gateway
from servers import example_config, login
from stations_mqtt import ScriptedStation

from edge_gateway.model.protocol import alarm_topic, cmd_topic, event_topic, status_topic

WS = "ws-demo"
GATEWAY_ID = f"sebiao-gateway-{WS}"  # the client id the gateway connects with (gateway.py)


def station_id(station: str) -> str:
    return f"sebiao-{WS}-{station}"  # the firmware's default client id (firmware/sebiao_station/config.py)


@pytest.mark.slow
def test_a_station_account_cannot_take_the_gateways_client_id_on_mosquitto(mosquitto, tmp_path):
    """A stolen station password must not blind the workshop: with the gateway's (predictable) client id
    a station would knock the gateway off and take its session, and the events other stations publish
    meanwhile would be acknowledged to them and dropped (the squatter may not read them)."""
    broker = mosquitto()
    gateway = start_gateway(tmp_path, broker)
    green = ScriptedStation(broker, example_config(), "rack-green-1")
    squatter = broker.client("rack-red-1", client_id=GATEWAY_ID, clean_session=False)
    sent = [green.event("KN-G-01", "removed" if i % 2 == 0 else "placed") for i in range(20)]
    squatter.close()
    gateway.wait_for(lambda: gateway.scalar("SELECT count(*) FROM events WHERE station='rack-green-1'") == len(sent),
                     timeout=10, what="every event of rack-green-1 stored")
    assert "lost the broker" not in gateway.log()  # the gateway was never knocked off
    green.close()
    gateway.stop()

def test_a_station_cannot_knock_another_station_off_on_mosquitto(mosquitto):
    broker = mosquitto()
    white = ScriptedStation(broker, example_config(), "rack-white-1", client_id=station_id("rack-white-1"))
    with broker.client("rack-red-1", client_id=station_id("rack-white-1")):
        white.event("KN-W-01", "removed")  # still connected: the publish is acknowledged
    assert not white.client.disconnected.is_set()
    white.close()

def test_persistent_sessions_belong_to_the_account_whatever_client_id(mosquitto):
    """The session is the account's: a gateway or a station that comes back (with any client id and
    clean_session=False) finds the QoS 1 messages queued while it was away."""
    broker = mosquitto()
    with login(broker, "gateway", client_id="first-id", clean_session=False) as gw:
        gw.subscribe(event_topic(WS, "rack-red-1"))
    with login(broker, "rack-white-1", client_id="white-a", clean_session=False) as white:
        white.subscribe(cmd_topic(WS, "rack-white-1"))
    with login(broker, "rack-red-1") as red:
        red.publish(event_topic(WS, "rack-red-1"), b"queued for the gateway", qos=1)
    with login(broker, "gateway", client_id="another-id", clean_session=False) as gw:
        assert gw.session_present
        assert gw.expect(event_topic(WS, "rack-red-1")).payload == b"queued for the gateway"
        gw.publish(cmd_topic(WS, "rack-white-1"), b"queued for the station", qos=1)
    with login(broker, "rack-white-1", client_id="white-b", clean_session=False) as white:
        assert white.session_present
        assert white.expect(cmd_topic(WS, "rack-white-1")).payload == b"queued for the station"
    for name in ("gateway", "rack-white-1"):  # leave no persistent session to the next test
        login(broker, name).close()

def test_the_monitor_account_reads_everything_and_writes_nothing(mosquitto):
    """One connection per account: watching the traffic takes the read-only monitor account, never the
    gateway's (it would knock the gateway off)."""
    broker = mosquitto()
    with login(broker, "gateway", client_id=GATEWAY_ID, clean_session=False) as gw, \
            login(broker, "monitor") as monitor, \
            login(broker, "rack-red-1") as red:
        assert [r.value for r in monitor.subscribe(f"sebiao/{WS}/#")] == [1]
        monitor.publish(event_topic(WS, "rack-red-1"), b"forged by the monitor", qos=1)  # acknowledged, dropped
        red.publish(status_topic(WS, "rack-red-1"), b'{"v":1,"online":true}', qos=1)
        gw.publish(alarm_topic(WS), b"marker", qos=1)
        got = [(m.topic, m.payload) for m in monitor.receive_until(lambda m: m.payload == b"marker")
               if not m.retain]
        assert got == [(status_topic(WS, "rack-red-1"), b'{"v":1,"online":true}'), (alarm_topic(WS), b"marker")]
        assert not gw.disconnected.is_set()
    login(broker, "gateway").close()

def test_a_second_connection_of_an_account_ends_the_first_and_takes_its_session(mosquitto):
    """As a station or the gateway reconnecting before the broker noticed the old connection was gone."""
    broker = mosquitto()
    first = login(broker, "gateway", client_id="old-connection", clean_session=False)
    first.subscribe(event_topic(WS, "rack-red-1"))
    with login(broker, "gateway", client_id="new-connection", clean_session=False) as second:
        assert second.session_present
        assert first.disconnected.wait(5)
        with login(broker, "rack-red-1") as red:
            red.publish(event_topic(WS, "rack-red-1"), b"to the new connection", qos=1)
        assert second.expect(event_topic(WS, "rack-red-1")).payload == b"to the new connection"
    first.close()
    login(broker, "gateway").close()
