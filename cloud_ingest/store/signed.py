"""The batches' signatures, checked again by ``sebiao cloud verify``: the rows are what the gateways signed.

The chain and its signed checkpoints show that nothing was changed after it
was chained; they cannot show that what was chained came from a gateway.
Whoever holds the database could insert a batch's rows together with chain
entries (and recompute the chain past the last checkpoint). So every batch
entry (``events``, ``alarm_transition``, ``cycles``, ``training``) carries ``"signed": {"batch",
"digest", "key", "sig"}``, the ingest keeps the body as received in
``signed_batches``, and this check, for each such entry:

- the key is one the chain registered (a ``gateway_key`` entry, written when
  the admin gave the gateway's public key) for the entry's workshop; the
  table's keys must be the chain's, each set once;
- the kept body inflates to the signed digest, and the signature verifies
  with that key over workshop, batch id and digest (``batch_signature``);
- each event row of the entry, each cycle row, each transition (its row
  and the alarm picture it set), and each training record, is an item of that signed body.

Entries written before signing began (before the ``signing`` entry of
migration 0008) carry no signature and are counted, not checked; every batch
entry after it must carry one. The report lines are ``中文 / English``.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Row, Table, select

from cloud_ingest.store.coverage import Problems
from cloud_ingest.store.schema import api_tokens, cycles, events, evidence_log, signed_batches
from sebiao_common import batch_signature, strict_json

BATCH_KINDS = ("events", "alarm_transition", "cycles", "training")
MAX_INFLATED = 64 * 1024 * 1024  # far above any batch the ingest takes: a kept body is never inflated unbounded
CACHE = 64  # parsed batches kept while walking (a batch's entries are neighbours in the chain)
TRANSITION = ("gateway_alarm_id", "seq", "at", "action", "state", "acked", "by", "comment")


@dataclass(kw_only=True)
class Report(Problems):
    batches: int = 0  # signed batches whose signature verified
    entries: int = 0  # batch entries checked against them
    unsigned: int = 0  # batch entries from before signing began
    keys: dict[str, str] = field(default_factory=dict)  # key id -> workshop, as the chain registered them

    def lines(self) -> list[str]:
        if not self.ok:
            return self.problem_lines()
        keys = ", ".join(f"{ws} {kid}" for kid, ws in sorted(self.keys.items(), key=lambda k: (k[1], k[0])))
        zh = f"网关签名：{self.batches} 个批次均有效，{self.entries} 条证据与签名内容一致"
        en = f"gateway signatures: {self.batches} batches verify, {self.entries} entries hold what was signed"
        if self.unsigned:
            zh += f"；签名开始前的 {self.unsigned} 条未签名"
            en += f"; {self.unsigned} entries from before signing began carry none"
        return [f"{zh} / {en}" + (f"; keys: {keys}" if keys else "")]


@dataclass(frozen=True, kw_only=True)
class _Key:
    token: int
    workshop: str
    text: str
    public: Ed25519PublicKey
    key_id: str


def check(conn: Connection, chunk: int = 2000) -> Report:
    """Walks the chain (which ``evidence.verify`` found intact) and checks every batch entry's signature."""
    report = Report()
    keys: dict[int, _Key] = {}  # by token
    keys_of: dict[tuple[str, str], _Key] = {}  # by (key id, workshop)
    start = 0  # the signing entry's seq: batch entries before it carry no signature
    signed_seen = False
    before: list[int] = []  # unsigned batch entries ahead of any signing start: legacy once one comes
    parsed: dict[tuple[str, str], _Batch | None] = {}
    for rows in _entries(conn, chunk):
        for seq, kind, workshop, body in rows:
            if kind == "signing":
                if signed_seen or start:
                    report.add(f"第 {seq} 条签名起点出现在已签名的记录之后",
                               f"entry {seq}: a signing start after signed entries")
                start, report.unsigned, before = seq, report.unsigned + len(before), []
            elif kind == "gateway_key":
                _register(report, keys, keys_of, seq, workshop, body)
            elif kind in BATCH_KINDS and "signed" not in body:
                if start or signed_seen:
                    _unsigned(report, seq)
                else:
                    before.append(seq)
            elif kind in BATCH_KINDS:
                signed_seen = True
                _check_entry(conn, report, keys_of, parsed, seq, kind, workshop, body)
    for seq in before:  # no signing start: the database was made signing, every batch entry must be signed
        _unsigned(report, seq)
    _compare_tokens(conn, report, keys)
    report.keys = {k.key_id: k.workshop for k in keys.values()}
    return report


def _unsigned(report: Report, seq: int) -> None:
    report.add(f"第 {seq} 条批次记录没有网关签名（可能是伪造的）",
               f"entry {seq}: a batch entry without its gateway's signature (forged?)")


def _entries(conn: Connection, chunk: int) -> Iterator[list[tuple[int, str, str, dict]]]:
    after = 0
    while True:
        rows = conn.execute(select(evidence_log.c.seq, evidence_log.c.kind, evidence_log.c.workshop_id,
                                   evidence_log.c.body).where(evidence_log.c.seq > after)
                            .order_by(evidence_log.c.seq).limit(chunk)).all()
        if not rows:
            return
        after = rows[-1].seq
        yield [(r.seq, r.kind, r.workshop_id, _json(r.body)) for r in rows]


def _json(text: str | bytes) -> dict:
    try:
        value = strict_json.loads(text, max_depth=None)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _register(report: Report, keys: dict[int, _Key], keys_of: dict[tuple[str, str], _Key], seq: int,
              workshop: str, body: dict) -> None:
    """A token's key, as the admin registered it (one key may serve several tokens: a gateway given a new
    token keeps its key)."""
    try:
        public = batch_signature.parse_public(body["key"])
        token = int(body["token"])
    except (KeyError, TypeError, ValueError):
        report.add(f"第 {seq} 条的公钥无法读取", f"entry {seq}: its gateway key cannot be read")
        return
    if token in keys:
        report.add(f"第 {seq} 条为令牌 {token} 再次登记公钥（只能登记一次）",
                   f"entry {seq}: a second key for token {token} (a key is set once)")
        return
    keys[token] = _Key(token=token, workshop=workshop, text=batch_signature.public_text(public), public=public,
                       key_id=batch_signature.key_id(public))
    keys_of.setdefault((keys[token].key_id, workshop), keys[token])


def _compare_tokens(conn: Connection, report: Report, keys: dict[int, _Key]) -> None:
    """The table's keys are the chain's: none added or changed outside the admin API."""
    for row in conn.execute(select(api_tokens.c.id, api_tokens.c.workshop_id, api_tokens.c.public_key)
                            .where(api_tokens.c.public_key.is_not(None)).order_by(api_tokens.c.id)):
        held = keys.get(row.id)
        if held is None or held.text != row.public_key or held.workshop != row.workshop_id:
            report.add(f"令牌 {row.id} 的公钥与证据链登记的不符",
                       f"token {row.id}: its public key is not the one the evidence chain registered")


@dataclass(frozen=True, kw_only=True)
class _Batch:
    events: dict[tuple[str, str, int], dict]  # (station, boot, seq) -> item
    transitions: dict[tuple[int, int], dict]  # (alarm id, transition seq) -> item
    cycles: dict[tuple[str, str, int], dict] = field(default_factory=dict)  # (station, boot, seq) -> item
    trainings: dict[int, dict] = field(default_factory=dict)  # the gateway's training id -> item


def _check_entry(conn: Connection, report: Report, keys: dict[tuple[str, str], _Key],
                 parsed: dict[tuple[str, str], _Batch | None], seq: int, kind: str, workshop: str,
                 body: dict) -> None:
    signed = body["signed"]
    if not isinstance(signed, dict) or not all(isinstance(signed.get(k), str) for k in ("batch", "digest", "key",
                                                                                         "sig")):
        report.add(f"第 {seq} 条的签名无法读取", f"entry {seq}: its signature cannot be read")
        return
    name = (workshop, signed["batch"])
    if name not in parsed:
        if len(parsed) >= CACHE:
            parsed.clear()
        parsed[name] = _open(conn, report, keys, seq, workshop, signed)
    batch = parsed[name]
    if batch is None:
        return  # its problem is already named
    report.entries += 1
    if kind == "events":
        _check_rows(conn, report, events, batch.events, _same_event, seq, workshop, signed["batch"], body)
    elif kind == "cycles":
        _check_rows(conn, report, cycles, batch.cycles, _same_cycle, seq, workshop, signed["batch"], body)
    elif kind == "training":
        _check_training(report, batch, seq, signed["batch"], body)
    else:
        _check_transition(report, batch, seq, signed["batch"], body)


def _open(conn: Connection, report: Report, keys: dict[tuple[str, str], _Key], seq: int, workshop: str,
          signed: dict[str, str]) -> _Batch | None:
    """The kept body of a batch, its signature verified; None (and a problem named) otherwise."""
    b = signed["batch"]
    key = keys.get((signed["key"], workshop))
    if key is None:
        report.add(f"第 {seq} 条（批次 {b}）的签名密钥 {signed['key']} 未为作坊 {workshop} 登记",
                   f"entry {seq} (batch {b}): signed with key {signed['key']}, which the chain never registered "
                   f"for workshop {workshop}")
        return None
    row = conn.execute(select(signed_batches).where(signed_batches.c.workshop_id == workshop,
                                                    signed_batches.c.batch == b)).first()
    if row is None:
        report.add(f"第 {seq} 条的批次 {b} 的签名原文已不在", f"entry {seq}: the signed body of batch {b} is missing")
        return None
    if (row.digest, row.signature, row.key_id) != (signed["digest"], signed["sig"], signed["key"]):
        report.add(f"批次 {b} 的签名原文记录与证据第 {seq} 条不符",
                   f"batch {b}: its kept signature differs from evidence entry {seq}")
        return None
    raw = _inflate(row.body)
    if raw is None or hashlib.sha256(raw).hexdigest() != signed["digest"]:
        report.add(f"批次 {b} 的原文已被改动（证据第 {seq} 条）",
                   f"batch {b}: its kept body does not match its digest (evidence entry {seq}): changed")
        return None
    try:
        signature = batch_signature.parse_header(batch_signature.SCHEME + signed["sig"])
    except ValueError:
        signature = b""
    if not batch_signature.verifies(key.public, signature, workshop, b, signed["digest"]):
        report.add(f"批次 {b} 的网关签名无效（证据第 {seq} 条）：不是该网关发出的",
                   f"batch {b}: the gateway's signature does not verify (evidence entry {seq}): the gateway did "
                   "not send it")
        return None
    doc = _json(raw)
    items = doc.get("items") if doc.get("workshop") == workshop and doc.get("batch") == b else None
    if not isinstance(items, list):
        report.add(f"批次 {b} 的原文不是该作坊的批次", f"batch {b}: its signed body is not this workshop's batch")
        return None
    report.batches += 1
    return _index(items)


def _inflate(body: bytes) -> bytes | None:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(bytes(body), MAX_INFLATED)
    except zlib.error:
        return None
    return out if inflater.eof else None


def _index(items: list) -> _Batch:
    evs: dict[tuple[str, str, int], dict] = {}
    moves: dict[tuple[int, int], dict] = {}
    held: dict[tuple[str, str, int], dict] = {}
    trained: dict[int, dict] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            if item.get("kind") == "event":
                evs.setdefault((item["station"], item["boot"], item["seq"]), item)
            elif item.get("kind") == "alarm":
                moves.setdefault((item["alarm"]["id"], item["transition"]["seq"]), item)
            elif item.get("kind") == "cycle":
                held.setdefault((item["station"], item["boot"], item["seq"]), item)
            elif item.get("kind") == "training":
                trained.setdefault(item["id"], item)
        except (KeyError, TypeError):
            continue  # the ingest took only well-formed items: an ill-formed one matches no row
    return _Batch(events=evs, transitions=moves, cycles=held, trainings=trained)


def _check_rows(conn: Connection, report: Report, table: Table, signed: dict[tuple[str, str, int], dict],
                same: Callable[[Row, dict], bool], seq: int, workshop: str, b: str, body: dict) -> None:
    """Each row of the entry's ``ids`` is an item of the signed batch (by station, boot and seq), of the
    entry's workshop, and ``same`` as it; the others are named (the first five, and how many)."""
    ids = [int(i) for i in body.get("ids", [])]
    wrong: list[int] = []
    for i in range(0, len(ids), 1000):
        for row in conn.execute(select(table).where(table.c.id.in_(ids[i:i + 1000]))):
            item = signed.get((row.station, row.boot, row.seq))
            if item is None or row.workshop_id != workshop or not same(row, item):
                wrong.append(row.id)
    if wrong:
        shown = ", ".join(str(i) for i in sorted(wrong)[:5]) + (f" … ({len(wrong)})" if len(wrong) > 5 else "")
        report.add(f"{table.name} 第 {shown} 行（证据第 {seq} 条）不是网关在批次 {b} 中签名的内容",
                   f"{table.name} rows {shown} (evidence entry {seq}) are not what the gateway signed in batch {b}")


def _same_event(row: Row, item: dict) -> bool:
    return (row.ts, row.tag, row.action, row.tool, row.note) == (
        item.get("ts"), item.get("tag"), item.get("action"), item.get("tool"), item.get("note"))


CYCLE = ("start", "ts", "method", "temp_c", "hold_required_s", "max_temp_dc", "hold_s", "passed")


def _same_cycle(row: Row, item: dict) -> bool:
    """Its times, method, threshold, readings, verdict and tools."""
    return tuple(getattr(row, k) for k in CYCLE) == tuple(item.get(k) for k in CYCLE) and \
        _tools(row.tools) == item.get("tools")


def _tools(text: str) -> Any:
    try:
        return strict_json.loads(text)
    except ValueError:
        return None


def _check_training(report: Report, batch: _Batch, seq: int, b: str, body: dict) -> None:
    """The training record of the entry (its row, which ``coverage`` holds the table to) is an item of the
    signed batch: day, who, topic, trainer and when it was recorded."""
    row = body.get("row")
    item = batch.trainings.get(row.get("gateway_id")) if isinstance(row, dict) else None
    if item is None or tuple(row.get(k) for k in ("day", "who", "topic", "trainer", "recorded_at")) != tuple(
            item.get(k) for k in ("day", "who", "topic", "by", "recorded_at")):
        report.add(f"证据第 {seq} 条的培训记录不是网关在批次 {b} 中签名的内容",
                   f"evidence entry {seq}: the training record is not what the gateway signed in batch {b}")


def _check_transition(report: Report, batch: _Batch, seq: int, b: str, body: dict) -> None:
    row, picture = body.get("row"), body.get("alarm")
    item = batch.transitions.get((row.get("gateway_alarm_id"), row.get("seq"))) if isinstance(row, dict) else None
    if item is None or not isinstance(picture, dict) or _expected(item) != (
            tuple(row.get(k) for k in TRANSITION), {k: picture.get(k) for k in _picture(item)}):
        report.add(f"证据第 {seq} 条的告警变化不是网关在批次 {b} 中签名的内容",
                   f"evidence entry {seq}: the alarm transition is not what the gateway signed in batch {b}")


def _expected(item: dict) -> tuple[tuple[Any, ...], dict[str, Any]]:
    a, t = item["alarm"], item["transition"]
    return (a["id"], t["seq"], t["at"], t["action"], a["state"], a["acked"], t["by"], t.get("comment")), _picture(item)


def _picture(item: dict) -> dict[str, Any]:
    a, t = item["alarm"], item["transition"]
    text = a.get("text") if isinstance(a.get("text"), dict) else {}
    return {"type": a.get("type"), "severity": a.get("severity"), "state": a.get("state"),
            "acked": a.get("acked"), "latched": a.get("latched"), "count": a.get("count"), "tool": a.get("tool"),
            "tag": a.get("tag"), "station": a.get("station"), "ts": a.get("ts"), "last_ts": a.get("last_ts"),
            "raised_at": a.get("raised_at"), "updated_at": a.get("updated_at"), "late": a.get("late"),
            "text_zh": text.get("zh"), "text_en": text.get("en"), "history_seq": t.get("seq")}
