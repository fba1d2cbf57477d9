"""A scripted reader station over real MQTT: its own login, boot id and sequence."""

from __future__ import annotations

import secrets
import time

from edge_gateway.model.protocol import (
    StationEvent,
    encode_event,
    encode_status,
    event_topic,
    status_topic,
)
from edge_gateway.model.workshop import WorkshopConfig


class ScriptedStation:
    def __init__(self, broker, config: WorkshopConfig, station_id: str, **connect) -> None:
        self.config = config
        self.id = station_id
        self.ws = config.workshop.id
        self.boot = secrets.token_hex(4)
        self.seq = 0
        will = (status_topic(self.ws, station_id), encode_status(False), 1, True)
        self.client = broker.client(station_id, will=will, **connect)

    def status(self, online: bool = True, **health) -> None:
        self.client.publish(status_topic(self.ws, self.id), encode_status(online, **health), qos=1, retain=True)

    def event(self, tool_or_tag: str, action: str, ts: int | None = None) -> StationEvent:
        tool = self.config.tool(tool_or_tag)
        event = StationEvent(station=self.id, boot=self.boot, seq=self.seq,
                             ts=int(time.time() * 1000) if ts is None else ts,
                             tag=tool.tag if tool else tool_or_tag, action=action)
        self.seq += 1
        self.client.publish(event_topic(self.ws, self.id), encode_event(event), qos=1)
        return event

    def close(self) -> None:
        self.client.close()
