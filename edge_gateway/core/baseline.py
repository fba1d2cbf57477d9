"""Judging under the last accepted rules: the alarms a relaxed requirement silenced.

The owner's config is what the gateway applies. When its rules relax a
requirement the district's inspector has not accepted (a kind taken out of
``wash_required``, a longer ``overdue_after_minutes``: ``docs/cloud-ingest.md``,
"The setup as evidence"), the alarms it silences are never judged, so nobody
could count them. The cloud sends back the rules of the newest accepted setup
(the seed's before any); each step and tick is then judged a second time under
them, and what that judgement raises and the owner's does not is sent to the
cloud as silenced (never shown locally, never changing the tool's state).

A second judgement only where it can decide at once: a wash check that would
wait for a sink's buffer under the accepted rules is not followed, and an
overdue is silenced once per outing of the tool. Recorded exceptions are
handled where they apply (``Excused``), not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from edge_gateway.model.rules import Decision, Excused, Raise, RuleContext, judge_step, judge_tool_tick
from edge_gateway.model.toolstate import Step, ToolState
from edge_gateway.model.workshop import Station, Tool, WorkshopConfig


@dataclass
class Baseline:
    config: WorkshopConfig  # the workshop's config with the accepted rules
    version: int | None  # the accepted setup version; None: the seed's rules (nothing accepted yet)
    _overdue: dict[str, int] = field(default_factory=dict)  # tool -> the outing (taken_at) already silenced

    def _ctx(self, ctx: RuleContext) -> RuleContext:
        return replace(ctx, config=self.config)

    def step(self, tool: Tool, station: Station, step: Step, ctx: RuleContext,
             decisions: tuple[Decision, ...]) -> list[Raise]:
        _, shadow = judge_step(tool, station, step, self._ctx(ctx))
        return _only_in(shadow, decisions)

    def tick(self, tool: Tool, before: ToolState, active: frozenset[tuple[str, str]], ctx: RuleContext,
             decisions: tuple[Decision, ...]) -> list[Raise]:
        outing = before.taken_at
        if outing is not None and self._overdue.get(tool.id) == outing:
            active = active | {("overdue", tool.id)}
        _, shadow = judge_tool_tick(tool, replace(before, pending=()), active, self._ctx(ctx))
        found = [r for r in _only_in(shadow, decisions) if r.type == "overdue"]
        if found and outing is not None:
            self._overdue[tool.id] = outing
        return found


def _only_in(shadow: tuple[Decision, ...], decisions: tuple[Decision, ...]) -> list[Raise]:
    """What the accepted rules raise that the owner's neither raise nor excuse (an exception sends its own)."""
    seen = {(d.type, d.subject) for d in decisions if isinstance(d, (Raise, Excused))}
    return [d for d in shadow if isinstance(d, Raise) and (d.type, d.subject) not in seen]
