"""A table's rows against the evidence entries that hold them, one entry a row (``sebiao cloud verify``).

The checks of the records chained row by row (``ledger_chain``, ``inspection_chain``) walk their tables the
same way: each row in id order with the entry the chain holds for it; a row without one was written behind
the app's back, an entry without its row names a row that was deleted. ``rows_held`` is that walk, naming
both in the check's ``Problems``; ``changed`` and ``differs`` name the columns of a row that are no longer
what its entry holds. ``Subject`` is how the lines name the rows (``中文 / English``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, TypeVar

from sqlalchemy import Connection, Row, Table, select

from cloud_ingest.store.coverage import Problems

Held = TypeVar("Held")


@dataclass(frozen=True, kw_only=True)
class Subject:
    """How the problem lines name a row: ``{}`` is its id (or the ids of the deleted ones)."""

    zh: str  # with the space that comes before the verb after an id ("问题 {} ", "ledger_items 第 {} 行")
    en: str  # one row ("ledger item {}")
    en_many: str  # the deleted rows ("ledger items {}")


def rows_held(conn: Connection, found: Problems, table: Table, held: Mapping[int, Held],
              subject: Subject) -> Iterator[tuple[Row, Held]]:
    """``table``'s rows in id order, each with what ``held`` has for its id. A row without an entry is named in
    ``found`` and not yielded; once every row is walked, the entries whose row is gone are named (the first
    five): walk it to its end."""
    seen: set[int] = set()
    for row in conn.execute(select(table).order_by(table.c.id)):
        seen.add(row.id)
        entry = held.get(row.id)
        if entry is None:
            found.add(f"{subject.zh.format(row.id)}在证据链中没有记录",
                      f"{subject.en.format(row.id)} has no entry in the evidence chain")
            continue
        yield row, entry
    gone = sorted(set(held) - seen)
    if gone:
        ids = ", ".join(map(str, gone[:5]))
        found.add(f"{subject.zh.format(ids)}已被删除",
                  f"{subject.en_many.format(ids)} of the evidence chain are missing (deleted)")


def changed(now: Mapping[str, Any], then: Any, columns: Iterable[str] | None = None) -> str:
    """The columns (all of ``now``'s, or ``columns``) whose value is not the one ``then`` holds, sorted."""
    then = then if isinstance(then, Mapping) else {}
    return ", ".join(sorted(k for k in (now if columns is None else columns) if now[k] != then.get(k)))


def differs(found: Problems, subject: Subject, row_id: int, seq: int, columns: str, after: str) -> None:
    """Names the row whose ``columns`` are no longer those of evidence entry ``seq`` (changed after it was
    ``after``: stored, signed, drawn)."""
    found.add(f"{subject.zh.format(row_id)}的 {columns} 与证据第 {seq} 条不符",
              f"{subject.en.format(row_id)} differs from evidence entry {seq} ({columns}): changed after it was "
              f"{after}")
