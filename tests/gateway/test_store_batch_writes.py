"""The rows a transaction keeps back until its commit (``Store._flush``): the tools' newest state once, the
outboxes' lines in order with the alarm transition's own id, and nothing of a rolled-back transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.model.toolstate import ToolState
from edge_gateway.store.writer import Store

T0 = 1_700_000_000_000


def tool(tool_id: str, last_seen: int) -> ToolState:
    return ToolState(tool=tool_id, color="red", last_seen=last_seen)


def test_a_tool_saved_many_times_in_a_transaction_is_one_row_with_its_newest_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite3")
    with store.transaction():
        for n in range(5):
            store.save_tool(tool("KN-R-01", T0 + n))
        store.save_tool(tool("KN-B-01", T0))
    rows = store.conn.execute("SELECT id, last_seen FROM tools ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("KN-B-01", T0), ("KN-R-01", T0 + 4)]


def test_outbox_lines_keep_their_order_and_the_alarm_transition_its_own_id(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite3")
    with store.transaction():
        store.cloud_add(T0, "e1")
    items = ["e2", "a1", "e3", "a2", "e4", "e5"]
    with store.transaction():
        for item in items:
            store.cloud_add(T0, item, alarm=item.startswith("a"))
        for n in range(3):
            store.outbox_add(n == 1, T0 + n, f"line{n}")
    rows = store.conn.execute("SELECT id, item FROM cloud_outbox ORDER BY id").fetchall()
    assert [r[1] for r in rows] == ["e1"] + items
    assert store.cloud_alarm_id == dict((r[1], r[0]) for r in rows)["a2"]
    assert store.cloud_added == 7
    lines = store.conn.execute("SELECT keep, created, line FROM outbox ORDER BY id").fetchall()
    assert [tuple(r) for r in lines] == [(0, T0, "line0"), (1, T0 + 1, "line1"), (0, T0 + 2, "line2")]
    assert store.outbox_added == 3


def test_a_rolled_back_transaction_writes_none_of_what_it_kept_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite3")
    with pytest.raises(RuntimeError), store.transaction():
        store.save_tool(tool("KN-R-01", T0))
        store.outbox_add(False, T0, "line")
        store.cloud_add(T0, "a", alarm=True)
        raise RuntimeError("a defect in the batch")
    with store.transaction():
        store.cloud_add(T0, "e")
    assert store.conn.execute("SELECT count(*) FROM tools").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert [r[0] for r in store.conn.execute("SELECT item FROM cloud_outbox")] == ["e"]
    assert (store.cloud_alarm_id, store.cloud_added, store.outbox_added) == (0, 1, 0)
