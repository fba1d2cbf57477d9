"""Prometheus metrics of one gateway (its own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter("sebiao_events", "Station events accepted and applied", registry=r)
        self.duplicates = Counter("sebiao_events_duplicate",
                                  "QoS 1 redeliveries recognised by (station, boot, seq) and not applied again",
                                  registry=r)
        self.rejected = Counter("sebiao_events_rejected", "Messages rejected, by reason (kept as dead letters)",
                                ["reason"], registry=r)
        self.status_in = Counter("sebiao_status_messages", "Station status messages accepted", registry=r)
        self.cycles_in = Counter("sebiao_cycles", "Disinfection cycles accepted, by verdict", ["passed"],
                                 registry=r)
        self.alarms = Counter("sebiao_alarms", "Alarms raised, by type", ["type"], registry=r)
        self.active_alarms = Gauge("sebiao_alarms_active", "Alarms active now", registry=r)
        self.commit_seconds = Histogram(
            "sebiao_commit_seconds", "Time to commit one batch to SQLite",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0), registry=r)
        self.batch_size = Histogram("sebiao_batch_messages", "Messages per committed batch",
                                    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), registry=r)
        self.queue_depth = Gauge("sebiao_queue_depth", "Messages received and waiting for the pipeline", registry=r)
        self.store_errors = Counter("sebiao_store_errors", "Batches whose commit failed and were retried",
                                    registry=r)
        self.broker_connected = Gauge("sebiao_broker_connected", "1 while connected to the MQTT broker",
                                      registry=r)
        self.store_failing = Gauge("sebiao_store_failing", "1 while commits to the local store fail", registry=r)
        self.dead_letters = Gauge("sebiao_dead_letters", "Rejected messages kept in the dead_letters table",
                                  registry=r)
        self.dead_letter_bytes = Gauge("sebiao_dead_letter_bytes", "Bytes of topic, payload and detail the kept "
                                       "dead letters hold", registry=r)
        self.dead_letters_dropped = Gauge("sebiao_dead_letters_dropped", "Dead letters deleted, oldest first, past "
                                          "the bound (intake.dead_letters), since the store was made", registry=r)
        self.rate_limited = Counter("sebiao_station_rate_limited", "Messages a station sent beyond its rate "
                                    "(intake.station_rate): acknowledged and dropped, by station", ["station"],
                                    registry=r)
        # The same by station for /healthz (written by the MQTT thread alone).
        self.rate_limited_by_station: dict[str, int] = {}


class CloudMetrics:
    """The cloud push worker's figures (``cloud_push.py``), in the gateway's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.depth = Gauge("sebiao_cloud_outbox_rows", "Rows waiting in the cloud outbox", registry=r)
        self.oldest_age = Gauge("sebiao_cloud_outbox_oldest_age_seconds", "Age of the oldest cloud outbox row",
                                registry=r)
        self.pushed = Counter("sebiao_cloud_pushed_items", "Items the cloud accepted", registry=r)
        self.batches = Counter("sebiao_cloud_batches", "Batches sent, by the class of the cloud's answer "
                               "(ok, rejected, too_large, refused, retry)", ["answer"], registry=r)
        self.dead = Counter("sebiao_cloud_dead_items", "Items the cloud refused (kept in cloud_outbox_dead)",
                            registry=r)
        self.dropped = Counter("sebiao_cloud_dropped_items",
                               "Status items dropped, oldest first, past the cloud outbox bound", registry=r)
