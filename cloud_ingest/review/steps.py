"""What the review's records with steps share: the machine of states, steps and roles, and a text field checked.

``StepMachine`` is a record's states and the steps between them, with the roles that may take each step
(remote rectification's and the issue ledger's: ``rectification``, ``ledger``); its refusals name the record
in its own words. ``text`` checks one text of a body (a note, a name, an item's text): a string, trimmed,
required or not, bounded; the error names the field. ``only_known`` refuses a body with a field it does not
know, naming the field and those it knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Mapping

from cloud_ingest.errors import BadRequest, Conflict, Forbidden, Unprocessable


@dataclass(frozen=True, kw_only=True)
class StepMachine:
    """The states and steps of one kind of record, as a pure function (``next_state``) with its refusals."""

    kind: str  # in the error of an unknown step ("ledger", "rectification")
    transitions: Mapping[tuple[str | None, str], str]  # (state, step) -> state after; None: not made yet
    roles: Mapping[str, tuple[str, ...]]  # step -> the roles that may take it
    action_zh: Mapping[str, str]
    state_zh: Mapping[str, str]
    record_zh: str  # the record in the refusals' Chinese ("问题")
    none_zh: str  # there is no such record yet ("问题尚未登记")
    record_en: str  # "item", after "there is no"
    a_record_en: str  # "an item", before "that is {state}"
    object_en: str  # "a ledger item", after "may not {step}"

    def next_state(self, state: str | None, action: str, role: str) -> str:
        """The state after ``action`` by ``role``; ``Forbidden`` for the wrong role, ``Conflict`` for the wrong
        state."""
        self.check_role(action, role)
        after = self.transitions.get((state, action))
        if after is None:
            if state is None:
                raise Conflict(self.none_zh, f"there is no {self.record_en} to {action}")
            raise Conflict(f"{self.record_zh}当前{self.state_zh[state]}，不能{self.action_zh[action]}",
                           f"{self.a_record_en} that is {state} cannot be given the step {action}")
        return after

    def check_role(self, action: str, role: str) -> None:
        if action not in self.roles:
            raise ValueError(f"unknown {self.kind} action {action!r}")
        if role not in self.roles[action]:
            raise Forbidden(f"无权{self.action_zh[action]}", f"the role {role} may not {action} {self.object_en} "
                                                             f"(needs {' or '.join(self.roles[action])})")


def text(value: Any, field: str, limit: int, required: bool = True) -> str | None:
    """``value`` as the text of ``field``: a string, trimmed, at most ``limit`` characters; None when blank
    and not ``required``."""
    if value is not None and not isinstance(value, str):
        raise BadRequest(field, "必须是字符串", "must be a string")
    trimmed = (value or "").strip()
    if required and not trimmed:
        raise Unprocessable(f"{field}: 必须填写", f"{field}: is required and may not be blank")
    if len(trimmed) > limit:
        raise BadRequest(field, f"至多 {limit} 字符", f"at most {limit} characters")
    return trimmed or None



def only_known(body: Mapping[str, Any], known: Collection[str]) -> None:
    """``BadRequest`` naming the first field of ``body`` that is not one of ``known``."""
    for key in body:
        if key not in known:
            raise BadRequest(key, "未知字段", f"unknown field (known: {', '.join(sorted(known))})")
