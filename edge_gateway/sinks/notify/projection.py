"""The notify sink's projection: an alarm transition a channel wants becomes a ``notify_outbox`` row.

Only ``raised``, ``cleared`` and ``acknowledged`` transitions are told (a repeat is counted on the alarm, not
sent again). The row holds the notice as the webhook's JSON, made once (``notice.py``).
"""

from __future__ import annotations

from edge_gateway.core.projection import AlarmFact, CycleFact, EventFact, SilencedFact, StatusFact, TickFact
from edge_gateway.sinks.notify.config import NOTIFY_FAILED, NotifySettings
from edge_gateway.sinks.notify.notice import Notices
from edge_gateway.store.writer import Store
from sebiao_common import strict_json


class NotifyProjection:
    def __init__(self, *, settings: NotifySettings, notices: Notices, store: Store) -> None:
        self.settings, self.notices, self.store = settings, notices, store

    def alarm(self, fact: AlarmFact) -> None:
        action = fact.entry.action
        # a channel is not told that it is failing itself (it would arrive after the fact): the others are
        channels = [c.name for c in self.settings.channels if c.wants(fact.alarm.type, action)
                    and not (fact.alarm.type == NOTIFY_FAILED and fact.alarm.subject == f"notify:{c.name}")]
        if not channels:
            return
        notice = strict_json.dumps(self.notices.of(fact.alarm, fact.entry, fact.history_id))
        for channel in channels:
            self.store.conn.execute(
                "INSERT OR IGNORE INTO notify_outbox (history_id, channel, severity, created, notice) "
                "VALUES (?,?,?,?,?)", (fact.history_id, channel, fact.alarm.severity, fact.entry.at, notice))

    def event(self, fact: EventFact) -> None:
        """Events are not told: their alarms are."""

    def silenced(self, fact: SilencedFact) -> None:
        """A silenced alarm is never shown locally, so never sent either."""

    def status(self, fact: StatusFact) -> None:
        """Station liveness is told through ``station_offline``."""

    def cycle(self, fact: CycleFact) -> None:
        """Cycles are told through their alarms."""

    def tick(self, fact: TickFact) -> None:
        """Nothing to sample."""
