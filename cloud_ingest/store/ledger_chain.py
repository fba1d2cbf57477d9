"""The issue ledger and the improvement plans against the evidence chain: what their pages show is what was
chained (``sebiao cloud verify``, after ``coverage``, whose generic check covers ``ledger_steps``).

- ``ledger_items``: every row has its ``ledger_item`` entry, the row's fact when it was made; the columns
  that never change afterwards (all but ``state``, ``updated_at``, ``closed_by``, ``closed_at``) must still
  be those. An item that is not an alarm's has the state of its newest step entry (``ledger_*``), and
  ``closed_by``/``closed_at`` of that step when it closed it (an alarm's item's state is its rectification's,
  which ``coverage`` checks with the alarm). A row without an entry (written behind the app's back) and an
  entry whose row is gone (deleted) are named;
- ``improvement_plans``, ``plan_goals``: every row is the row of its newest ``plan`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table

from cloud_ingest.store.coverage import Problems, fact, kind_entries
from cloud_ingest.store.row_entries import Subject, changed, differs, rows_held
from cloud_ingest.store.schema import improvement_plans, ledger_items, plan_goals

STEPS = ("ledger_open", "ledger_answer", "ledger_close", "ledger_return")
KINDS = ("ledger_item", "plan", *STEPS)
FIXED = tuple(c.name for c in ledger_items.columns if c.name not in ("state", "updated_at", "closed_by", "closed_at"))
PLAN_TABLES: dict[str, Table] = {"summary": improvement_plans, "goal": plan_goals}


@dataclass(kw_only=True)
class Findings(Problems):
    items: int = 0
    plan_rows: int = 0

    def covered(self) -> str:
        return (f"问题台账与证据链一致：{self.items} 项问题，{self.plan_rows} 行计划 / the issue ledger matches the "
                f"chain: {self.items} items, {self.plan_rows} plan rows")


ITEM = Subject(zh="问题 {} ", en="ledger item {}", en_many="ledger items {}")


def check(conn: Connection, chunk: int = 2000) -> Findings:
    found = Findings()
    made: dict[int, tuple[int, dict]] = {}
    newest: dict[int, tuple[int, dict]] = {}  # item id -> its newest step entry's row
    plans: dict[tuple[str, int], tuple[int, dict]] = {}
    for seq, kind, body in kind_entries(conn, KINDS, chunk):
        try:
            row = dict(body["row"])
            if kind == "ledger_item":
                made[int(row["id"])] = (seq, row)
            elif kind == "plan":
                plans[(PLAN_TABLES[body["what"]].name, int(row["id"]))] = (seq, row)
            else:
                newest[int(row["item_id"])] = (seq, row)
        except (KeyError, TypeError, ValueError):
            found.add(f"第 {seq} 条的内容无法读取", f"entry {seq}: its body is not of its kind's form")
    _items(conn, found, made, newest)
    for table in PLAN_TABLES.values():
        _plan_rows(conn, found, table, plans)
    return found


def _items(conn: Connection, found: Findings, made: dict[int, tuple[int, dict]],
           newest: dict[int, tuple[int, dict]]) -> None:
    for row, (seq, then) in rows_held(conn, found, ledger_items, made, ITEM):
        wrong = changed(fact(ledger_items, row._mapping), then, FIXED)
        if wrong:
            differs(found, ITEM, row.id, seq, wrong, "stored")
            continue
        if row.rectification_id is None:
            step = newest.get(row.id)
            state = step[1].get("state") if step else None
            closed = (step[1].get("user_id"), step[1].get("at")) if step and state == "closed" else (None, None)
            if (row.state, row.closed_by, row.closed_at) != (state, *closed):
                found.add(f"问题 {row.id} 的状态与证据不符", f"ledger item {row.id}: its state or closing differs "
                          f"from its newest step entry {step[0] if step else '(none)'}")
                continue
        found.items += 1


def _plan_rows(conn: Connection, found: Findings, table: Table, plans: dict[tuple[str, int], tuple[int, dict]]) -> None:
    held = {i: entry for (name, i), entry in plans.items() if name == table.name}
    subject = Subject(zh=f"{table.name} 第 {{}} 行", en=f"{table.name} row {{}}", en_many=f"{table.name} rows {{}}")
    for row, (seq, then) in rows_held(conn, found, table, held, subject):
        now = fact(table, row._mapping)
        if now != then:
            found.add(f"{table.name} 第 {row.id} 行与证据第 {seq} 条不符（{changed(now, then)}）",
                      f"{table.name} row {row.id} differs from evidence entry {seq} ({changed(now, then)}): changed "
                      "after it was stored")
        else:
            found.plan_rows += 1
