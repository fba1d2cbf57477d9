"""The InfluxDB sink's projection: each fact becomes a line in the ``outbox`` table.

Events, alarm transitions and station status become points as they happen;
every ``every_ms`` the tick also samples each station's status (for uptime) and
the per-zone tool counts (``zone_summary``). Alarm rows are kept past the
outbox's bound (``keep``), telemetry is not (``docs/influxdb.md``).
"""

from __future__ import annotations

from edge_gateway.core.projection import AlarmFact, CycleFact, EventFact, SilencedFact, StatusFact, TickFact
from edge_gateway.sinks.influx.lines import InfluxLines
from edge_gateway.store.writer import Store


class InfluxProjection:
    def __init__(self, *, lines: InfluxLines, store: Store, every_ms: int) -> None:
        self.lines, self.store, self.every_ms = lines, store, every_ms
        self._next_snapshot = 0

    def event(self, fact: EventFact) -> None:
        line = self.lines.event(station=fact.station.id, tool=fact.tool, action=fact.action, ts=fact.ts,
                                tag_uid=fact.tag, boot=fact.boot, seq=fact.seq, received_at=fact.received_at,
                                late=fact.late)
        self.store.outbox_add(keep=False, created=fact.received_at, line=line)

    def alarm(self, fact: AlarmFact) -> None:
        self.store.outbox_add(keep=True, created=fact.entry.at,
                              line=self.lines.alarm(fact.alarm, fact.entry, fact.history_id))

    def silenced(self, fact: SilencedFact) -> None:
        """Silenced alarms are the cloud's business (the inspector's acceptance of an exception): no line."""

    def status(self, fact: StatusFact) -> None:
        line = self.lines.station_status(fact.state, fact.report, fact.now, fact.health)
        if line is not None:
            self.store.outbox_add(keep=False, created=fact.now, line=line)
        boot = self.lines.station_boot(fact.station.id, fact.boot) if fact.boot is not None else None
        if boot is not None:
            self.store.outbox_add(keep=False, created=fact.now, line=boot)

    def cycle(self, fact: CycleFact) -> None:
        line = self.lines.cycle(fact.station.id, fact.cycle, fact.verdict, len(fact.tools))
        self.store.outbox_add(keep=True, created=fact.received_at, line=line)  # evidence: kept like alarms

    def tick(self, fact: TickFact) -> None:
        if fact.now < self._next_snapshot:
            return
        self._next_snapshot = fact.now + self.every_ms
        for _station, state in fact.stations:
            self.status(StatusFact(station=_station, state=state, report="snapshot", now=fact.now))
        for line in self.lines.zone_summaries(fact.tools, fact.now):
            self.store.outbox_add(keep=False, created=fact.now, line=line)
