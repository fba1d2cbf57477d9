"""A station's health, judged from its statuses: ``station_resets`` and ``reader_fault``. Pure.

**Resets.** A station picks a random ``boot`` id at every start and sends it in
each status. The gateway counts a *new boot* when a status carries a boot id it
has not seen from that station lately (neither the last one nor one of the window's:
a status redelivered out of order is no reset). ``rules.station_health.resets``
new boots within ``resets_within_minutes`` raise ``station_resets``; each further
new boot while it is active counts a repeat; it clears once the station has run
``resets_quiet_minutes`` without a new boot (judged at the tick). The first boot
the gateway sees of a station counts too: it is one, far below the bound.

**Reader.** The firmware says ``reader_ok: false`` only after repeated chip faults
that a re-init and a pulse on the reader's reset pin did not cure (its own debounce,
``firmware/sebiao_station/readers``), and a reader that answers wrongly sees no tag
at all: so the first status saying ``false`` raises ``reader_fault``, and the first
saying ``true`` clears it. A status without ``reader_ok`` (a last will, an older
firmware) changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from edge_gateway.model import alarm_text
from edge_gateway.model.rules import Clear, Decision, Raise
from edge_gateway.model.workshop import Rules, Station
from sebiao_common.alarms import AlarmType

STATION_RESETS = AlarmType.STATION_RESETS.value
READER_FAULT = AlarmType.READER_FAULT.value
MAX_CAUSE_CHARS = 32


@dataclass(frozen=True, kw_only=True)
class Boot:
    boot: str  # the station's boot id
    at: int  # gateway clock when its first status arrived, ms
    cause: str  # the reset cause it reported ("unknown" when it said none)
    fw: str | None = None  # the firmware version it booted


@dataclass(frozen=True, kw_only=True)
class ResetWatch:
    """What the gateway remembers of one station's boots."""

    last: str | None = None  # the boot id of the newest status that had one
    last_at: int | None = None  # when the newest new boot was seen
    boots: tuple[Boot, ...] = ()  # the new boots seen within the window, oldest first


def boot_of(health: Mapping[str, object], now: int) -> Boot | None:
    boot, cause, fw = health.get("boot"), health.get("reset_cause"), health.get("fw")
    if not isinstance(boot, str) or not boot:
        return None
    cause = cause[:MAX_CAUSE_CHARS] if isinstance(cause, str) and cause else "unknown"
    return Boot(boot=boot[:32], at=now, cause=cause, fw=fw[:32] if isinstance(fw, str) else None)


def on_status(watch: ResetWatch, health: Mapping[str, object], station: Station, now: int, rules: Rules
              ) -> tuple[ResetWatch, Boot | None, tuple[Decision, ...]]:
    """The watch after one status, the new boot it showed (to record), and a ``station_resets`` raise (a repeat
    when it is active already)."""
    boot = boot_of(health, now)
    if boot is None or boot.boot == watch.last or any(b.boot == boot.boot for b in watch.boots):
        return watch, None, ()
    window = rules.station_health.resets_within_minutes * 60_000
    boots = tuple(b for b in watch.boots if now - b.at < window) + (boot,)
    after = ResetWatch(last=boot.boot, last_at=now, boots=boots)
    if len(boots) < rules.station_health.resets:
        return after, boot, ()
    zh, en = alarm_text.station_resets(station, len(boots), rules.station_health.resets_within_minutes,
                                       dict(Counter(b.cause for b in boots)))
    return after, boot, (Raise(type=STATION_RESETS, severity=rules.severity_of(STATION_RESETS), subject=station.id,
                               tool=None, tag=None, station=station.id, ts=now, text_zh=zh, text_en=en),)


def on_tick(watch: ResetWatch, station: Station, now: int, rules: Rules, alarmed: bool
            ) -> tuple[ResetWatch, tuple[Decision, ...]]:
    """Forget boots older than the window; clear ``station_resets`` after the quiet period."""
    window = rules.station_health.resets_within_minutes * 60_000
    kept = tuple(b for b in watch.boots if now - b.at < window)
    after = watch if kept == watch.boots else replace(watch, boots=kept)
    quiet = rules.station_health.resets_quiet_minutes * 60_000
    if alarmed and (watch.last_at is None or now - watch.last_at >= quiet):
        minutes = rules.station_health.resets_quiet_minutes
        zh, en = alarm_text.duration(minutes)
        return after, (Clear(type=STATION_RESETS, subject=station.id, reason_zh=f"读卡站已连续运行 {zh} 未重启",
                             reason_en=f"the station has run {en} without a reset"),)
    return after, ()


def judge_reader(health: Mapping[str, object], station: Station, now: int, rules: Rules, alarmed: bool
                 ) -> tuple[Decision, ...]:
    """``reader_fault`` from a status' ``reader_ok``; ``alarmed``: it is active for this station."""
    ok = health.get("reader_ok")
    if ok is False and not alarmed:
        zh, en = alarm_text.reader_fault(station)
        return (Raise(type=READER_FAULT, severity=rules.severity_of(READER_FAULT), subject=station.id, tool=None,
                      tag=None, station=station.id, ts=now, text_zh=zh, text_en=en),)
    if ok is True and alarmed:
        return (Clear(type=READER_FAULT, subject=station.id, reason_zh="读卡器已恢复正常",
                      reason_en="the reader answers again"),)
    return ()


def reader_errors(health: Mapping[str, object]) -> int | None:
    """RF errors and chip faults the reader reported (firmware ``reader`` health), if any."""
    reader = health.get("reader")
    if not isinstance(reader, dict):
        return None
    counts = [reader.get(k) for k in ("rf_errors", "chip_faults")]
    numbers = [c for c in counts if isinstance(c, int) and not isinstance(c, bool)]
    return sum(numbers) if numbers else None


def settings_error(health: Mapping[str, object]) -> str | None:
    """Why the station refused its last settings (``docs/fleet.md``: ``{"version","error"}``), in one line:
    ``<version>: <error>``; a plain string as it is."""
    raw = health.get("settings_error")
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and isinstance(raw.get("error"), str):
        version = raw.get("version")
        return f"{version}: {raw['error']}" if isinstance(version, str) and version else raw["error"]
    return None


def watch_from(boots: list[Boot], last: str | None) -> ResetWatch:
    """The watch as the store keeps it: the station's recent boots (oldest first) and its newest boot id."""
    return ResetWatch(last=last, last_at=boots[-1].at if boots else None, boots=tuple(boots))
