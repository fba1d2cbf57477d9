"""What the display and the console say of the regulator's grade (``published_grade``), from a real gateway
store: none, verified, no longer confirmed by the cloud, a clock set back, another workshop's statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.store.reads import StoreReader
from edge_gateway.store.writer import Store
from edge_gateway.web.display_data import published_grade

HOUR = 3600 * 1000
SIGNED = 1_764_142_800_000  # when the cloud signed the kept statement


@pytest.fixture
def reads(tmp_path: Path) -> StoreReader:
    store = Store(tmp_path / "gateway.sqlite3")
    store.save_grade_statement(seq=5, workshop="ws-a", grade="gold", effective="2025-11-20", issued_at=SIGNED,
                               received_at=SIGNED, statement="{}")
    store.save_grade_statement(seq=9, workshop="ws-old", grade="orange", effective="2025-11-25",
                               issued_at=SIGNED, received_at=SIGNED, statement="{}")
    store.conn.commit()
    return StoreReader(tmp_path / "gateway.sqlite3")


@pytest.mark.parametrize("workshop, now, state, grade, words", [
    ("ws-a", SIGNED + HOUR, "verified", "gold", "金榜"),
    ("ws-a", SIGNED + 72 * HOUR, "verified", "gold", "金榜"),  # the max age itself: still confirmed
    ("ws-a", SIGNED + 72 * HOUR + 1, "unconfirmed", None, "起未能与云端核实，暂不显示"),
    ("ws-a", SIGNED - HOUR, "verified", "gold", "金榜"),  # a clock a little behind the cloud's
    ("ws-a", SIGNED - HOUR - 1, "unconfirmed", None, "网关时钟有误"),  # a clock set back: freshness unknown
    ("ws-b", SIGNED + HOUR, "none", None, "等级由监管部门发布，暂无"),  # ws-old's statement is not ws-b's
])
def test_what_is_said_of_the_grade(reads: StoreReader, workshop: str, now: int, state: str, grade: str | None,
                                   words: str) -> None:
    shown = published_grade(reads, workshop, now, 72)
    assert (shown["grade_state"], shown["grade"]) == (state, grade)
    assert words in shown["grade_zh"]
    assert shown["grade_effective"] == ("2025-11-20" if grade else None)
    assert shown["grade_confirmed_at"] == (None if state == "none" else SIGNED)
