"""The rules: pure functions from a tool's step (or a clock tick) to alarm decisions.

One function per alarm type. Nothing here reads a clock, a socket or a disk:
the time and what is known about the stations come in :class:`RuleContext`.

Alarms that rest on *missing* evidence (``unwashed_return``, ``undisinfected_return``,
``overdue``) are only decided when the stations that could hold that evidence are current
(online, with an empty offline buffer); until then the judgement waits, so a
station replaying its buffer late never causes a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edge_gateway.model import alarm_text, toolstate
from edge_gateway.model.toolstate import Step, ToolState, WashCheck
from edge_gateway.model.workshop import RuleException, Rules, Station, Tool, WorkshopConfig
from sebiao_common.domain import FINISHED_COLOR, Location, StationKind, is_raw

FRESH_MS = 60_000  # feedback at the station only for what happened in the last minute


@dataclass(frozen=True, kw_only=True)
class Raise:
    type: str
    severity: str
    subject: str  # tool id, station id, or the tag of an unknown tag
    tool: str | None
    tag: str | None
    station: str | None
    ts: int  # event time of the occurrence
    text_zh: str
    text_en: str
    feedback: bool = False  # tell the station to flash and beep
    late: bool = False


@dataclass(frozen=True, kw_only=True)
class Clear:
    """Automatic clear when the condition has ended (never for latched alarms)."""

    type: str
    subject: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, kw_only=True)
class Excused:
    """A recorded rule exception (seed 六(五)) that stopped an alarm: not raised locally, but sent to the
    cloud as silenced (``raised``: the alarm it stopped), where it counts until the inspector accepts the
    exception (备案)."""

    type: str
    subject: str
    station: str
    reason: str
    raised: Raise | None = None
    exception: RuleException | None = None


Decision = Raise | Clear | Excused


@dataclass(frozen=True, kw_only=True)
class RuleContext:
    config: WorkshopConfig
    now: int  # gateway clock, ms
    current: frozenset[str]  # stations whose evidence is complete (online, buffer empty)

    @property
    def rules(self) -> Rules:
        return self.config.rules

    def zone_current(self, color: str, kinds: tuple[StationKind, ...]) -> bool:
        return all(s.id in self.current for s in self.config.stations
                   if s.zone == color and s.kind in kinds)

    def disinfection_current(self) -> bool:
        """Every station that could prove a disinfection is online with its buffer sent."""
        return all(s.id in self.current for s in self.config.disinfection_stations)


def judge_step(tool: Tool, station: Station, step: Step, ctx: RuleContext
               ) -> tuple[ToolState, tuple[Decision, ...]]:
    """Decisions for one observation of a known tool; may add a pending wash check."""
    fresh = not step.late and ctx.now - step.after.since <= FRESH_MS
    ts = step.after.last_seen if step.late else step.after.since
    decisions: list[Decision] = []
    state = step.after
    action_placed = _placed(step, station)
    # A disinfection station takes washed tools of every colour (one cabinet serves the workshop).
    if action_placed and station.zone != tool.color and station.kind is not StationKind.DISINFECT:
        decisions.append(_cross_zone(tool, station, ts, fresh, step.late, ctx.rules))
    if step.washed_now:
        decisions.append(Clear(type="unwashed_return", subject=tool.id, reason_zh="已在本区清洗池清洗",
                               reason_en="washed at a sink of its colour"))
    if not step.late and station.kind is StationKind.RACK and action_placed:
        decisions.append(Clear(type="overdue", subject=tool.id, reason_zh="已归还", reason_en="returned to a rack"))
        if station.zone == tool.color:
            if station.id == tool.home:
                decisions.append(Clear(type="misplaced", subject=tool.id, reason_zh="已放回固定位置",
                                       reason_en="back at its home rack"))
            else:
                decisions.append(_misplaced(tool, station, ts, fresh, ctx.rules, ctx.config.station(tool.home)))
            # Washing is judged on returns to a rack of the tool's colour; a return
            # to another colour's rack is already the graver cross-zone alarm.
            state, more = _judge_return(tool, station, step, ctx)
            decisions.extend(more)
    return state, tuple(d for d in (_excuse(d, tool, station, ctx.rules) for d in decisions) if d)


def _placed(step: Step, station: Station) -> bool:
    after = step.after
    if step.late:
        return False  # the caller passes late placements through judge_late_placement
    return after.station == station.id and after.location in (Location.ON_RACK, Location.AT_SINK)


def judge_late_placement(tool: Tool, station: Station, ts: int, ctx: RuleContext) -> tuple[Decision, ...]:
    """A late event that put a tool in the wrong zone is still a real misuse, shown without feedback."""
    if station.zone == tool.color or station.kind is StationKind.DISINFECT:
        return ()
    decision = _cross_zone(tool, station, ts, fresh=False, late=True, rules=ctx.rules)
    return tuple(d for d in (_excuse(decision, tool, station, ctx.rules),) if d)


def _cross_zone(tool: Tool, station: Station, ts: int, fresh: bool, late: bool, rules: Rules) -> Raise:
    worst = is_raw(tool.color) and station.zone == FINISHED_COLOR
    if station.kind is StationKind.RACK:
        kind, (zh, en) = "cross_zone", alarm_text.cross_zone(tool, station)
    else:
        kind, (zh, en) = "cross_zone_wash", alarm_text.cross_zone_wash(tool, station)
    severity = rules.severity_of("raw_to_white" if worst else kind)
    return Raise(type=kind, severity=severity, subject=tool.id, tool=tool.id, tag=tool.tag, station=station.id,
                 ts=ts, text_zh=zh, text_en=en, feedback=fresh, late=late)


def _misplaced(tool: Tool, station: Station, ts: int, fresh: bool, rules: Rules, home: Station | None = None
               ) -> Raise:
    zh, en = alarm_text.misplaced(tool, station, home)
    return Raise(type="misplaced", severity=rules.severity_of("misplaced"), subject=tool.id, tool=tool.id,
                 tag=tool.tag, station=station.id, ts=ts, text_zh=zh, text_en=en, feedback=fresh)


def _judge_return(tool: Tool, station: Station, step: Step, ctx: RuleContext
                  ) -> tuple[ToolState, tuple[Decision, ...]]:
    state = step.after
    if not step.judge_return:
        return state, ()
    decisions: list[Decision] = []
    checks: list[WashCheck] = []
    taken = step.before.taken_at or 0
    if not step.before.washed and tool.kind in ctx.rules.wash_required:
        check = WashCheck(taken_at=taken, returned_at=state.since, rack=station.id)
        if ctx.zone_current(tool.color, (StationKind.SINK,)):
            decisions.append(_unwashed(tool, station, check, ctx))
        else:
            checks.append(check)
    if (not step.before.disinfected and tool.kind in ctx.rules.disinfect_required
            and ctx.config.disinfection_stations):
        check = WashCheck(taken_at=taken, returned_at=state.since, rack=station.id, disinfect=True)
        if ctx.disinfection_current():
            decisions.append(_undisinfected(tool, station, check, ctx))
        else:
            checks.append(check)
    if checks:
        state = replace(state, pending=(state.pending + tuple(checks))[-16:])
    return state, tuple(decisions)


def _unwashed(tool: Tool, station: Station, check: WashCheck, ctx: RuleContext, late: bool = False) -> Raise:
    zh, en = alarm_text.unwashed_return(tool, station)
    fresh = not late and ctx.now - check.returned_at <= FRESH_MS
    return Raise(type="unwashed_return", severity=ctx.rules.severity_of("unwashed_return"), subject=tool.id,
                 tool=tool.id, tag=tool.tag, station=station.id, ts=check.returned_at, text_zh=zh, text_en=en,
                 feedback=fresh, late=late)


def _undisinfected(tool: Tool, station: Station, check: WashCheck, ctx: RuleContext, late: bool = False) -> Raise:
    zh, en = alarm_text.undisinfected_return(tool, station)
    fresh = not late and ctx.now - check.returned_at <= FRESH_MS
    return Raise(type="undisinfected_return", severity=ctx.rules.severity_of("undisinfected_return"),
                 subject=tool.id, tool=tool.id, tag=tool.tag, station=station.id, ts=check.returned_at, text_zh=zh,
                 text_en=en, feedback=fresh, late=late)


def judge_cycle_tool(tool: Tool, state: ToolState, hold_start: int, hold_end: int
                     ) -> tuple[ToolState, tuple[Decision, ...]]:
    """A passing disinfection cycle had the tool in it: disinfected, and a return judged before the cycle's
    message came (it comes once the cycle is over) is cleared."""
    after, last_use = toolstate.disinfected(state, hold_start, hold_end)
    if not last_use:
        return after, ()
    return after, (Clear(type="undisinfected_return", subject=tool.id, reason_zh="消毒周期已合格",
                         reason_en="a passing disinfection cycle had it"),)


def judge_unknown_tag(tag: str, station: Station, action: str, ts: int, ctx: RuleContext) -> tuple[Decision, ...]:
    subject = f"tag:{tag}"
    if action == "removed":
        return (Clear(type="unknown_tag", subject=subject, reason_zh="标签已离开",
                      reason_en="the tag has left the reader"),)
    zh, en = alarm_text.unknown_tag(tag, station)
    return (Raise(type="unknown_tag", severity=ctx.rules.severity_of("unknown_tag"), subject=subject, tool=None,
                  tag=tag, station=station.id, ts=ts, text_zh=zh, text_en=en, feedback=ctx.now - ts <= FRESH_MS),)


def judge_tool_tick(tool: Tool, state: ToolState, active: frozenset[tuple[str, str]], ctx: RuleContext
                    ) -> tuple[ToolState, tuple[Decision, ...]]:
    """Clock-driven rules for one tool: pending wash checks and overdue."""
    decisions: list[Decision] = []
    if state.pending:
        ready = {False: ctx.zone_current(tool.color, (StationKind.SINK,)), True: ctx.disinfection_current()}
        for check in state.pending:
            rack = ctx.config.station(check.rack)
            if rack is not None and ready[check.disinfect]:
                judge = _undisinfected if check.disinfect else _unwashed
                decisions.append(judge(tool, rack, check, ctx, late=True))
        if any(ready.values()):
            state = replace(state, pending=tuple(c for c in state.pending if not ready[c.disinfect]))
    limit_ms = ctx.rules.overdue_after_minutes * 60_000
    out = state.location in (Location.OUT, Location.AT_SINK) and state.taken_at is not None
    if (out and ctx.now - (state.taken_at or 0) > limit_ms and ("overdue", tool.id) not in active
            and ctx.zone_current(tool.color, (StationKind.RACK, StationKind.SINK))):
        zh, en = alarm_text.overdue(tool, ctx.rules.overdue_after_minutes)
        decisions.append(Raise(type="overdue", severity=ctx.rules.severity_of("overdue"), subject=tool.id,
                               tool=tool.id, tag=tool.tag, station=state.station,
                               ts=(state.taken_at or 0) + limit_ms, text_zh=zh, text_en=en))
    return state, tuple(decisions)


def _excuse(decision: Decision, tool: Tool, station: Station, rules: Rules) -> Decision | None:
    if not isinstance(decision, Raise):
        return decision
    for exception in rules.exceptions:
        if exception.covers(tool, station.id, decision.type):
            return Excused(type=decision.type, subject=decision.subject, station=station.id, reason=exception.reason,
                           raised=decision, exception=exception)
    return decision
