"""The default broker (embedded, ``sebiao gateway`` without a broker section) loses no acknowledged
event at any rate: a station's PUBACK means the gateway has committed the event. The real gateway
process with its embedded broker, and stations publishing QoS 1 as fast as it takes them.

The full-size burst (3 x 15,000) is ``benchmarks/embedded_burst.py``.
"""

from __future__ import annotations

import time

import pytest
from burst import Burst
from gateway_proc import GatewayProcess, write_config
from servers import MqttClient, example_config
from stations_mqtt import STREAM

from edge_gateway.broker.credentials import load_credentials
from edge_gateway.broker.embedded_amqtt import MAX_UNACKED
from edge_gateway.broker.log_limit import BURST

pytestmark = pytest.mark.slow
WS = "ws-demo"
STATIONS = ("rack-red-1", "rack-green-1", "rack-white-1")
PER_STATION = 3000  # amqtt's own routing lost about half of 3 x 3000 before the gateway took events in-process


@pytest.fixture
def gateway(tmp_path):
    proc = GatewayProcess(write_config(tmp_path / "workshop.yaml"), tmp_path / "data",
                          extra_args=("--embedded-broker", "127.0.0.1:0")).start()
    proc.broker_port = proc.listening["mqtt"]["port"]  # the port the system chose, from listening.json
    proc.credentials = load_credentials(tmp_path / "data" / "broker")
    yield proc
    proc.stop()


def _burst(gateway) -> Burst:
    tags = {s: example_config().tool(STREAM[s]).tag for s in STATIONS}
    accounts = {s: (gateway.credentials.station(s).username, gateway.credentials.station(s).password)
                for s in STATIONS}
    return Burst("127.0.0.1", gateway.broker_port, WS, accounts, tags, PER_STATION)


def _stored(gateway) -> set[tuple[str, str, int]]:
    return set(gateway.rows("SELECT station, boot, seq FROM events"))


def test_every_event_acknowledged_in_a_burst_is_stored(gateway):
    burst = _burst(gateway).start()
    checks = 0
    while not burst.wait(timeout=0.5):  # mid-burst: what a station was told is stored, is stored
        acked = burst.acked_now()
        missing = acked - _stored(gateway)
        assert not missing, f"{len(missing)} events acknowledged to the stations but not stored"
        checks += 1
        assert time.monotonic() - burst.started_at < 120, "the burst did not finish"
    assert checks >= 2  # the check really ran while events were arriving
    assert burst.acked_now() == burst.sent
    assert _stored(gateway) == burst.sent  # nothing lost, nothing extra
    assert gateway.log_path.stat().st_size < 16_000


def test_a_subscriber_that_never_acknowledges_costs_bounded_memory_and_log(gateway):
    """The monitor subscribes to everything and never sends a PUBACK: it gets at most MAX_UNACKED
    messages, the rest are dropped for it alone (amqtt discarded each after 5 s with a traceback per
    message), the log stays small, and the gateway stores every event."""
    monitor_account = gateway.credentials.monitor
    with MqttClient.connect("127.0.0.1", gateway.broker_port, monitor_account.username, monitor_account.password,
                            manual_ack=True) as monitor:
        monitor.subscribe(f"sebiao/{WS}/#")
        burst = _burst(gateway).start()
        assert burst.wait(timeout=120)
        gateway.wait_for(lambda: _stored(gateway) == burst.sent, timeout=30, what="every event stored")
        received = monitor.drain()
        assert MAX_UNACKED // 2 < len(received) <= MAX_UNACKED + 50  # it saw events, then no more than the cap
        assert gateway.metric("sebiao_broker_dropped_messages") > 0  # what it did not get is counted, in /metrics
    log = gateway.log()
    assert log.count("dropped a message") <= BURST + 1
    assert gateway.log_path.stat().st_size < 16_000
