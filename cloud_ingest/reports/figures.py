"""The compliance figures as pure functions: rows in, figures out (no database, no clock).

Definitions (also in ``docs/cloud-ingest.md``, "Reports (报告) and compliance figures"):

- A station's kind and zone are those its gateway sends in its status items
  (from the workshop config; the ``stations`` table). Only when they are
  unknown (an older gateway, or a station with events and no status yet) are
  they guessed from its id, by the naming convention of the gateway configs
  (``rack-red-1``, ``sink-white-1``): a sink when one of its ``-``-separated
  parts is ``sink``, otherwise a rack; its zone the first part that is a colour
  key of ``sebiao_common.domain``, if any. Reports list the stations guessed so.
- A **use** is a ``removed`` event of a known tool at a rack (a tool taken
  for work); ``count_uses`` also counts each ``placed`` event of a known tool
  at a sink, but a report's **washes** are ``disinfection.count_washes``'s: a
  stay of the wash dwell at a sink of the tool's colour. Events of unknown
  tags (no ``tool``) are neither.
- **Misuse** is an occurrence (``raised`` or ``repeated`` transition) of the
  alarm types in ``MISUSE_TYPES``, per 100 uses of the same period.
- Times to acknowledge are summarised by the nearest-rank median and 90th percentile.
- **Uptime**: a station's status holds from its ``ts`` until its next status.
  Time before a station's first status is unknown and left out of the
  denominator (the station was not installed or not yet heard of);
  uptime = online time / known time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from sebiao_common.domain import COLORS

# The alarms that mean a tool was used against the rules (分区管理、定位存放、用后清洗), as opposed to
# the workshop's equipment (station_offline, unknown_tag) or a tool kept out long (overdue).
MISUSE_TYPES = ("cross_zone", "cross_zone_wash", "unwashed_return", "misplaced")
OCCURRENCES = ("raised", "repeated")


@dataclass(frozen=True)
class StationId:
    id: str
    sink: bool
    zone: str | None  # a colour key of sebiao_common.domain, or None when the id names none

    @classmethod
    def parse(cls, station: str) -> "StationId":
        parts = station.split("-")
        zone = next((p for p in parts if p in COLORS), None)
        return cls(station, "sink" in parts, zone)


def is_sink(station: str) -> bool:
    return StationId.parse(station).sink


@dataclass(frozen=True)
class StationInfo:
    """A station's kind and zone as the figures use them: the gateway's, or guessed from the id."""

    id: str
    sink: bool
    zone: str | None  # a colour key of sebiao_common.domain; None: unknown and not in the id
    inferred: bool  # kind or zone guessed from the id: the gateway did not say
    disinfect: bool = False  # a disinfection station (the gateway said so: ids never tell it)

    def __post_init__(self) -> None:
        if self.zone is not None and self.zone not in COLORS:
            raise ValueError(f"not a zone: {self.zone!r}")
        if self.zone is None and not self.inferred:
            raise ValueError("a zone the gateway gave is never None")

    @classmethod
    def of(cls, station: str, kind: str | None = None, zone: str | None = None) -> StationInfo:
        """From what the gateway said (``stations.kind``, ``stations.zone``), the id filling in what it did not."""
        if kind is not None and kind not in ("rack", "sink", "disinfect"):
            raise ValueError(f"not a station kind: {kind!r}")
        if kind is not None and zone is not None:
            return cls(station, kind == "sink", zone, False, kind == "disinfect")
        if kind == "disinfect":  # a cycle named its kind before a status gave its zone
            return cls(station, False, StationId.parse(station).zone, True, True)
        guess = StationId.parse(station)
        return cls(station, guess.sink if kind is None else kind == "sink", guess.zone if zone is None else zone,
                   True)


@dataclass(frozen=True)
class EventCount:
    """How many events of known tools (``tool`` set) a station had with one action."""

    station: str
    action: str  # placed | removed
    n: int


@dataclass(frozen=True)
class ZoneCounts:
    zone: str | None  # None: stations of unknown zone whose id names no colour
    uses: int
    washes: int

    def __post_init__(self) -> None:
        if self.uses < 0 or self.washes < 0:
            raise ValueError("counts are never negative")


def count_uses(rows: Iterable[EventCount], stations: Mapping[str, StationInfo] | None = None
               ) -> tuple[ZoneCounts, ...]:
    """Uses and washes per zone of the station, in the order of domain.COLOR_CLASSES, unnamed last.

    ``stations``: kind and zone by station id; a station not in it is guessed from its id."""
    uses: dict[str | None, int] = {}
    washes: dict[str | None, int] = {}
    for r in rows:
        st = (stations or {}).get(r.station) or StationInfo.of(r.station)
        if st.disinfect:
            continue  # a tool into or out of a disinfection station is neither a use nor a wash
        if st.sink and r.action == "placed":
            washes[st.zone] = washes.get(st.zone, 0) + r.n
        elif not st.sink and r.action == "removed":
            uses[st.zone] = uses.get(st.zone, 0) + r.n
    zones = [z for z in (*COLORS, None) if z in uses or z in washes]
    return tuple(ZoneCounts(z, uses.get(z, 0), washes.get(z, 0)) for z in zones)


def per_100(count: int, uses: int) -> float | None:
    """``count`` per 100 uses, rounded to 2 decimals; None without uses (no rate can be given)."""
    if uses <= 0:
        return None
    return round(100 * count / uses, 2)


@dataclass(frozen=True)
class Spread:
    """Durations (ms): how many, the nearest-rank median and 90th percentile."""

    count: int
    median_ms: int | None
    p90_ms: int | None


def nearest_rank(sorted_values: Sequence[int], p: float) -> int:
    if not sorted_values or not 0 < p <= 100:
        raise ValueError("needs values and 0 < p <= 100")
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def spread(durations: Iterable[int]) -> Spread:
    values = sorted(durations)
    if not values:
        return Spread(0, None, None)
    return Spread(len(values), nearest_rank(values, 50), nearest_rank(values, 90))


@dataclass(frozen=True)
class StatusRow:
    station: str
    ts: int
    online: bool


@dataclass(frozen=True)
class Uptime:
    station: str  # "" for the whole workshop
    online_ms: int
    known_ms: int

    def __post_init__(self) -> None:
        if not 0 <= self.online_ms <= self.known_ms:
            raise ValueError("0 <= online_ms <= known_ms")

    @property
    def fraction(self) -> float | None:
        return None if self.known_ms == 0 else self.online_ms / self.known_ms


def uptime(rows: Iterable[StatusRow], start: int, end: int) -> tuple[tuple[Uptime, ...], Uptime]:
    """Per station (sorted by id) and overall, over [start, end).

    ``rows`` must hold each station's newest status before ``start`` (its state at the start) and
    every status in the period; older ones change nothing.
    """
    if end < start:
        raise ValueError("end before start")
    by_station: dict[str, list[StatusRow]] = {}
    for r in rows:
        by_station.setdefault(r.station, []).append(r)
    out = []
    for station in sorted(by_station):
        timeline = sorted(by_station[station], key=lambda r: r.ts)
        online = known = 0
        for row, nxt in zip(timeline, [*timeline[1:], None]):
            a = max(row.ts, start)
            b = min(nxt.ts if nxt else end, end)
            if b > a:
                known += b - a
                online += (b - a) if row.online else 0
        out.append(Uptime(station, online, known))
    return tuple(out), Uptime("", sum(u.online_ms for u in out), sum(u.known_ms for u in out))
