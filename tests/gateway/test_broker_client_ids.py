"""A client id belongs to its account, on both brokers: no account can knock another off, take over
its session or lock it out, and persistent sessions (QoS 1 queues) keep working."""

from __future__ import annotations

import pytest
from gateway_proc import start_gateway
from servers import ConnectRefused, example_config, login
from stations_mqtt import ScriptedStation

from edge_gateway.broker.embedded import EmbeddedBroker
from edge_gateway.model.protocol import alarm_topic, cmd_topic, event_topic, status_topic

WS = "ws-demo"
GATEWAY_ID = f"sebiao-gateway-{WS}"  # the client id the gateway connects with (gateway.py)


def station_id(station: str) -> str:
    return f"sebiao-{WS}-{station}"  # the firmware's default client id (firmware/sebiao_station/config.py)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    broker = EmbeddedBroker(example_config(), tmp_path_factory.mktemp("embedded") / "broker", port=0).start()
    yield broker
    broker.stop()


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


@pytest.mark.parametrize("broker_kind", ["mosquitto", "embedded"])
def test_persistent_sessions_belong_to_the_account_whatever_client_id(broker_kind, mosquitto, embedded):
    """The session is the account's: a gateway or a station that comes back (with any client id and
    clean_session=False) finds the QoS 1 messages queued while it was away."""
    broker = mosquitto() if broker_kind == "mosquitto" else embedded
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


@pytest.mark.parametrize("victim, victim_id", [("gateway", GATEWAY_ID),
                                               ("rack-white-1", station_id("rack-white-1"))])
def test_a_squatters_persistent_session_cannot_lock_an_account_out_of_the_embedded_broker(
        embedded, victim, victim_id):
    """A station that connected first with another account's client id (clean_session=False) and left
    must not own that id until the gateway restarts: the victim connects and gets its own session."""
    with login(embedded, "rack-red-1", client_id=victim_id, clean_session=False) as squatter:
        squatter.subscribe(cmd_topic(WS, "rack-red-1"))
    try:
        client = login(embedded, victim, client_id=victim_id, clean_session=False)
    except ConnectRefused as refused:
        pytest.fail(f"{victim} locked out of its own client id: {refused}")
    with client:
        assert not client.session_present  # the squatter's session stayed the squatter's
        topic = event_topic(WS, "rack-red-1") if victim == "gateway" else cmd_topic(WS, victim)
        assert [r.value for r in client.subscribe(topic)] == [1]
    login(embedded, victim).close()
    login(embedded, "rack-red-1").close()


def test_a_station_cannot_knock_the_gateway_off_the_embedded_broker(embedded):
    with login(embedded, "gateway", client_id=GATEWAY_ID, clean_session=False) as gw:
        gw.subscribe(event_topic(WS, "rack-red-1"))
        with login(embedded, "rack-red-1", client_id=GATEWAY_ID, clean_session=False) as red:
            red.publish(event_topic(WS, "rack-red-1"), b"after the squatter", qos=1)
        assert gw.expect(event_topic(WS, "rack-red-1")).payload == b"after the squatter"
        assert not gw.disconnected.is_set()
    login(embedded, "gateway").close()


@pytest.mark.parametrize("broker_kind", ["mosquitto", "embedded"])
def test_the_monitor_account_reads_everything_and_writes_nothing(broker_kind, mosquitto, embedded):
    """One connection per account: watching the traffic takes the read-only monitor account, never the
    gateway's (it would knock the gateway off)."""
    broker = mosquitto() if broker_kind == "mosquitto" else embedded
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


@pytest.mark.parametrize("broker_kind", ["mosquitto", "embedded"])
def test_a_second_connection_of_an_account_ends_the_first_and_takes_its_session(broker_kind, mosquitto, embedded):
    """As a station or the gateway reconnecting before the broker noticed the old connection was gone."""
    broker = mosquitto() if broker_kind == "mosquitto" else embedded
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
