"""What the evidence chain covers, and the check that the tables still hold it.

The pages show rows of these tables; the chain holds each of those facts in a
canonical form, so that ``sebiao cloud verify`` can compare what a page would
show with what was chained when it was stored:

- ``events``: one entry of kind ``events`` per ingest batch that stored new
  events, body ``{"count", "ids", "columns", "digest"}``: the new rows' ids
  and the SHA-256 of the canonical JSON of their values, one list per row in
  the order of ``columns``, rows in id order (one entry per batch, not per
  event, so that the chain's lock is held as briefly as before). Entries
  written before ``columns`` was added digest each row as its fact (a JSON
  object by column name) and still verify so. The list form is the one the
  ingest can afford: it hashes the tuples the insert returns as they come,
  where building a typed object per row cost half the batch's time;
- ``alarm_transitions``, ``inspector_notes``, ``rectification_steps``: each
  entry (``alarm_transition``, ``inspector_*``, ``rectification_*``) keeps its
  readable body and adds ``"row"``, the stored row's fact;
- ``setups``, ``setup_acceptances``, ``silenced_alarms`` (migration 0010):
  one entry per row (``setup``, ``setup_accept``, ``silenced``) whose body is
  ``{"row": fact}`` (an acceptance adds what it relaxed): a setup row changed
  after it was stored (a rule made to look stricter than it was) is found;
- ``alarms``: a transition's entry adds ``"alarm"``, the picture it set; the
  alarm's inspector review is its newest inspector entry; a rectification's
  state, request note and deadline are its steps' entries;
- ``ledger_steps`` (migration 0013): each ``ledger_*`` step entry adds
  ``"row"``, the step's fact (an alarm's item steps as its rectification);
- ``workshop_grades``: each ``grade_set`` entry adds ``"row"``, the grading's
  fact (the public grade pages show these rows). The table came after the
  coverage start of 0006: every one of its rows is covered;
- ``workshop_records``, ``trainings`` (migration 0012): one entry per row
  (``workshop_record``: a record as an inspector saved it; ``training``: a
  training record its gateway pushed), body ``{"row": fact}`` and, for a
  record, the fields it changed;
- ``data_outages``, ``data_outage_ends`` (migration 0017): one entry per row
  (``outage_start``, ``outage_end``), body ``{"row": fact}`` and the outage's
  ledger item;
- ``workshop_records`` gained ``latitude_e6`` and ``longitude_e6`` (migration 0018): the entries of the
  rows stored before do not name them, and those rows must hold NULL there (``ADDED``).

A row's fact (``fact``) is every column of the row by name, integers as
integers, booleans as booleans, text as text: canonical JSON then gives one
byte string per row on SQLite and PostgreSQL alike.

Databases older than this coverage: migration 0006 appends one ``coverage``
entry holding, per covered table, the highest row id and the number of rows
stored until then. Those rows keep what they had: their entries verify as
before, and their number must not change; every row after them must be
covered by an entry. A database created with this coverage has no
``coverage`` entry: every row is covered from the first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import BigInteger, Boolean, Connection, Integer, Table, func, select

from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.outage_tables import data_outage_ends, data_outages
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    evidence_log,
    inspector_notes,
    ledger_steps,
    rectification_steps,
    rectifications,
    setup_acceptances,
    setups,
    silenced_alarms,
    trainings,
    workshop_grades,
    workshop_records,
)
from sebiao_common import strict_json

COVERED: dict[str, Table] = {t.name: t for t in (events, alarm_transitions, inspector_notes, rectification_steps,
                                                  workshop_grades, setups, setup_acceptances, silenced_alarms,
                                                  workshop_records, trainings, ledger_steps, data_outages,
                                                  data_outage_ends)}
# Tables made after the coverage start of migration 0006: its entry does not name them, and none of their rows
# was stored before it.
LATER = ("workshop_grades", "setups", "setup_acceptances", "silenced_alarms", "workshop_records", "trainings",
         "ledger_steps", "data_outages", "data_outage_ends")
ROW_TABLE = {"setup": "setups", "setup_accept": "setup_acceptances", "silenced": "silenced_alarms",
             "alarm_transition": "alarm_transitions", "inspector_ack": "inspector_notes",
             "inspector_clear": "inspector_notes", "inspector_comment": "inspector_notes",
             "rectification_request": "rectification_steps", "rectification_answer": "rectification_steps",
             "rectification_accept": "rectification_steps", "rectification_return": "rectification_steps",
             "grade_set": "workshop_grades", "workshop_record": "workshop_records", "training": "trainings",
             "ledger_open": "ledger_steps", "ledger_answer": "ledger_steps", "ledger_close": "ledger_steps",
             "ledger_return": "ledger_steps", "outage_start": "data_outages", "outage_end": "data_outage_ends"}
# Columns added to a covered table after its first rows: an entry written before holds no such key, and the
# row must hold NULL there (a value set afterwards is a change the check names).
ADDED = {"workshop_records": ("latitude_e6", "longitude_e6")}  # migration 0018
PICTURE = ("type", "severity", "state", "acked", "latched", "count", "tool", "tag", "station", "ts", "last_ts",
           "raised_at", "updated_at", "late", "text_zh", "text_en", "history_seq")
MAX_PROBLEMS = 50


def fact(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The canonical fact of one stored row (a ``Row``'s ``_mapping`` or the dict that was inserted)."""
    return {column.name: _typed(column.type, row[column.name]) for column in table.columns}


def picture(values: Mapping[Any, Any]) -> dict[str, Any]:
    """The alarm's picture as the alarm pages show it (the columns of ``alarms`` a transition sets)."""
    return {name: _typed(alarms.c[name].type, values[name]) for name in PICTURE}


def _typed(kind: Any, value: Any) -> Any:
    if value is not None and isinstance(kind, Boolean):
        return bool(value)
    if value is not None and isinstance(kind, (Integer, BigInteger)):
        return int(value)
    return value


def digest(facts: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(list(facts)).encode()).hexdigest()


EVENT_COLUMNS = tuple(c.name for c in events.columns)  # "id" first


def events_body(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The body of an ``events`` entry for these stored rows of ``events``, each a tuple of ``EVENT_COLUMNS``
    (integers and text as the database returns them on SQLite and PostgreSQL alike)."""
    values = sorted((list(r) for r in rows), key=lambda r: r[0])
    return {"count": len(values), "ids": [r[0] for r in values], "columns": list(EVENT_COLUMNS),
            "digest": digest(values)}


# -- the check ----------------------------------------------------------------------


@dataclass(kw_only=True)
class Problems:
    """What a check of the evidence found wrong: lines ``中文 / English``, at most ``MAX_PROBLEMS`` of them,
    and how many more (the checks here, ``cycle_chain`` and ``signed`` each add what they covered)."""

    problems: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, zh: str, en: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{zh} / {en}")
        else:
            self.more += 1

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_lines(self) -> list[str]:
        return self.problems + ([f"……另有 {self.more} 处 / … and {self.more} more"] if self.more else [])

    def lines(self) -> list[str]:
        """The problems, or else the line of what the check covered."""
        return self.problem_lines() if not self.ok else [self.covered()]

    def covered(self) -> str:
        raise NotImplementedError


@dataclass(kw_only=True)
class Findings(Problems):
    """What the check found and what it covered."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COVERED, 0))
    legacy: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COVERED, 0))
    alarms: int = 0

    def lines(self) -> list[str]:
        if self.ok:
            shown = ", ".join(f"{name} {n}" for name, n in self.rows.items() if n or name not in LATER)
            before = sum(self.legacy.values())
            note = (f"；升级前的 {before} 行数目未变 / ; the {before} rows stored before the coverage "
                    "are all still there") if before else ""
            return [f"页面所示记录与证据链一致 / what the pages show matches the chain: {shown} rows, "
                    f"{self.alarms} alarms{note}"]
        return self.problem_lines()


@dataclass(frozen=True, kw_only=True)
class _Start:
    """Per covered table: the highest row id and the row count before the coverage (0 and 0 without one)."""

    max_id: dict[str, int]
    rows: dict[str, int]


def check(conn: Connection, chunk: int = 2000) -> Findings:
    """Compares the covered tables with the chain (which ``evidence.verify`` has found intact)."""
    found = Findings()
    start = _Start(max_id=dict.fromkeys(COVERED, 0), rows=dict.fromkeys(COVERED, 0))
    covered = dict.fromkeys(COVERED, 0)
    started = False  # a coverage entry, or an entry of the covering form, was seen
    for entries in _chunks(conn, chunk):
        rows: dict[str, list[tuple[int, dict]]] = {name: [] for name in COVERED}
        batches: list[tuple[int, dict]] = []
        for seq, kind, body in entries:
            try:
                if kind == "coverage":
                    if started:
                        found.add(f"第 {seq} 条覆盖起点出现在已覆盖的记录之后",
                                  f"entry {seq}: a coverage start after covering entries")
                    tables = body["tables"]
                    held = {n: tables[n] if n in tables or n not in LATER else {"max_id": 0, "rows": 0}
                            for n in COVERED}
                    start = _Start(max_id={n: int(held[n]["max_id"]) for n in COVERED},
                                   rows={n: int(held[n]["rows"]) for n in COVERED})
                elif kind == "events":
                    batches.append((seq, {"ids": [int(i) for i in body["ids"]], "digest": str(body["digest"]),
                                          "rows": _columns(body)}))
                    covered["events"] += len(body["ids"])
                elif kind in ROW_TABLE and "row" in body:
                    rows[ROW_TABLE[kind]].append((seq, dict(body["row"])))
                    covered[ROW_TABLE[kind]] += 1
                else:
                    continue
                started = True
            except (KeyError, TypeError, ValueError, AttributeError):
                found.add(f"第 {seq} 条的内容无法读取", f"entry {seq}: its body is not of its kind's form")
        for name, held in rows.items():
            _compare_rows(conn, found, COVERED[name], held)
        _compare_batches(conn, found, batches)
    for name, table in COVERED.items():
        _count(conn, found, table, start, covered[name], chunk)
    _check_alarms(conn, found, chunk=500)
    return found


def _chunks(conn: Connection, chunk: int, kinds: Sequence[str] = ()) -> Iterator[list[tuple[int, str, dict]]]:
    """The chain's entries in order (only those of ``kinds`` when given), ``chunk`` at a time."""
    after = 0
    while True:
        q = select(evidence_log.c.seq, evidence_log.c.kind, evidence_log.c.body).where(evidence_log.c.seq > after)
        rows = conn.execute((q.where(evidence_log.c.kind.in_(kinds)) if kinds else q)
                            .order_by(evidence_log.c.seq).limit(chunk)).all()
        if not rows:
            return
        after = rows[-1].seq
        yield [(r.seq, r.kind, _body(r.body)) for r in rows]


def kind_entries(conn: Connection, kinds: Sequence[str], chunk: int) -> Iterator[tuple[int, str, dict]]:
    """Each entry of ``kinds`` as (seq, kind, body), in the chain's order; a body that is not a JSON object
    reads as {} (the kind's own check names what is missing). The chain checks of the other records use it."""
    for rows in _chunks(conn, chunk, kinds):
        yield from rows


def _body(text: str) -> dict:
    """An entry's body; one that is not a JSON object reads as empty (its kind's check then names it)."""
    try:
        value = strict_json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _columns(body: Mapping[str, Any]) -> bool:
    """Whether an ``events`` entry digests rows as lists (``columns``, which must be ``EVENT_COLUMNS``) or as
    facts (entries written before the list form)."""
    if "columns" not in body:
        return False
    if list(body["columns"]) != list(EVENT_COLUMNS):
        raise ValueError("columns")
    return True


def _by_id(conn: Connection, table: Table, ids: Sequence[int], as_list: bool = False) -> dict[int, Any]:
    """The rows of these ids: facts, or, ``as_list``, lists of the values in column order."""
    out: dict[int, Any] = {}
    for i in range(0, len(ids), 1000):
        part = sorted(set(ids[i:i + 1000]))
        for row in conn.execute(select(table).where(table.c.id.in_(part))):
            out[row.id] = list(row) if as_list else fact(table, row._mapping)
    return out


def _compare_rows(conn: Connection, found: Findings, table: Table, held: list[tuple[int, dict]]) -> None:
    if not held:
        return
    stored = _by_id(conn, table, [int(row["id"]) for _, row in held])
    for seq, row in held:
        now = stored.get(int(row["id"]))
        if now is not None:
            now = _as_held(table.name, now, row)
        if now is None:
            found.add(f"{table.name} 第 {row['id']} 行（证据第 {seq} 条）已被删除",
                      f"{table.name} row {row['id']} of evidence entry {seq} is missing (deleted)")
        elif now != row:
            changed = ", ".join(sorted(k for k in set(now) | set(row) if now.get(k) != row.get(k)))
            found.add(f"{table.name} 第 {row['id']} 行与证据第 {seq} 条不符（{changed}）",
                      f"{table.name} row {row['id']} differs from evidence entry {seq} ({changed}): "
                      "changed after it was stored")
        else:
            found.rows[table.name] += 1


def _as_held(table: str, now: dict[str, Any], held: Mapping[str, Any]) -> dict[str, Any]:
    """The stored row as an entry written before ``ADDED``'s columns holds it: without those it lacks, when
    they are NULL (a value there stays, so the comparison names it)."""
    return {k: v for k, v in now.items() if k in held or k not in ADDED.get(table, ()) or v is not None}


def _compare_batches(conn: Connection, found: Findings, batches: list[tuple[int, dict]]) -> None:
    if not batches:
        return
    stored = {form: _by_id(conn, events, [int(i) for _, body in batches if body["rows"] is form for i in body["ids"]],
                           as_list=form) for form in (False, True)}
    for seq, body in batches:
        rows = stored[body["rows"]]
        missing = [i for i in body["ids"] if i not in rows]
        if missing:
            found.add(f"events 第 {_few(missing)} 行（证据第 {seq} 条）已被删除",
                      f"events rows {_few(missing)} of evidence entry {seq} are missing (deleted)")
        elif digest([rows[i] for i in body["ids"]]) != body["digest"]:
            found.add(f"证据第 {seq} 条所记的事件（events 第 {_few(body['ids'])} 行）已被改动",
                      f"the events of evidence entry {seq} (rows {_few(body['ids'])}) were changed after "
                      "they were stored")
        else:
            found.rows["events"] += len(body["ids"])


def _count(conn: Connection, found: Findings, table: Table, start: _Start, covered: int, chunk: int) -> None:
    """Rows up to the coverage start: as many as then; after it: exactly the covered ones."""
    name, top = table.name, start.max_id[table.name]
    before = conn.execute(select(func.count()).select_from(table).where(table.c.id <= top)).scalar_one()
    after = conn.execute(select(func.count()).select_from(table).where(table.c.id > top)).scalar_one()
    found.legacy[name] = before
    if before != start.rows[name]:
        found.add(f"{name} 在覆盖起点前应有 {start.rows[name]} 行，现有 {before} 行",
                  f"{name}: {start.rows[name]} rows were stored before the coverage start, {before} are there now")
    if after != covered:
        extra = _uncovered(conn, table, top, chunk) if after > covered else []
        which = f"（如第 {_few(extra)} 行）" if extra else ""
        found.add(f"{name} 有 {after} 行，证据链所记为 {covered} 行{which}",
                  f"{name}: {after} rows, the evidence chain holds {covered}"
                  + (f" (not covered: rows {_few(extra)})" if extra else ""))


def _uncovered(conn: Connection, table: Table, top: int, chunk: int) -> list[int]:
    """The ids of rows no entry covers (only run when the counts differ): the first ten."""
    kinds = ["events"] if table is events else [k for k, t in ROW_TABLE.items() if t == table.name]
    ids: set[int] = set()
    for entries in _chunks(conn, chunk):
        for _, kind, body in entries:
            if kind in kinds:
                ids.update(body["ids"] if kind == "events" else [body["row"]["id"]] if "row" in body else [])
    out: list[int] = []
    for (row_id,) in conn.execute(select(table.c.id).where(table.c.id > top).order_by(table.c.id)):
        if row_id not in ids:
            out.append(row_id)
            if len(out) == 10:
                break
    return out


def _few(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:5]) + (f" … ({len(ids)})" if len(ids) > 5 else "")


# -- what the alarm pages show: the picture, the inspector's review, the rectifications ------------


def _check_alarms(conn: Connection, found: Findings, chunk: int) -> None:
    gone = conn.execute(select(evidence_log.c.alarm_id).distinct().where(
        evidence_log.c.kind == "alarm_transition", evidence_log.c.alarm_id.not_in(select(alarms.c.id)))
        .order_by(evidence_log.c.alarm_id).limit(10)).scalars().all()
    if gone:
        found.add(f"告警 {_few(gone)} 已被删除", f"alarms {_few(gone)} of the evidence chain are missing (deleted)")
    after = 0
    while True:
        rows = conn.execute(select(alarms).where(alarms.c.id > after).order_by(alarms.c.id).limit(chunk)).all()
        if not rows:
            return
        after = rows[-1].id
        ids = [r.id for r in rows]
        entries: dict[int, list[tuple[int, str, str, int, dict]]] = {i: [] for i in ids}
        for e in conn.execute(select(evidence_log.c.seq, evidence_log.c.kind, evidence_log.c.workshop_id,
                                     evidence_log.c.at, evidence_log.c.alarm_id, evidence_log.c.body)
                              .where(evidence_log.c.alarm_id.in_(ids)).order_by(evidence_log.c.seq)):
            entries[e.alarm_id].append((e.seq, e.kind, e.workshop_id, e.at, _body(e.body)))
        rects: dict[int, list] = {i: [] for i in ids}
        for r in conn.execute(select(rectifications).where(rectifications.c.alarm_id.in_(ids))):
            rects[r.alarm_id].append(r)
        for row in rows:
            _check_alarm(found, row, entries[row.id], rects[row.id])
            found.alarms += 1


def _check_alarm(found: Findings, row: Any, entries: list[tuple[int, str, str, int, dict]], rects: list) -> None:
    a = row.id
    moves = [(seq, ws, body) for seq, kind, ws, _, body in entries if kind == "alarm_transition"]
    if not moves:
        found.add(f"告警 {a} 在证据链中没有任何状态变化", f"alarm {a} has no transition in the evidence chain")
        return
    seq, ws, newest = max(moves, key=lambda m: m[2].get("seq", -1))
    if (row.workshop_id, row.gateway_id, row.history_seq) != (ws, newest.get("gateway_alarm_id"), newest.get("seq")):
        found.add(f"告警 {a} 的作坊、网关编号或最新变化与证据第 {seq} 条不符",
                  f"alarm {a}: its workshop, gateway id or newest transition differs from evidence entry {seq}")
    elif "alarm" in newest:
        shown, held = picture(row._mapping), newest["alarm"]
        changed = [k for k in PICTURE if not isinstance(held, dict) or shown[k] != held.get(k)]
        if changed:
            found.add(f"告警 {a} 的 {', '.join(changed)} 与证据第 {seq} 条不符",
                      f"alarm {a} does not match evidence entry {seq} ({', '.join(changed)}): changed after it "
                      "was stored")
    reviews = [(seq, at, body) for seq, kind, _, at, body in entries if kind in ("inspector_ack", "inspector_clear")]
    if reviews:
        seq, at, body = reviews[-1]
        by = body["row"].get("user_id") if isinstance(body.get("row"), dict) else row.reviewed_by
        if (row.review, row.reviewed_at, row.reviewed_by) != (body.get("review"), at, by):
            found.add(f"告警 {a} 的审核状态与证据第 {seq} 条不符",
                      f"alarm {a}: its inspector review differs from evidence entry {seq}")
    elif (row.review, row.reviewed_at, row.reviewed_by) != ("open", None, None):
        found.add(f"告警 {a} 显示已审核，但证据链中没有审核记录",
                  f"alarm {a} shows an inspector review the evidence chain does not hold")
    steps: dict[Any, list[tuple[int, dict]]] = {}
    for seq, kind, _, _, body in entries:
        if kind.startswith("rectification_"):
            steps.setdefault(body.get("rectification"), []).append((seq, body))
    for r in rects:
        held = steps.pop(r.id, [])
        if not held:
            found.add(f"整改 {r.id} 在证据链中没有任何步骤", f"rectification {r.id} has no step in the evidence chain")
            continue
        first, last = held[0][1], held[-1][1]
        if (r.state, r.note, r.due_at) != (last.get("state"), first.get("text"), first.get("due")):
            found.add(f"整改 {r.id} 的状态、要求或期限与证据不符",
                      f"rectification {r.id}: its state, request or deadline differs from its evidence entries "
                      f"{held[0][0]}..{held[-1][0]}")
    for rect_id, held in steps.items():
        found.add(f"整改 {rect_id}（证据第 {held[0][0]} 条）已被删除",
                  f"rectification {rect_id} of evidence entry {held[0][0]} is missing (deleted)")
