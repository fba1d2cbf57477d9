"""A scripted reader station over real MQTT: its own login, boot id and sequence; every station of a
workshop online at once; a stream of events that proves each one is applied exactly once."""

from __future__ import annotations

import secrets
import time

from edge_gateway.model.disinfection import Cycle
from edge_gateway.model.protocol import (
    StationEvent,
    cycle_topic,
    encode_cycle,
    encode_event,
    encode_status,
    event_topic,
    status_topic,
)
from edge_gateway.model.workshop import WorkshopConfig

# One tool per rack, taken and put back over and over: every 'placed' is an
# unwashed return counted on one active alarm.
STREAM = {"rack-red-1": "KN-R-01", "rack-green-1": "KN-G-01", "rack-white-1": "KN-W-01",
          "rack-yellow-1": "CT-Y-01"}


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

    def cycle(self, start: int, temps_c: list[float], interval_s: int = 60, payload: bytes | None = None) -> Cycle:
        """A probe's cycle (``docs/protocol.md``) whose first sample is at ``start`` (ms), one sample every
        ``interval_s``; it shares the station's per-boot sequence with its events. ``payload``: sent instead."""
        cycle = Cycle(station=self.id, boot=self.boot, seq=self.seq, start=start,
                      ts=start + (len(temps_c) - 1) * interval_s * 1000, interval_s=interval_s,
                      temps_dc=tuple(round(t * 10) for t in temps_c))
        self.seq += 1
        self.client.publish(cycle_topic(self.ws, self.id), payload or encode_cycle(cycle), qos=1)
        return cycle

    def close(self) -> None:
        self.client.close()


def online_stations(broker, config: WorkshopConfig, health: dict | None = None,
                    **connect) -> dict[str, ScriptedStation]:
    """Every station of ``config`` connected (``connect``: ScriptedStation's) and reporting online with
    ``health`` (default: an empty buffer)."""
    stations = {s.id: ScriptedStation(broker, config, s.id, **connect) for s in config.stations}
    for station in stations.values():
        station.status(True, **(health or {"buffer_depth": 0}))
    return stations


def ms_ago(seconds: float) -> int:
    return int((time.time() - seconds) * 1000)


def close_all(stations: dict[str, ScriptedStation]) -> None:
    for station in stations.values():
        station.close()


def stream(stations: dict[str, ScriptedStation], rounds: int, sent: dict, start_ms: int, pause: float = 0.0) -> None:
    """``rounds`` rounds of STREAM (removed, placed, removed, ...), round i stamped ``start_ms + i``; each
    event into ``sent`` by (station, boot, seq). ``pause``: seconds between rounds."""
    for i in range(rounds):
        for station_id, tool in STREAM.items():
            # Every event of a round in the same millisecond: the sequence in the
            # sub-millisecond digits keeps them apart.
            event = stations[station_id].event(tool, "removed" if i % 2 == 0 else "placed", ts=start_ms + i)
            sent[(station_id, event.boot, event.seq)] = event
        if pause:
            time.sleep(pause)
