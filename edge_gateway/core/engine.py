"""The workshop engine: the in-memory picture of tools, stations and active alarms.

It applies accepted messages through the pure state machine and rules, writes
what changed to the store (inside the caller's transaction) and returns what to
publish once that transaction has committed. It does no network I/O and reads
no clock: ``now`` comes from the caller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from edge_gateway.core.baseline import Baseline
from edge_gateway.core.coverage import CoverageClock
from edge_gateway.core.owner_day import OwnerDay
from edge_gateway.core.projection import (
    AlarmFact,
    CycleFact,
    EventFact,
    Projection,
    SilencedFact,
    StatusFact,
    TickFact,
)
from edge_gateway.errors import AlarmNotFound, PayloadError
from edge_gateway.model import alarms as lifecycle
from edge_gateway.model import station_health
from edge_gateway.model import stations as station_rules
from edge_gateway.model.alarms import Alarm, HistoryEntry, alarm_json
from edge_gateway.model.day import parse_day
from edge_gateway.model.disinfection import Cycle, judge_cycle
from edge_gateway.model.protocol import (
    StationEvent,
    StationStatus,
    alarm_topic,
    cmd_topic,
    encode_command,
)
from edge_gateway.model.rules import (
    Clear,
    Decision,
    Excused,
    Raise,
    RuleContext,
    judge_cycle_tool,
    judge_late_placement,
    judge_step,
    judge_tool_tick,
    judge_unknown_tag,
)
from edge_gateway.model.station_clock import CLOCK_TOLERANCE_MS, STATION_CLOCK, read_clock
from edge_gateway.model.station_settings import due, parse_station_settings, reported, settings_command, version_of
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import Observation, StationRef, ToolState, apply
from edge_gateway.model.workshop import Station, WorkshopConfig, parse_rules
from edge_gateway.store.writer import Store
from sebiao_common import strict_json
from sebiao_common.domain import Location
from sebiao_common.errors import ConfigError

ACCEPTED_KEY = "accepted_setup"  # meta: the cloud's last accepted rules (core/baseline.py)
BOOTS_LOADED_MS = 24 * 3600 * 1000  # the longest rules.station_health.resets_within_minutes
BOOTS_KEPT_MS = 30 * 24 * 3600 * 1000  # a station's boots the store keeps (the console shows the last 24 h)
PUBLIC_PAGE_KEY = "cloud_public_page"  # meta, + ":<workshop id>": its public page on the cloud (the display's QR)


def public_page_key(workshop: str) -> str:
    """The meta key of ``workshop``'s public page: a data dir reused for another workshop shows none of the first's."""
    return f"{PUBLIC_PAGE_KEY}:{workshop}"


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    topic: str
    payload: bytes
    retain: bool = False


@dataclass
class Outcome:
    """What one batch produced, to publish and count after the commit."""

    messages: list[Outgoing] = field(default_factory=list)
    alarms_raised: list[str] = field(default_factory=list)  # alarm types, for metrics
    rejected: list[str] = field(default_factory=list)  # reasons of the messages kept as dead letters, for metrics
    taken: Counter[str] = field(default_factory=Counter)  # messages applied, by kind ("event", "duplicate", …)
    changed: bool = False  # tool or alarm state changed (for live views)


class Engine:
    def __init__(self, config: WorkshopConfig, store: Store, started_at: int,
                 projections: tuple[Projection, ...] = (), setup_version: int | None = None) -> None:
        """``projections``: each sink's view of the facts (the InfluxDB outbox, the cloud outbox);
        every accepted event, alarm transition, station status and tick reaches each of them
        inside the same transaction; ``setup_version``: the workshop setup's version in force, which each
        silenced alarm names. The cloud's last accepted rules, kept in the store, are read back here."""
        self.config = config
        self.store = store
        self.projections = projections
        self.setup_version = setup_version  # the setup version in force (store/setup_versions.py)
        self.baseline: Baseline | None = None  # the last accepted rules, when they differ (core/baseline.py)
        saved = store.meta(ACCEPTED_KEY)
        if saved is not None:
            self._baseline(strict_json.loads(saved))
        self.ws = config.workshop.id
        self.started_at = started_at
        self.heard: dict[str, int] = {}  # newest message per station, merged into its state at each tick
        # Per station, the newest of its own event times counted (model/station_clock.py): read from the store
        # once, then followed in memory; kept across reload(), since a batch rolled back is applied again.
        self.clock_marks: dict[str, int | None] = {}
        self._refs = {s.id: StationRef(id=s.id, kind=s.kind, zone=s.zone) for s in config.stations}
        self.coverage = CoverageClock()  # today's time with every reader online (the display's claim)
        settings = parse_day(config)  # the opening check and the closing roll call (``day:``), if configured
        self.owner_day = OwnerDay(config, settings, store) if settings is not None else None
        remote = parse_station_settings(config)  # each station's remote settings (station_settings:)
        # (document, version) a station: the version is a hash of the document, made once, not at every status
        self.remote = {sid: (doc, version_of(doc)) for sid, doc in remote.documents} if remote is not None else {}
        self.remote_sent: dict[str, int] = {}  # station -> when its settings were last sent (gateway clock)
        self.reload()
        self._first_sightings()

    def _first_sightings(self) -> None:
        """A tool enrolled while its tag lay on a station has no state of its own: the tag's newest read, when it
        was 'placed' (in that station's field as far as the system saw), is the tool's first observation. Saved,
        so the console, the roll call and the commissioning check find the tool where it lies without the
        installer lifting every enrolled tool again; a tag last seen leaving stays 'unknown' (not seen)."""
        fresh = {t.tag: t.id for t in self.config.tools
                 if t.tag and self.tools[t.id].location is Location.UNKNOWN and self.tools[t.id].since == 0}
        reads = self.store.newest_unknown_reads(tuple(fresh)) if fresh else {}
        seen = [(fresh[tag], self._refs[st], ts) for tag, (st, action, ts) in reads.items()
                if action == "placed" and st in self._refs]
        if not seen:
            return
        with self.store.transaction():
            for tool, ref, ts in seen:
                self.tools[tool] = apply(self.tools[tool], Observation(station=ref, action="placed", ts=ts)).after
                self.store.save_tool(self.tools[tool])

    def reload(self) -> None:
        """Read the whole picture back from the store (start-up, or after a failed commit)."""
        colors = {t.id: t.color for t in self.config.tools}
        saved = self.store.load_tools(colors)
        self.tools: dict[str, ToolState] = {t.id: saved.get(t.id, ToolState(tool=t.id, color=t.color))
                                            for t in self.config.tools}
        known = self.store.load_stations()
        # Silence is measured from when this gateway started listening.
        self.stations: dict[str, StationState] = {
            s.id: replace(known.get(s.id, StationState(id=s.id)),
                          last_seen=max(known[s.id].last_seen if s.id in known else 0, self.started_at))
            for s in self.config.stations}
        self.active: dict[tuple[str, str], Alarm] = self.store.load_active_alarms()
        # Each station's recent boots (model/station_health.py): a day back covers the longest window allowed.
        self.resets = self.store.load_boots(self.started_at - BOOTS_LOADED_MS)
        self.next_id = self.store.next_alarm_id()
        self._current: frozenset[str] | None = None  # cache of stations whose evidence is complete
        if self.owner_day is not None:
            self.owner_day.forget()

    # -- inputs ---------------------------------------------------------------

    def station(self, station_id: str) -> Station:
        station = self.config.station(station_id)
        if station is None:
            raise PayloadError("unknown_station", f"station '{station_id}' is not in the workshop config")
        return station

    def on_event(self, event: StationEvent, payload: bytes, now: int, out: Outcome) -> bool:
        """Apply one decoded event; False when it was a redelivery already applied.

        A PayloadError is raised only before anything is written, so the caller
        can dead-letter the message and go on inside the same transaction.
        """
        station = self.station(event.station)
        clock = read_clock(station, event.ts, now, self._clock_mark(station.id),
                           alarmed=(STATION_CLOCK, station.id) in self.active, rules=self.config.rules)
        ts = clock.ts
        tool = self.config.tool_by_tag(event.tag)
        event_id = self.store.insert_event(event.station, event.boot, event.seq, ts, event.ts, now, event.tag,
                                           event.action, tool.id if tool else None, payload)
        if event_id is None:
            if self.store.stored_payload(*event.key) != payload:
                raise PayloadError("replay", f"(station, boot, seq) {event.key} was already used "
                                             "for a different event")
            return False
        if clock.trusted:
            self.clock_marks[station.id] = max(ts, self.clock_marks.get(station.id) or ts)
        self._station_heard(station, now, out)
        if clock.decision is not None:
            self._decide((clock.decision,), now, out)
        ctx = self._context(now)
        if tool is None:
            if clock.note:
                self.store.annotate_event(event_id, False, clock.note)
            self._project_event(EventFact(station=station, tool=None, action=event.action, ts=ts, tag=event.tag,
                                          boot=event.boot, seq=event.seq, received_at=now, late=False,
                                          note=clock.note))
            self._decide(judge_unknown_tag(event.tag, station, event.action, ts, ctx), now, out)
            return True
        step = apply(self.tools[tool.id], Observation(station=self._refs[station.id], action=event.action, ts=ts),
                     self.config.rules.wash_min_seconds * 1000)
        state, decisions = judge_step(tool, station, step, ctx)
        if step.late and event.action == "placed":
            decisions += judge_late_placement(tool, station, ts, ctx)
        if self.baseline is not None:
            self._silence(self.baseline.step(tool, station, step, ctx, decisions), now)
        self.tools[tool.id] = state
        self.store.save_tool(state)
        notes = [clock.note, step.repair] + [f"exception: {d.reason}" for d in decisions if isinstance(d, Excused)]
        note = "; ".join(n for n in notes if n) or None
        if step.late or note:
            self.store.annotate_event(event_id, step.late, note)
        self._project_event(EventFact(station=station, tool=tool, action=event.action, ts=ts, tag=event.tag,
                                      boot=event.boot, seq=event.seq, received_at=now, late=step.late, note=note))
        self._decide(decisions, now, out)
        out.changed = True
        return True

    def on_status(self, status: StationStatus, health_json: str, now: int, out: Outcome) -> None:
        station = self.station(status.station)
        state, decisions = station_rules.on_status(self.stations[station.id], status, health_json, station,
                                                   now, self.config.rules)
        self._set_station(state)
        self._status_point(state, "status", now, status.health, self._station_health(station, status.health, now, out))
        self._decide(decisions, now, out)
        self._settings(station.id, state.online, status.health, now, out)

    def _settings(self, station_id: str, online: bool, health: Mapping[str, object], now: int, out: Outcome) -> None:
        """A station reporting another settings version than the config's gets its document (published after
        the batch commits, at most once a minute: model/station_settings.py)."""
        if station_id not in self.remote:
            return
        doc, version = self.remote[station_id]
        running, refused = reported(dict(health))
        if not due(desired=version, running=running, refused=refused, online=online,
                   last_sent=self.remote_sent.get(station_id), now=now):
            return
        self.remote_sent[station_id] = now
        out.messages.append(Outgoing(topic=cmd_topic(self.ws, station_id), payload=settings_command(doc)))

    def on_cycle(self, cycle: Cycle, payload: bytes, now: int, out: Outcome) -> bool | None:
        """Judge and keep one cycle of a probed station; whether it passed, None for a redelivery.

        The tools in it are those placed at the station before the hold began and not removed
        before it ended (of a cycle that failed: the whole cycle); a passing cycle disinfects them.
        While the station's clock is known wrong (``station_clock`` active) its cycle's times cannot be set
        beside its events: the cycle is kept and judged, but it disinfects no tool."""
        station = self.station(cycle.station)
        if not station.proves_disinfection or station.method is None:
            raise PayloadError("bad_topic", f"station '{station.id}' has no temperature probe in the workshop "
                                            "config (a disinfect station, or a sink with probe: true)")
        verdict = judge_cycle(cycle, station.method, self.config.rules.threshold(station.method))
        start, end = verdict.window(cycle)
        clock_wrong = (STATION_CLOCK, station.id) in self.active
        tools = () if clock_wrong else self.store.tools_at(station.id, start, end)
        if not self.store.insert_cycle(cycle, verdict, tools, now, payload):
            if self.store.stored_cycle(*cycle.key) != payload:
                raise PayloadError("replay", f"(station, boot, seq) {cycle.key} was already used for another cycle")
            return None
        self._station_heard(station, now, out)
        if verdict.passed:
            for tool_id in tools:
                tool = self.config.tool(tool_id)
                if tool is None:
                    continue
                state, decisions = judge_cycle_tool(tool, self.tools[tool_id], start, end)
                if state != self.tools[tool_id]:
                    self.tools[tool_id] = state
                    self.store.save_tool(state)
                self._decide(decisions, now, out)
        fact = CycleFact(station=station, cycle=cycle, verdict=verdict, tools=tools, received_at=now)
        for projection in self.projections:
            projection.cycle(fact)
        out.changed = True
        return verdict.passed

    def tick(self, now: int, out: Outcome) -> None:
        for station in self.config.stations:
            before = self.stations[station.id]
            if self.heard.get(station.id, 0) > before.last_seen:
                before = replace(before, last_seen=self.heard[station.id])
                self.stations[station.id] = before
            state, decisions = station_rules.on_tick(before, station, now, self.config.rules)
            if state != self.stations[station.id]:
                self._set_station(state)
                if state.online != before.online:
                    self._status_point(state, "silence", now)
            self._decide(decisions, now, out)
            watch, decisions = station_health.on_tick(self.resets.get(station.id, station_health.ResetWatch()), station,
                                                      now, self.config.rules,
                                                      (station_health.STATION_RESETS, station.id) in self.active)
            self.resets[station.id] = watch
            self._decide(decisions, now, out)
        self.coverage.tick(now, all(s.online for s in self.stations.values()), self.store)
        ctx = self._context(now)
        keys = frozenset(self.active)
        for tool in self.config.tools:
            before = self.tools[tool.id]
            state, decisions = judge_tool_tick(tool, before, keys, ctx)
            if self.baseline is not None:
                self._silence(self.baseline.tick(tool, before, keys, ctx, decisions), now)
            if state != before:
                self.tools[tool.id] = state
                self.store.save_tool(state)
            self._decide(decisions, now, out)
        if self.owner_day is not None:
            self._decide(self.owner_day.tick(now, self.tools, self.stations, frozenset(self.active)), now, out)
        if self.projections:
            fact = TickFact(now=now, stations=tuple((s, self.stations[s.id]) for s in self.config.stations),
                            tools=tuple(self.tools.values()))
            for projection in self.projections:
                projection.tick(fact)

    def gateway_alarm(self, decision: Raise | Clear, now: int, out: Outcome) -> None:
        """Raise or clear an alarm about the gateway itself (the InfluxDB outbox's health)."""
        self._decide((decision,), now, out)

    def accepted_setup(self, doc: object, now: int, out: Outcome) -> bool:
        """The cloud's last accepted rules (``{"version": n | null, "rules": {...}}``), kept in the store and
        judged under from now on; False when they do not fit this config (then nothing is judged twice)."""
        text = strict_json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if self.store.meta(ACCEPTED_KEY) != text:
            self.store.set_meta(ACCEPTED_KEY, text)
        return self._baseline(doc)

    def _baseline(self, doc: object) -> bool:
        try:
            if not isinstance(doc, dict) or not isinstance(doc.get("version"), (int, type(None))):
                raise ConfigError("accepted setup", "version", "must be an integer or null")
            rules = parse_rules(doc.get("rules"), self.config)
        except ConfigError:
            self.baseline = None
            return False
        same = rules == self.config.rules  # the owner relaxed nothing: no second judgement
        self.baseline = None if same else Baseline(config=replace(self.config, rules=rules), version=doc["version"])
        return True

    def _silence(self, raised: list[Raise], now: int) -> None:
        for r in raised:
            fact = SilencedFact(raised=r, exception=None, setup_version=self.setup_version, now=now, relaxed=True,
                                accepted_version=self.baseline.version if self.baseline else None)
            for projection in self.projections:
                projection.silenced(fact)

    def acknowledge(self, alarm_id: int, by: str, comment: str | None, now: int, out: Outcome) -> Alarm:
        alarm, entry = lifecycle.acknowledge(self._alarm(alarm_id), by, comment, now)
        self._store_alarm(alarm, entry, out)
        return alarm

    def clear(self, alarm_id: int, by: str, comment: str | None, now: int, out: Outcome) -> Alarm:
        alarm, entry = lifecycle.clear(self._alarm(alarm_id), by, comment, now)
        self._store_alarm(alarm, entry, out)
        if alarm.station and alarm.latched:
            self._feedback(alarm.station, "clear", alarm, out)
        return alarm

    # -- internals -----------------------------------------------------------

    def _alarm(self, alarm_id: int) -> Alarm:
        for alarm in self.active.values():
            if alarm.id == alarm_id:
                return alarm
        alarm = self.store.load_alarm(alarm_id)
        if alarm is None:
            raise AlarmNotFound(f"没有编号为 {alarm_id} 的报警 / alarm {alarm_id} does not exist")
        return alarm

    def _context(self, now: int) -> RuleContext:
        if self._current is None:
            self._current = frozenset(sid for sid, s in self.stations.items() if s.current)
        return RuleContext(config=self.config, now=now, current=self._current)

    def _clock_mark(self, station_id: str) -> int | None:
        if station_id not in self.clock_marks:
            self.clock_marks[station_id] = self.store.clock_mark(station_id, CLOCK_TOLERANCE_MS)
        return self.clock_marks[station_id]

    def _station_heard(self, station: Station, now: int, out: Outcome) -> None:
        # The silence timer only needs the newest time in memory (start-up resets
        # it anyway): persisting it on every event would double the writes.
        self.heard[station.id] = now
        state = self.stations[station.id]
        if not state.online or state.alarmed:
            state, decisions = station_rules.on_message(state, station, now)
            self._set_station(state)
            self._decide(decisions, now, out)

    def _station_health(self, station: Station, health: Mapping[str, object], now: int, out: Outcome
                        ) -> station_health.Boot | None:
        """A status' boot (a new one is recorded, and may raise ``station_resets``) and its ``reader_ok``; the new
        boot it showed, if any."""
        rules = self.config.rules
        watch, boot, decisions = station_health.on_status(self.resets.get(station.id, station_health.ResetWatch()),
                                                          health, station, now, rules)
        self.resets[station.id] = watch
        if boot is not None:
            self.store.record_boot(station.id, boot, BOOTS_KEPT_MS)
        self._decide(decisions + station_health.judge_reader(
            health, station, now, rules, (station_health.READER_FAULT, station.id) in self.active), now, out)
        return boot

    def _set_station(self, state: StationState) -> None:
        self.stations[state.id] = state
        self._current = None
        self.store.save_station(state)

    def _decide(self, decisions: tuple[Decision, ...], now: int, out: Outcome) -> None:
        for decision in decisions:
            if isinstance(decision, Raise):
                self._raise(decision, now, out)
            elif isinstance(decision, Clear):
                self._auto_clear(decision, now, out)
            elif decision.raised is not None and decision.exception is not None:
                fact = SilencedFact(raised=decision.raised, exception=decision.exception,
                                    setup_version=self.setup_version, now=now)
                for projection in self.projections:
                    projection.silenced(fact)

    def _raise(self, decision: Raise, now: int, out: Outcome) -> None:
        key = (decision.type, decision.subject)
        active = self.active.get(key)
        alarm, entry = lifecycle.occur(active, decision, self.next_id, now)
        if active is None:
            self.next_id += 1
            out.alarms_raised.append(alarm.type)
        self._store_alarm(alarm, entry, out)
        if decision.feedback and decision.station:
            self._feedback(decision.station, "misuse", alarm, out)

    def _auto_clear(self, decision: Clear, now: int, out: Outcome) -> None:
        active = self.active.get((decision.type, decision.subject))
        if active is None:
            return
        result = lifecycle.auto_clear(active, decision, now)
        if result is not None:
            self._store_alarm(*result, out)

    def _project_event(self, fact: EventFact) -> None:
        for projection in self.projections:
            projection.event(fact)

    def _status_point(self, state: StationState, report: str, now: int,
                      health: Mapping[str, object] | None = None, boot: station_health.Boot | None = None) -> None:
        fact = StatusFact(station=self.station(state.id), state=state, report=report, now=now, health=health,
                          boot=boot)
        for projection in self.projections:
            projection.status(fact)

    def _store_alarm(self, alarm: Alarm, entry: HistoryEntry, out: Outcome) -> None:
        history_id = self.store.save_alarm(alarm, entry)
        if alarm.state == "active":
            self.active[alarm.key] = alarm
        else:
            self.active.pop(alarm.key, None)
        picture = alarm_json(alarm, self.ws)
        fact = AlarmFact(alarm=alarm, entry=entry, history_id=history_id, picture=picture)
        for projection in self.projections:
            projection.alarm(fact)
        payload = strict_json.dumps(picture, ensure_ascii=False, separators=(",", ":")).encode()
        out.messages.append(Outgoing(topic=alarm_topic(self.ws), payload=payload))
        out.changed = True

    def _feedback(self, station_id: str, pattern: str, alarm: Alarm, out: Outcome) -> None:
        out.messages.append(Outgoing(topic=cmd_topic(self.ws, station_id), payload=encode_command(
            "feedback", pattern=pattern, alarm=alarm.id, type=alarm.type, severity=alarm.severity,
            tool=alarm.tool)))
