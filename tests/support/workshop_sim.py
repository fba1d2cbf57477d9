"""Drives an Engine directly (no broker): one call per station message, with a controlled clock."""

from __future__ import annotations

from pathlib import Path

from edge_gateway.config import load_config
from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.model.disinfection import Cycle
from edge_gateway.model.protocol import StationEvent, StationStatus, encode_cycle, encode_event
from edge_gateway.store.writer import Store

EXAMPLE = Path(__file__).parents[2] / "examples" / "workshop.yaml"
T0 = 1_764_142_800_000  # 2025-11-26 08:00 Beijing


class Sim:
    def __init__(self, tmp_path: Path, config=None) -> None:
        self.config = config or load_config(EXAMPLE)
        self.store = Store(tmp_path / "gateway.sqlite3")
        self.engine = Engine(self.config, self.store, T0)
        self.now = T0
        self.seq: dict[str, int] = {}
        self.raised: list[tuple[str, str, str]] = []  # (type, subject, severity)
        self.messages: list = []

    def at(self, seconds: float) -> "Sim":
        self.now = T0 + int(seconds * 1000)
        return self

    def _run(self, fn) -> Outcome:
        out = Outcome()
        before = dict(self.engine.active)
        with self.store.transaction():
            result = fn(out)
        for key, alarm in self.engine.active.items():
            if key not in before or before[key].id != alarm.id:
                self.raised.append((alarm.type, alarm.subject, alarm.severity))
        self.messages.extend(out.messages)
        self.last_result = result
        return out

    def all_online(self) -> "Sim":
        for station in self.config.stations:
            self.status(station.id)
        return self

    def heartbeat(self, *, skip: tuple[str, ...] = ()) -> "Sim":
        for station in self.config.stations:
            if station.id not in skip:
                self.status(station.id)
        return self

    def status(self, station: str, online: bool = True, **health) -> Outcome:
        status = StationStatus(station=station, online=online, health=health)
        return self._run(lambda out: self.engine.on_status(status, "{}", self.now, out))

    def event(self, station: str, tool_or_tag: str, action: str, ts: int | None = None, boot="00c0ffee",
              seq: int | None = None) -> Outcome:
        tool = self.config.tool(tool_or_tag)
        tag = tool.tag if tool else tool_or_tag
        if seq is None:
            seq = self.seq.get(station, 0)
            self.seq[station] = seq + 1
        event = StationEvent(station=station, boot=boot, seq=seq, ts=self.now if ts is None else ts, tag=tag,
                             action=action)
        return self._run(lambda out: self.engine.on_event(event, encode_event(event), self.now, out))

    def cycle(self, station: str, start: float, temps_c: list[float], interval_s: int = 60, boot="00c0ffee",
              seq: int | None = None) -> Outcome:
        """A probed station's cycle whose first sample was at ``start`` (seconds after T0), sent now."""
        if seq is None:
            seq = self.seq.get(station, 0)
            self.seq[station] = seq + 1
        first = T0 + int(start * 1000)
        cycle = Cycle(station=station, boot=boot, seq=seq, ts=first + (len(temps_c) - 1) * interval_s * 1000,
                      start=first, interval_s=interval_s, temps_dc=tuple(round(t * 10) for t in temps_c))
        return self._run(lambda out: self.engine.on_cycle(cycle, encode_cycle(cycle), self.now, out))

    def tick(self) -> Outcome:
        return self._run(lambda out: self.engine.tick(self.now, out))

    def use(self, tool: str, rack: str, sink: str | None, back_to: str | None = None, start: float = 0,
            minutes: float = 10) -> None:
        """Take a tool, use it, wash it (when a sink is given), put it back."""
        self.at(start).event(rack, tool, "removed")
        if sink:
            self.at(start + minutes * 60 - 60).event(sink, tool, "placed")
            self.at(start + minutes * 60 - 30).event(sink, tool, "removed")
        self.at(start + minutes * 60).event(back_to or rack, tool, "placed")

    def types(self) -> list[str]:
        return [t for t, _, _ in self.raised]
