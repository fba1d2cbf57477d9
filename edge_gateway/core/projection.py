"""The engine's facts, and the interface through which each sink makes its rows of them.

The engine knows no sink's format: for every accepted event, alarm transition, silenced alarm,
station status, disinfection cycle and tick it hands a fact to each :class:`Projection` it was
given. A projection (``sinks/influx/projection.py``,
``sinks/cloud/projection.py``) turns the fact into its own outbox row through
the store, inside the engine's transaction, so the row is committed with the
fact it describes or not at all. A projection does no network I/O and reads no
clock: the drain workers ship the rows later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from edge_gateway.model.alarms import Alarm, AlarmJson, HistoryEntry
from edge_gateway.model.disinfection import Cycle, Verdict
from edge_gateway.model.rules import Raise
from edge_gateway.model.station_health import Boot
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import RuleException, Station, Tool


@dataclass(frozen=True, kw_only=True, slots=True)
class EventFact:
    """A station event, newly stored; ``tool`` is None for a tag no tool carries."""

    station: Station
    tool: Tool | None
    action: str
    ts: int  # the event's effective time (ms)
    tag: str
    boot: str
    seq: int
    received_at: int
    late: bool
    note: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AlarmFact:
    """One alarm transition, stored as ``alarm_history`` row ``history_id``; ``picture`` is its alarm JSON."""

    alarm: Alarm
    entry: HistoryEntry
    history_id: int
    picture: AlarmJson


@dataclass(frozen=True, kw_only=True, slots=True)
class SilencedFact:
    """An alarm the owner's setup stopped and the inspector has not accepted: never shown locally; the cloud
    counts it until the inspector accepts. Either a recorded exception stopped it (``model/rules.py``
    ``Excused``), or a relaxed requirement did: the step judged under the last accepted rules raised it
    (``relaxed``: the accepted setup version those rules are of, None for the seed's rules)."""

    raised: Raise
    exception: RuleException | None  # the recorded exception that stopped it; None: a relaxed requirement
    setup_version: int | None
    now: int
    relaxed: bool = False
    accepted_version: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusFact:
    """A station's liveness now; ``report`` says why: ``status`` (its message) or ``silence`` (a timeout)."""

    station: Station
    state: StationState
    report: str
    now: int
    health: Mapping[str, object] | None = None  # the status message's health fields
    boot: Boot | None = None  # the new boot this status showed (model/station_health.py), if it did


@dataclass(frozen=True, kw_only=True, slots=True)
class CycleFact:
    """A probed station's cycle, newly stored, with the gateway's verdict and the tools that were in it."""

    station: Station
    cycle: Cycle
    verdict: Verdict
    tools: tuple[str, ...]
    received_at: int


@dataclass(frozen=True, kw_only=True, slots=True)
class TickFact:
    """The engine's periodic tick: the whole picture, for projections that sample it."""

    now: int
    stations: tuple[tuple[Station, StationState], ...]
    tools: tuple[ToolState, ...]


class Projection(Protocol):
    """A sink's view of the engine's facts; each method writes its rows in the current transaction."""

    def event(self, fact: EventFact) -> None: ...
    def alarm(self, fact: AlarmFact) -> None: ...
    def silenced(self, fact: SilencedFact) -> None: ...
    def status(self, fact: StatusFact) -> None: ...
    def cycle(self, fact: CycleFact) -> None: ...
    def tick(self, fact: TickFact) -> None: ...
