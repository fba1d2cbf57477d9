"""The disinfection cycles in the evidence chain, and the check that ``cycles`` still holds them.

Each ingest batch that stores new cycles appends one entry of kind ``cycles``
(like ``events``): ``{"count", "ids", "columns", "digest", "signed"}``, the
new rows' ids, the column names, and the SHA-256 of the canonical JSON of
their values, one list per row in the order of ``columns``, rows in id order.
Values are typed by their column (integers, booleans, floats, text), so the
tuples the insert returns digest alike on SQLite and PostgreSQL.

Databases that stored cycles before this coverage: migration 0011 appends one
``cycles_start`` entry, ``{"max_id", "rows"}``, the highest id and the number
of cycle rows stored until then. Those rows must keep their number; every row
after them must be covered by a ``cycles`` entry. A database without cycles
then has no such entry and every cycle row is covered from the first.

``check`` names a cycle row that was deleted, changed after it was stored or
inserted without an entry (forged); ``signed.check`` then shows that every
covered row is what its gateway signed. Lines are ``中文 / English``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import Boolean, Connection, Float, Integer, func, select

from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.coverage import Problems, kind_entries
from cloud_ingest.store.schema import cycles

KIND = "cycles"
START = "cycles_start"
COLUMNS = tuple(c.name for c in cycles.columns)  # "id" first


def typed(row: Sequence[Any]) -> list[Any]:
    """One stored row (values in ``COLUMNS`` order) as the chain holds it."""
    out: list[Any] = []
    for column, value in zip(cycles.columns, row):
        if value is not None and isinstance(column.type, Boolean):
            value = bool(value)
        elif value is not None and isinstance(column.type, Float):
            value = float(value)
        elif value is not None and isinstance(column.type, Integer):  # BigInteger too
            value = int(value)
        out.append(value)
    return out


def digest(rows: Iterable[Sequence[Any]]) -> str:
    return hashlib.sha256(canonical_json([typed(r) for r in rows]).encode()).hexdigest()


def body(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The body of a ``cycles`` entry for these stored rows, each a tuple of ``COLUMNS``."""
    values = sorted((typed(r) for r in rows), key=lambda r: r[0])
    return {"count": len(values), "ids": [r[0] for r in values], "columns": list(COLUMNS), "digest": digest(values)}


def start_body(conn: Connection) -> dict[str, int]:
    """The ``cycles_start`` body: the cycle rows stored before their coverage."""
    top, rows = conn.execute(select(func.coalesce(func.max(cycles.c.id), 0), func.count()).select_from(cycles)).one()
    return {"max_id": int(top), "rows": int(rows)}


@dataclass(kw_only=True)
class Findings(Problems):
    rows: int = 0  # covered rows that match their entry
    legacy: int = 0  # rows stored before the coverage start

    def lines(self) -> list[str]:
        if not self.ok:
            return self.problem_lines()
        zh = f"消毒周期记录与证据链一致：{self.rows} 行"
        en = f"the disinfection cycles match the chain: {self.rows} rows"
        if self.legacy:
            zh += f"；覆盖前的 {self.legacy} 行数目未变"
            en += f"; the {self.legacy} rows stored before the coverage are all still there"
        return [f"{zh} / {en}"]


def check(conn: Connection, chunk: int = 2000) -> Findings:
    """Compares ``cycles`` with the chain's ``cycles`` entries (the chain was found intact)."""
    found = Findings()
    top, before_rows, covered, seen = 0, 0, set(), False
    for seq, kind, held in kind_entries(conn, (KIND, START), chunk):
        try:
            if kind == START:
                if seen:
                    found.add(f"第 {seq} 条消毒周期覆盖起点出现在已覆盖的记录之后",
                              f"entry {seq}: a cycles coverage start after covering entries")
                top, before_rows = int(held["max_id"]), int(held["rows"])
                continue
            seen = True
            ids = [int(i) for i in held["ids"]]
            if list(held["columns"]) != list(COLUMNS):
                raise ValueError("columns")
            _compare(conn, found, seq, ids, str(held["digest"]))
            covered.update(ids)
        except (KeyError, TypeError, ValueError):
            found.add(f"第 {seq} 条的内容无法读取", f"entry {seq}: its body is not of its kind's form")
    _count(conn, found, top, before_rows, covered)
    return found




def _compare(conn: Connection, found: Findings, seq: int, ids: list[int], held: str) -> None:
    stored: dict[int, tuple] = {}
    for i in range(0, len(ids), 1000):
        for row in conn.execute(select(cycles).where(cycles.c.id.in_(sorted(set(ids[i:i + 1000]))))):
            stored[row.id] = tuple(row)
    missing = [i for i in ids if i not in stored]
    if missing:
        found.add(f"cycles 第 {_few(missing)} 行（证据第 {seq} 条）已被删除",
                  f"cycles rows {_few(missing)} of evidence entry {seq} are missing (deleted)")
    elif digest(stored[i] for i in ids) != held:
        found.add(f"证据第 {seq} 条所记的消毒周期（cycles 第 {_few(ids)} 行）已被改动",
                  f"the disinfection cycles of evidence entry {seq} (cycles rows {_few(ids)}) were changed after "
                  "they were stored")
    else:
        found.rows += len(ids)


def _count(conn: Connection, found: Findings, top: int, before_rows: int, covered: set[int]) -> None:
    """Rows up to the coverage start: as many as then; after it: exactly the covered ones."""
    before = conn.execute(select(func.count()).select_from(cycles).where(cycles.c.id <= top)).scalar_one()
    found.legacy = before
    if before != before_rows:
        found.add(f"cycles 在覆盖起点前应有 {before_rows} 行，现有 {before} 行",
                  f"cycles: {before_rows} rows were stored before the coverage start, {before} are there now")
    extra: list[int] = []
    for (row_id,) in conn.execute(select(cycles.c.id).where(cycles.c.id > top).order_by(cycles.c.id)):
        if row_id not in covered:
            extra.append(row_id)
    if extra:
        found.add(f"cycles 第 {_few(extra)} 行不在证据链中（可能是伪造的）",
                  f"cycles rows {_few(extra)} are not in the evidence chain (forged?)")


def _few(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:5]) + (f" … ({len(ids)})" if len(ids) > 5 else "")
