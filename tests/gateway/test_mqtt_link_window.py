"""The gateway's outgoing QoS 1 messages (alarms, feedback commands): at most ``WINDOW`` in paho's hands at
once, the rest waiting in order, every one delivered once the broker acknowledges the earlier ones.
Against real Mosquitto, with the broker's acknowledgements arriving on paho's thread while the pipeline
publishes."""

from __future__ import annotations

import threading
import time

from servers import example_config

from edge_gateway.core.metrics import Metrics
from edge_gateway.intake import mqtt_link
from edge_gateway.intake.mqtt_link import MqttLink
from edge_gateway.model.protocol import alarm_topic
from edge_gateway.model.workshop import BrokerSettings


def test_a_burst_of_alarms_arrives_whole_and_in_order_with_at_most_a_window_in_paho(mosquitto) -> None:
    config = example_config()
    broker = mosquitto(config)
    ws = config.workshop.id
    user, password = broker.account("gateway")
    settings = BrokerSettings.parse(broker.url, user, password)
    link = MqttLink(settings, f"sebiao-gateway-{ws}", (f"sebiao/{ws}/+/status",), lambda message: None, Metrics(), clock=lambda: 0)
    total, most = 3000, [0]
    with broker.client("monitor") as monitor:
        monitor.subscribe(alarm_topic(ws), qos=1)
        link.start()
        try:
            stop = threading.Event()

            def watch() -> None:  # what paho holds, as often as it can be looked at
                while not stop.is_set():
                    most[0] = max(most[0], len(link.client._out_messages))

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            for n in range(total):
                link.publish(alarm_topic(ws), str(n).encode())
            assert link.waiting > 0  # the burst outran the broker's acknowledgements: some wait outside paho
            got = [int(m.payload) for m in monitor.receive_until(lambda m: m.payload == str(total - 1).encode(), timeout=30)]
            stop.set()
            watcher.join()
        finally:
            link.stop()
    assert got == list(range(total))
    assert most[0] <= mqtt_link.WINDOW
    deadline = time.monotonic() + 5
    while (link.waiting or link._in_paho) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (link.waiting, link._in_paho) == (0, 0)
