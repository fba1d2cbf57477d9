"""A workshop's setup read as the regulator reads it (pure: setups in, findings out; no database, no clock).

A setup is what the gateway sends (``docs/cloud-ingest.md``, "The setup as
evidence"): ``{"stations": [...], "tools": [...], "rules": {...}}``, every
field of the gateway's parsed config. Three readings:

- ``diff``: what changed between two versions, one line per field, for the
  inspector's history (a list of objects with an ``id`` is compared by id,
  other lists as sets of their members);
- ``relaxations``: the changes that make an alarm less likely, judged against
  the last version an inspector accepted (备案), or against the seed's rules
  before any was: a new exception; a kind no longer in a ``*_required`` list
  (``wash_required``, ``disinfect_required``) or a ``*_required`` switch
  turned off; a longer ``overdue_after_minutes`` or
  ``station_offline_after_seconds``; a shorter ``*_min_seconds``
  (``wash_min_seconds``); in ``station_health`` more ``resets``, a shorter
  ``resets_within_minutes`` or ``resets_quiet_minutes``; a lower severity; a tool or station removed, or a
  tool's tag removed (what is not read cannot raise);
- ``progress``: the seed's deadline (2026-11-30): tools marked (``marking``
  labelled or replaced) and tagged, out of all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sebiao_common import strict_json
from sebiao_common.alarms import SEVERITIES

DEADLINE = date(2026, 11, 30)  # seed: every workshop's labelling or replacement done
# The seed's rules as the gateway applies them without a rules section: the baseline before any acceptance.
SEED_RULES: dict[str, Any] = {
    "overdue_after_minutes": 240,
    "station_offline_after_seconds": 90,
    "wash_required": ["brush", "cloth", "container", "cutting_board", "knife", "scissors"],  # 六(三): cloths too
    "wash_min_seconds": 15,  # the gateway's default dwell
    "exceptions": [],
}
LONGER_RELAXES = ("overdue_after_minutes", "station_offline_after_seconds")  # a later alarm is a rarer one
# rules.station_health: more resets before the alarm, a shorter window for them, a shorter quiet before it clears
HEALTH_RELAXES = (("resets", True), ("resets_within_minutes", False), ("resets_quiet_minutes", False))
REPLACE_KINDS = ("cutting_board", "cloth", "container")  # seed: a partial label first, then a new item
MARKED = ("labelled", "replaced")


@dataclass(frozen=True, kw_only=True)
class Change:
    path: str  # e.g. ``rules.overdue_after_minutes``, ``tools[KN-R-01].tag``, ``rules.exceptions``
    before: Any  # None: absent
    after: Any  # None: absent


@dataclass(frozen=True, kw_only=True)
class Relaxation:
    path: str
    before: Any
    after: Any
    zh: str
    en: str


def _key(value: Any) -> str:
    return strict_json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """Every field that differs, by path; a list of members without ids gives one change of what left and
    what came (``before``: the members removed, ``after``: those added)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for k in sorted(set(old) | set(new)):
            out += diff(old.get(k), new.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(old, list) and isinstance(new, list):
        if all(isinstance(v, dict) and "id" in v for v in old + new):
            a, b = {v["id"]: v for v in old}, {v["id"]: v for v in new}
            out = []
            for k in [*a, *(k for k in b if k not in a)]:
                out += diff(a.get(k), b.get(k), f"{path}[{k}]")
            return out
        a_keys, b_keys = {_key(v): v for v in old}, {_key(v): v for v in new}
        gone = [v for k, v in a_keys.items() if k not in b_keys]
        came = [v for k, v in b_keys.items() if k not in a_keys]
        return [Change(path=path, before=gone, after=came)] if gone or came else []
    if _key(old) == _key(new):
        return []
    return [Change(path=path, before=old, after=new)]


def relaxations(accepted: dict[str, Any] | None, new: dict[str, Any]) -> list[Relaxation]:
    """What ``new`` relaxes against ``accepted`` (None: the seed's rules, no tools or stations yet)."""
    base_rules = accepted["rules"] if accepted is not None else SEED_RULES
    rules = new.get("rules") or {}
    out: list[Relaxation] = []
    known = {_key(e) for e in base_rules.get("exceptions") or []}
    for e in rules.get("exceptions") or []:
        if _key(e) not in known:
            where = e.get("tool") or e.get("color") or ""
            out.append(Relaxation(path="rules.exceptions", before=None, after=e,
                                  zh=f"新增例外：{e.get('station')} {where} — {e.get('reason')}",
                                  en=f"a new exception: {e.get('station')} {where} — {e.get('reason')}"))
    for name in sorted(set(base_rules) | set(rules)):
        before, after = base_rules.get(name), rules.get(name)
        if before is None or name == "exceptions":
            continue
        out += _rule(name, before, after)
    if accepted is not None:
        out += _removed(accepted, new)
    return out


def _rule(name: str, before: Any, after: Any) -> list[Relaxation]:
    path = f"rules.{name}"
    if name.endswith("_required") and isinstance(before, list):
        gone = sorted(set(before) - set(after or []))
        return [Relaxation(path=path, before=before, after=after, zh=f"{name} 不再要求：{', '.join(gone)}",
                           en=f"{name} no longer requires: {', '.join(gone)}")] if gone else []
    if name.endswith("_required") and before is True and after is not True:
        return [Relaxation(path=path, before=before, after=after, zh=f"{name} 已关闭", en=f"{name} turned off")]
    if isinstance(before, int) and not isinstance(before, bool):
        if isinstance(after, int) and ((name in LONGER_RELAXES and after > before)
                                       or ("_min_" in name and after < before)):
            return [Relaxation(path=path, before=before, after=after, zh=f"{name}：{before} → {after}",
                               en=f"{name}: {before} → {after}")]
        if after is None and "_min_" in name:
            return [Relaxation(path=path, before=before, after=None, zh=f"{name} 已删除", en=f"{name} removed")]
    if name == "station_health" and isinstance(before, dict) and isinstance(after, dict):
        return [Relaxation(path=f"{path}.{k}", before=before[k], after=after[k],
                           zh=f"{name}.{k}：{before[k]} → {after[k]}", en=f"{name}.{k}: {before[k]} → {after[k]}")
                for k, more in HEALTH_RELAXES if isinstance(before.get(k), int) and isinstance(after.get(k), int)
                and (after[k] > before[k] if more else after[k] < before[k])]
    if name == "severity" and isinstance(before, dict) and isinstance(after, dict):
        rank = {s: i for i, s in enumerate(SEVERITIES)}  # most severe first
        lower = sorted(k for k in before if k in after and rank.get(after[k], 0) > rank.get(before[k], 0))
        return [Relaxation(path=f"{path}.{k}", before=before[k], after=after[k],
                           zh=f"严重程度降低：{k} {before[k]} → {after[k]}",
                           en=f"severity lowered: {k} {before[k]} → {after[k]}") for k in lower]
    return []


def _removed(accepted: dict[str, Any], new: dict[str, Any]) -> list[Relaxation]:
    out = []
    for part, zh in (("stations", "读卡站"), ("tools", "器具")):
        now = {v.get("id"): v for v in new.get(part) or []}
        for old in accepted.get(part) or []:
            if old.get("id") not in now:
                out.append(Relaxation(path=f"{part}[{old.get('id')}]", before=old, after=None,
                                      zh=f"已删除{zh} {old.get('id')}", en=f"{part[:-1]} {old.get('id')} removed"))
            elif part == "tools" and old.get("tag") and not now[old.get("id")].get("tag"):
                out.append(Relaxation(path=f"tools[{old.get('id')}].tag", before=old.get("tag"), after=None,
                                      zh=f"器具 {old.get('id')} 已无标签，不再跟踪",
                                      en=f"tool {old.get('id')} has no tag any more: no longer tracked"))
    return out


@dataclass(frozen=True, kw_only=True)
class Progress:
    """The seed's deadline for one setup: tools marked (labelled or replaced) and tagged, out of all."""

    tools: int
    marked: int
    tagged: int
    to_replace: int  # boards, cloths, containers only partly labelled: still to be replaced by one of the colour
    marked_late: int  # marked after the deadline (``marked_on``)
    today: date

    @property
    def done(self) -> bool:
        return self.tools > 0 and self.marked == self.tools

    @property
    def state(self) -> str:
        """``done`` (all marked by the deadline), ``late`` (all marked, some after it), ``behind`` (not all,
        the deadline passed), ``in_progress`` (not all, before the deadline)."""
        if self.done:
            return "late" if self.marked_late else "done"
        return "behind" if self.today > DEADLINE else "in_progress"


STATE_WORDS = {"done": ("2026-11-30 前完成", "done by 2026-11-30"), "late": ("逾期完成", "done after 2026-11-30"),
               "behind": ("逾期未完成", "behind: not done by 2026-11-30"), "in_progress": ("进行中", "in progress")}
STATE_TEXT = {k: f"{zh} / {en}" for k, (zh, en) in STATE_WORDS.items()}


def progress(setup: dict[str, Any], today: date) -> Progress:
    tools = setup.get("tools") or []
    marked = [t for t in tools if t.get("marking") in MARKED]
    late = [t for t in marked if isinstance(t.get("marked_on"), str) and t["marked_on"] > DEADLINE.isoformat()]
    return Progress(tools=len(tools), marked=len(marked), tagged=sum(1 for t in tools if t.get("tag")),
                    to_replace=sum(1 for t in marked if t.get("kind") in REPLACE_KINDS
                                   and t.get("marking") == "labelled"),
                    marked_late=len(late), today=today)
