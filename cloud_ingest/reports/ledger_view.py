"""The issue ledger as the reports read it: each alarm of a period with its rectification and ledger item,
and each workshop's open and overdue items.

An alarm's ledger item is its rectification (``review.ledger``): the item's state is the rectification's,
named by the ledger's words (requested → open, accepted → closed) and its deadline the rectification's.
``review.ledger`` reads states, deadlines and overdue items by the SQL below too (one definition).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, literal, select
from sqlalchemy.sql import ColumnElement

from cloud_ingest.store.schema import alarms, ledger_items, rectifications

FROM_RECT_STATE = {"requested": "open", "answered": "answered", "returned": "returned", "accepted": "closed"}
LEDGER_STATE_TEXT = {"open": "待答复 / open", "answered": "待审核 / answered", "returned": "已退回 / sent back",
                     "closed": "已销号 / closed"}
MAX_LINES = 500  # alarms listed in one report; more are counted, not listed

item_state: ColumnElement[str] = func.coalesce(
    ledger_items.c.state, case(*((rectifications.c.state == k, literal(v)) for k, v in FROM_RECT_STATE.items())))
item_due: ColumnElement[int] = func.coalesce(ledger_items.c.due_at, rectifications.c.due_at)


def overdue_clause(now: int) -> ColumnElement[bool]:
    return and_(item_due.is_not(None), item_due < now, item_state != "closed")


@dataclass(frozen=True)
class AlarmLine:
    """An alarm raised in the period; ``item``/``state``/``due``: its ledger item, None without a rectification."""

    alarm_id: int
    type: str
    severity: str
    station: str | None
    tool: str | None
    raised_at: int
    cleared: bool  # the workshop's state: cleared, else still active
    item: int | None = None
    state: str | None = None  # open | answered | returned | closed
    due: int | None = None
    overdue: bool = False

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in LEDGER_STATE_TEXT:
            raise ValueError(f"not a ledger state: {self.state!r}")
        if (self.item is None) != (self.state is None):
            raise ValueError("a ledger item has a state, and only an item has one")

    def json(self) -> dict:
        return {"alarm": self.alarm_id, "type": self.type, "severity": self.severity, "station": self.station,
                "tool": self.tool, "raised_at": self.raised_at, "state": "cleared" if self.cleared else "active",
                "ledger": None if self.item is None else {"item": self.item, "state": self.state, "due": self.due,
                                                          "overdue": self.overdue}}


def alarm_lines(conn: Connection, workshop_id: str, start: int, end: int, now: int) -> tuple[tuple[AlarmLine, ...],
                                                                                           int]:
    """The alarms raised in [start, end), oldest first, each with its newest rectification's ledger item
    (at most ``MAX_LINES``), and how many alarms were raised in all."""
    newest = (select(rectifications.c.alarm_id, func.max(rectifications.c.id).label("id"))
              .where(rectifications.c.workshop_id == workshop_id).group_by(rectifications.c.alarm_id).subquery())
    q = (select(alarms.c.id, alarms.c.type, alarms.c.severity, alarms.c.station, alarms.c.tool, alarms.c.raised_at,
                alarms.c.state, ledger_items.c.id.label("item"), item_state.label("item_state"),
                item_due.label("due"))
         .select_from(alarms.outerjoin(newest, newest.c.alarm_id == alarms.c.id)
                      .outerjoin(rectifications, rectifications.c.id == newest.c.id)
                      .outerjoin(ledger_items, ledger_items.c.rectification_id == rectifications.c.id))
         .where(alarms.c.workshop_id == workshop_id, alarms.c.raised_at >= start, alarms.c.raised_at < end))
    total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    lines = tuple(
        AlarmLine(r.id, r.type, r.severity, r.station, r.tool, r.raised_at, r.state == "cleared", r.item,
                  r.item_state if r.item is not None else None, r.due,
                  r.item is not None and r.due is not None and r.due < now and r.item_state != "closed")
        for r in conn.execute(q.order_by(alarms.c.raised_at, alarms.c.id).limit(MAX_LINES)))
    return lines, total


@dataclass(frozen=True)
class LedgerCounts:
    open: int = 0  # items not closed
    overdue: int = 0  # items not closed past their deadline


def ledger_counts(conn: Connection, workshop_ids: list[str], now: int) -> dict[str, LedgerCounts]:
    """Each workshop's items not closed and those overdue at ``now``, in one grouped query."""
    q = (select(ledger_items.c.workshop_id,
                func.sum(case((item_state != "closed", 1), else_=0)).label("open"),
                func.sum(case((overdue_clause(now), 1), else_=0)).label("overdue"))
         .select_from(ledger_items.outerjoin(rectifications, rectifications.c.id == ledger_items.c.rectification_id))
         .where(ledger_items.c.workshop_id.in_(workshop_ids)).group_by(ledger_items.c.workshop_id))
    return {r.workshop_id: LedgerCounts(int(r.open or 0), int(r.overdue or 0)) for r in conn.execute(q)}
