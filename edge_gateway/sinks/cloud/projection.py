"""The cloud sink's projection: each fact becomes an item in the ``cloud_outbox`` table.

Items are serialised once, when the fact is committed (``items.py``), so a batch
sent again carries byte-identical items. The cloud takes status messages and
silences, not the periodic samples, and only the workshop's alarm types; at each tick the staff training
records not queued yet (``training.py``).
"""

from __future__ import annotations

from edge_gateway.core.projection import AlarmFact, CycleFact, EventFact, SilencedFact, StatusFact, TickFact
from edge_gateway.sinks.cloud.items import CloudItems
from edge_gateway.sinks.cloud.training import queue_trainings
from edge_gateway.store.writer import Store


class CloudProjection:
    def __init__(self, *, items: CloudItems, store: Store) -> None:
        self.items, self.store = items, store

    def event(self, fact: EventFact) -> None:
        self.store.cloud_add(fact.received_at, self.items.event(
            station=fact.station.id, boot=fact.boot, seq=fact.seq, ts=fact.ts, tag=fact.tag, action=fact.action,
            tool=fact.tool.id if fact.tool else None, note=fact.note))

    def alarm(self, fact: AlarmFact) -> None:
        item = self.items.alarm(fact.alarm, fact.entry, fact.history_id, fact.picture)
        if item is not None:
            self.store.cloud_add(fact.entry.at, item, alarm=True)

    def silenced(self, fact: SilencedFact) -> None:
        self.store.cloud_add(fact.now, self.items.silenced(fact.raised, fact.exception, fact.setup_version,
                                                           fact.accepted_version), alarm=True)

    def status(self, fact: StatusFact) -> None:
        self.store.cloud_add(fact.now, self.items.status(fact.station, fact.state, fact.now, fact.health))

    def cycle(self, fact: CycleFact) -> None:
        self.store.cloud_add(fact.received_at, self.items.cycle(fact.station, fact.cycle, fact.verdict, fact.tools))

    def tick(self, fact: TickFact) -> None:
        """The cloud keeps no samples (its figures come from the events and status items); the training records
        written since the last tick are queued (``training.py``)."""
        queue_trainings(self.store, fact.now)
