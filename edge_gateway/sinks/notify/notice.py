"""The notice of one alarm transition: the generic webhook's JSON (``docs/notify.md`` has its schema), made once
when the transition is committed (its markdown for the robots: ``sebiao_common.notify.message``).

The notice's ``id`` (``{workshop}:{history id}``) names the transition for good: a receiver that sees an id twice
(only after a crash between the robot's answer and the gateway's mark) can drop the second.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common.alarms import SEVERITY_NAMES, alarm_type_words
from sebiao_common.notify.message import local_time

SCHEMA = 1


class Notices:
    def __init__(self, config: WorkshopConfig, console_url: str | None, zone: tzinfo | None) -> None:
        self.workshop = {"id": config.workshop.id, "name": config.workshop.name}
        self.stations = {s.id: s.name or s.id for s in config.stations}
        self.console_url, self.zone = console_url, zone

    def of(self, alarm: Alarm, entry: HistoryEntry, history_id: int) -> dict[str, Any]:
        zh, en = alarm_type_words(alarm.type)
        sev_zh, sev_en, shape = SEVERITY_NAMES.get(alarm.severity, (alarm.severity, alarm.severity, "○"))
        station = ({"id": alarm.station, "name": self.stations.get(alarm.station, alarm.station)}
                   if alarm.station else None)
        return {
            "schema": SCHEMA, "id": f"{self.workshop['id']}:{history_id}", "test": False,
            "workshop": dict(self.workshop),
            "alarm": {"id": alarm.id, "type": alarm.type, "type_name": {"zh": zh, "en": en},
                      "severity": alarm.severity, "severity_name": {"zh": sev_zh, "en": sev_en, "shape": shape},
                      "state": alarm.state, "acked": alarm.acked, "subject": alarm.subject, "tool": alarm.tool,
                      "tag": alarm.tag, "station": station, "count": alarm.count, "first_ts": alarm.ts,
                      "text": {"zh": alarm.text_zh, "en": alarm.text_en}},
            "transition": {"history_id": history_id, "action": entry.action, "at": entry.at,
                           "at_local": local_time(entry.at, self.zone).isoformat(timespec="seconds"),
                           "by": entry.by, "comment": entry.comment},
            "console_url": self.console_url,
        }

    def test(self, channel: str, at: int) -> dict[str, Any]:
        """The message of ``sebiao notify test``: the same schema, ``test: true``, no alarm."""
        return {"schema": SCHEMA, "id": f"{self.workshop['id']}:test:{at}", "test": True,
                "workshop": dict(self.workshop), "alarm": None,
                "transition": {"history_id": None, "action": "test", "at": at,
                               "at_local": local_time(at, self.zone).isoformat(timespec="seconds"),
                               "by": "sebiao notify test", "comment": f"channel {channel}"},
                "console_url": self.console_url}

