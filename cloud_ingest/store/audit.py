"""``sebiao cloud verify``: the chain links up, its head is the signed one, the tables say what it holds.

Four checks, each a few lines of the report (Chinese first, then English),
and a verdict:

1. the chain (``evidence.verify``): every entry's hash and link, no gap;
2. the signed checkpoints (``anchor``), from ``evidence_checkpoints`` and from
   the checkpoint files: each signature must verify with one of the given
   public keys, and each checkpoint's entry must still be there with the hash
   it signed. A checkpoint past the chain's end shows a cut chain; a hash that
   differs, a recomputed one;
3. the covered tables (``coverage``, ``cycle_chain``, ``ledger_chain``, ``inspection_chain``): what the
   pages show is what the chain holds;
4. the gateways' signatures (``signed``): every batch entry's rows are what
   its gateway signed, with a key the chain registered for its workshop.

Without a public key the second check is skipped and the verdict says that a
cut or recomputed chain could not be told from an intact one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from cloud_ingest.store import anchor, coverage, cycle_chain, evidence, inspection_chain, ledger_chain
from cloud_ingest.store import signed as signatures
from cloud_ingest.store.schema import evidence_checkpoints, evidence_log

CHUNK = 1000


@dataclass(kw_only=True)
class Audit:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def text(self) -> str:
        return "\n".join(self.lines)

    def add(self, found: coverage.Problems | _Signed) -> None:
        """One check's lines; the audit is ok only while every check is."""
        self.lines += found.lines()
        self.ok &= found.ok


def audit(conn: Connection, *, keys: dict[str, Ed25519PublicKey], files: Iterable[str]) -> Audit:
    out = Audit()
    chain = evidence.verify(conn)
    out.lines.append(f"证据链前后相连：{chain.checked} 条 / the chain's {chain.checked} entries link up" if chain.ok
                     else chain.text())
    out.ok = chain.ok
    signed = _checkpoints(conn, keys, list(files)) if keys else None
    if signed is not None:
        out.add(signed)
    if chain.ok:
        for check in (coverage.check, cycle_chain.check, ledger_chain.check, inspection_chain.check,
                      signatures.check):
            out.add(check(conn))
    else:
        out.lines.append("链已断开，未与页面记录核对 / the chain is broken: the tables were not compared with it")
    if not out.ok:
        out.lines.append("结论：证据已被改动（见上） / verdict: the evidence was changed (see above)")
    elif signed is None:
        out.lines.append(f"结论：证据链自身完好（{chain.checked} 条），但未给公钥，截断或整体重算无法发现 / verdict: "
                         f"the chain itself is intact ({chain.checked} entries), but without a public key "
                         "(--public-key) a cut or recomputed chain cannot be told from an intact one")
    else:
        out.lines.append(f"结论：证据链完好（{chain.checked} 条） / verdict: evidence chain intact "
                         f"({chain.checked} entries)")
    return out


@dataclass(kw_only=True)
class _Signed:
    tail: int  # the chain's last seq (0: empty)
    valid: int = 0
    newest: int = 0  # the newest seq a valid checkpoint signs and the chain still holds with that hash
    cut: tuple[int, str, int] | None = None  # (seq, where, at) of the farthest checkpoint past the tail
    rewritten: tuple[int, str] | None = None  # (seq, where) of the first checkpoint whose hash differs
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.cut or self.rewritten or self.problems)

    def lines(self) -> list[str]:
        out = list(self.problems[:20])
        if len(self.problems) > 20:
            out.append(f"……另有 {len(self.problems) - 20} 处 / … and {len(self.problems) - 20} more")
        if self.cut:
            seq, where, at = self.cut
            out.append(f"证据链被截断：现止于第 {self.tail} 条，而 {_time(at)} 的签名检查点（{where}）证明曾有第 {seq} 条 / "
                       f"the chain was cut: it ends at entry {self.tail}, but a checkpoint signed at {_time(at)} "
                       f"({where}) attests entry {seq}")
        if self.rewritten:
            seq, where = self.rewritten
            out.append(f"证据链被改写：第 {seq} 条的哈希与签名检查点（{where}）不符 / the chain was rewritten: entry "
                       f"{seq}'s hash differs from its signed checkpoint ({where})")
        if self.ok and self.valid:
            out.append(f"签名检查点：{self.valid} 个均有效，最新签到第 {self.newest} 条 / signed checkpoints: "
                       f"{self.valid} valid, the newest signs entry {self.newest}")
            if self.newest < self.tail:
                out.append(f"第 {self.newest + 1} 至 {self.tail} 条尚待下一个检查点 / entries {self.newest + 1} to "
                           f"{self.tail} await the next checkpoint")
        elif self.ok:
            out.append("没有找到签名检查点 / no signed checkpoint was found")
        return out + self.notes


def _checkpoints(conn: Connection, keys: dict[str, Ed25519PublicKey], files: list[str]) -> _Signed:
    head = evidence.head(conn)
    signed = _Signed(tail=head[0] if head else 0)
    for found in _batches(_all(conn, files)):
        valid = []
        for f in found:
            cp = f.checkpoint
            if cp is None and f.torn:
                signed.notes.append(f"{f.where}：最后一行不完整，已略过 / {f.where}: the last line is incomplete "
                                    "(a write cut short), skipped")
            elif cp is None:
                signed.problems.append(f"{f.where}：不是检查点 / {f.where}: not a checkpoint")
            elif cp.key_id not in keys:
                signed.problems.append(f"{f.where}：签名密钥 {cp.key_id} 不在所给公钥中 / {f.where}: signed by key "
                                       f"{cp.key_id}, which is not among the given public keys")
            elif not cp.verifies(keys):
                signed.problems.append(f"{f.where}：签名无效（内容被改动或伪造） / {f.where}: the signature does not "
                                       "verify (changed or forged)")
            else:
                valid.append((f.where, cp))
        seqs = sorted({cp.seq for _, cp in valid if cp.seq <= signed.tail})
        hashes = dict(conn.execute(select(evidence_log.c.seq, evidence_log.c.hash)
                                   .where(evidence_log.c.seq.in_(seqs))).all()) if seqs else {}
        for where, cp in valid:
            signed.valid += 1
            if cp.seq > signed.tail:
                if signed.cut is None or cp.seq > signed.cut[0]:
                    signed.cut = (cp.seq, where, cp.at)
            elif hashes.get(cp.seq) != cp.hash:
                if signed.rewritten is None or cp.seq < signed.rewritten[0]:
                    signed.rewritten = (cp.seq, where)
            else:
                signed.newest = max(signed.newest, cp.seq)
    return signed


def _all(conn: Connection, files: list[str]) -> Iterator[anchor.Found]:
    after = 0
    while True:
        rows = conn.execute(select(evidence_checkpoints).where(evidence_checkpoints.c.id > after)
                            .order_by(evidence_checkpoints.c.id).limit(CHUNK)).all()
        if not rows:
            break
        after = rows[-1].id
        for r in rows:
            yield anchor.Found(where=f"evidence_checkpoints id {r.id}", checkpoint=anchor.Checkpoint(
                seq=r.seq, hash=r.hash, at=r.at, key_id=r.key_id, signature=r.signature))
    for path in files:
        yield from anchor.read_file(path)


def _batches(found: Iterator[anchor.Found]) -> Iterator[list[anchor.Found]]:
    batch: list[anchor.Found] = []
    for f in found:
        batch.append(f)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")
