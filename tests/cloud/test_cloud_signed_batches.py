"""Signed batches (SQLite and PostgreSQL): a batch its gateway did not sign is refused over HTTP, and one put into
the database behind the ingest's back is found by ``sebiao cloud verify``.

Over HTTP, against a real ``sebiao cloud`` process: no signature, a malformed or oversized header, another
key, an altered body, the body under another batch id or workshop, a token without a key. In the database,
as someone holding it (guard triggers off): rows with chain entries appended, unsigned or with a copied
signature or the attacker's own key, a second key for a token, a row edited with its entry and every hash
after it recomputed, a kept body swapped.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, T0, alarm, batch, event, unguard
from cloud_server import *  # noqa: F401,F403 - fixtures
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_keys import key, public, signature_headers
from sqlalchemy import Engine, func, insert, select, text, update

from cloud_ingest.access.tokens import new_token
from cloud_ingest.errors import CloudError
from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import (
    alarm_transitions,
    api_tokens,
    events,
    evidence_log,
    ingest_batches,
    signed_batches,
)
from sebiao.cli import main
from sebiao_common import batch_signature

HEADER = batch_signature.HEADER
GOOD = batch("ws-a", "a-1", [event(seq=1), event(seq=2, ts=T0 + 5, action="placed"),
                             alarm(12, 1), alarm(12, 2, "acknowledged", at=T0 + 500, comment="已清洗", acked=True)])


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with db.read(engine) as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _stored(engine: Engine) -> tuple[int, ...]:
    return (_count(engine, events), _count(engine, alarm_transitions), _count(engine, ingest_batches),
            _count(engine, signed_batches), _count(engine, evidence_log, evidence_log.c.kind != "gateway_key"))


def _json(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


# -- over HTTP --------------------------------------------------------------------------------


def test_forged_batches_are_refused_before_anything_is_stored(served_cloud) -> None:  # type: ignore[no-untyped-def]
    server, tokens, engine = served_cloud.process, served_cloud.tokens, served_cloud.cloud.engine
    raw = _json(GOOD)
    signed_a = signature_headers(raw)
    other = dict(GOOD, items=[event(seq=1, tool="KN-W-01"), *GOOD["items"][1:]])
    attempts: dict[str, tuple[str, bytes, dict[str, str], int, str]] = {
        "no signature": ("gw-ws-a", raw, {}, 401, "no X-Sebiao-Signature header"),
        "an oversized header": ("gw-ws-a", raw, {HEADER: "ed25519=" + "A" * 300}, 401, "longer than 200"),
        "another scheme": ("gw-ws-a", raw, {HEADER: "rsa=" + signed_a[HEADER][8:]}, 401, "must be ed25519="),
        "not base64": ("gw-ws-a", raw, {HEADER: "ed25519=not*base64"}, 401, "not base64"),
        "another gateway's key": ("gw-ws-a", raw, signature_headers(raw, signer=key("ws-b")), 403, "does not verify"),
        "a key nobody registered": ("gw-ws-a", raw, signature_headers(raw, signer=Ed25519PrivateKey.generate()), 403,
                                    "does not verify"),
        "an altered body": ("gw-ws-a", _json(other), signed_a, 403, "does not verify"),
        "another batch id": ("gw-ws-a", _json(dict(GOOD, batch="a-2")), signed_a, 403, "does not verify"),
        # ws-a's signed batch, replayed by whoever holds ws-b's token under ws-b
        "another workshop": ("gw-ws-b", _json(dict(GOOD, workshop="ws-b")), signed_a, 403, "does not verify"),
    }
    for what, (token, body, headers, status, words) in attempts.items():
        r = server.push(tokens[token], raw=body, headers=headers)
        assert r.status_code == status and words in r.json()["error"], (what, r.text)
        assert "签名" in r.json()["error"], (what, r.text)  # Chinese first
    assert _stored(engine) == (0, 0, 0, 0, 0)

    r = server.push(tokens["gw-ws-a"], raw=raw)  # signed by ws-a's gateway
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text
    assert _stored(engine) == (2, 2, 1, 1, 3)  # the events' entry and two transitions' entries
    with db.read(engine) as conn:
        kept = conn.execute(select(signed_batches)).one()
        chained = [json.loads(b) for b in conn.execute(select(evidence_log.c.body).where(
            evidence_log.c.kind.in_(["events", "alarm_transition"]))).scalars()]
    assert gzip.decompress(kept.body) == raw  # the body as the gateway sent it
    assert (kept.workshop_id, kept.batch, kept.digest) == ("ws-a", "a-1", batch_signature.body_digest(raw))
    assert {json.dumps(c["signed"], sort_keys=True) for c in chained} == {json.dumps(
        {"batch": "a-1", "digest": kept.digest, "key": kept.key_id, "sig": kept.signature}, sort_keys=True)}
    # the same batch again (the gateway's retry) is answered as before, and an altered retry is refused
    assert server.push(tokens["gw-ws-a"], raw=raw).json()["replayed_batch"] is True
    assert server.push(tokens["gw-ws-a"], raw=_json(other), headers=signed_a).status_code == 403


def test_a_gateway_token_needs_its_key_and_an_older_one_gets_it_once(served_cloud) -> None:  # type: ignore[no-untyped-def]
    server, tokens, engine = served_cloud.process, served_cloud.tokens, served_cloud.cloud.engine
    admin = tokens["admin"]
    for body, words in (({"kind": "gateway", "workshop": "ws-b"}, "sebiao gateway-key"),
                        ({"kind": "gateway", "workshop": "ws-b", "public_key": "ed25519:AAAA"}, "32"),
                        ({"kind": "gateway", "workshop": "ws-b", "public_key": "ssh-ed25519 AAAA"}, "ed25519:")):
        r = server.post(admin, "/api/v1/admin/tokens", body)
        assert r.status_code == 400 and r.json()["path"] == "public_key" and words in r.json()["error"], r.text
    # a gateway token made before keys (as the upgrade leaves it): its batches are refused, saying what to do
    old = new_token("gateway")
    with db.write(engine) as conn:
        old_id = conn.execute(insert(api_tokens).values(kind="gateway", token_hash=old.digest, workshop_id="ws-b",
                                                        label="", created_at=T0).returning(api_tokens.c.id)).scalar()
    doc = batch("ws-b", "b-1", [event(seq=1)])
    r = server.push(old.secret, doc)
    assert r.status_code == 403 and f"/api/v1/admin/tokens/{old_id}/key" in r.json()["error"], r.text
    assert "公钥" in r.json()["error"]
    assert server.post(tokens["insp1"], f"/api/v1/admin/tokens/{old_id}/key",
                       {"public_key": public("ws-b")}).status_code == 403  # only an admin
    r = server.post(admin, f"/api/v1/admin/tokens/{old_id}/key", {"public_key": public("ws-b")})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": old_id, "workshop": "ws-b",
                        "key_id": batch_signature.key_id(key("ws-b").public_key())}
    assert server.push(old.secret, doc).status_code == 200
    # set once: neither the API nor an UPDATE changes it
    r = server.post(admin, f"/api/v1/admin/tokens/{old_id}/key", {"public_key": public("ws-c")})
    assert r.status_code == 409 and "set once" in r.json()["error"], r.text
    with pytest.raises(CloudError, match="set once"):
        with db.write(engine) as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == old_id).values(public_key=public("ws-c")))
    assert server.post(admin, "/api/v1/admin/tokens/999999/key", {"public_key": public("ws-b")}).status_code == 404
    code, out = _verify(served_cloud.cloud.url, server.config_path.parent)
    assert code == 0, out


# -- in the database ------------------------------------------------------------------------------


def _verify(url: str, tmp: Path) -> tuple[int, str]:
    config = tmp / "verify.yaml"
    config.write_text(f"database:\n  url: {url}\nsession_secret: {SECRET}\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["cloud", "verify", "--config", str(config)])
    return code, out.getvalue()


def _unguard(engine: Engine) -> None:
    """What the tables' owner can do: the append-only and set-once triggers off."""
    with db.write(engine) as conn:
        unguard(conn, "evidence_log", "signed_batches")
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER api_tokens_key_once"))
        else:
            conn.execute(text("ALTER TABLE api_tokens DISABLE TRIGGER USER"))


def _new_events(conn: Any, *seqs: int) -> list[tuple]:
    """Events the gateway never sent, inserted as the ingest would: the rows as the insert returns them."""
    rows = [{"workshop_id": "ws-a", "station": "rack-red-1", "boot": "1a2b3c4d", "seq": s, "ts": T0 + s,
             "tag": "04A224E2C65E80", "action": "removed", "tool": "KN-R-01", "note": None, "received_at": T0}
            for s in seqs]
    return [tuple(r) for r in conn.execute(insert(events).returning(*events.c), rows)]


def _genuine_signed(conn: Any) -> dict:
    body = conn.execute(select(evidence_log.c.body).where(evidence_log.c.kind == "events")).scalar()
    return json.loads(body)["signed"]


def _forge_unsigned(conn: Any) -> None:
    evidence.append(conn, T0, "events", "ws-a", None, coverage.events_body(_new_events(conn, 50)))


def _forge_copied_signature(conn: Any) -> None:
    evidence.append(conn, T0, "events", "ws-a", None,
                    {**coverage.events_body(_new_events(conn, 50)), "signed": _genuine_signed(conn)})


def _forge_own_key(conn: Any, register: bool = False) -> None:
    """A whole batch made with the attacker's own key: the body kept, the rows, the chain entry."""
    own = Ed25519PrivateKey.generate()
    raw = _json(batch("ws-a", "x-1", [event(seq=50, ts=T0 + 50)]))
    signature = batch_signature.parse_header(batch_signature.sign(own, "ws-a", "x-1", raw))
    kid = batch_signature.key_id(own.public_key())
    if register:  # and a key entry for ws-a's token, as if the admin had registered it
        token = conn.execute(select(api_tokens.c.id).where(api_tokens.c.workshop_id == "ws-a")).scalar()
        evidence.append(conn, T0, "gateway_key", "ws-a", None, {
            "token": token, "key": batch_signature.public_text(own.public_key()), "key_id": kid})
    sig = base64.b64encode(signature).decode()
    conn.execute(insert(signed_batches).values(workshop_id="ws-a", batch="x-1", token_id=1, key_id=kid,
                                               digest=batch_signature.body_digest(raw), signature=sig,
                                               body=gzip.compress(raw), received_at=T0))
    evidence.append(conn, T0, "events", "ws-a", None, {**coverage.events_body(_new_events(conn, 50)), "signed": {
        "batch": "x-1", "digest": batch_signature.body_digest(raw), "key": kid, "sig": sig}})


def _rechain(conn: Any, seq: int, change: Callable[[dict], dict]) -> None:
    """Entry ``seq`` changed, and every hash from it on recomputed: the chain links up again."""
    rows = conn.execute(select(evidence_log).where(evidence_log.c.seq >= seq).order_by(evidence_log.c.seq)).all()
    prev = rows[0].prev_hash
    for row in rows:
        body = canonical_json(change(json.loads(row.body))) if row.seq == seq else row.body
        digest = evidence.entry_hash(row.seq, row.at, row.kind, row.workshop_id, row.alarm_id, body, prev)
        conn.execute(update(evidence_log).where(evidence_log.c.seq == row.seq)
                     .values(body=body, prev_hash=prev, hash=digest))
        prev = digest


def _entries(conn: Any, kind: str) -> list[int]:
    return list(conn.execute(select(evidence_log.c.seq).where(evidence_log.c.kind == kind)
                             .order_by(evidence_log.c.seq)).scalars())


def _edit_event(conn: Any) -> None:
    """An event's tool changed, its entry's digest and the chain after it recomputed."""
    conn.execute(update(events).where(events.c.seq == 1).values(tool="KN-W-01"))
    seq = _entries(conn, "events")[0]
    ids = json.loads(conn.execute(select(evidence_log.c.body).where(evidence_log.c.seq == seq)).scalar())["ids"]
    rows = [tuple(r) for r in conn.execute(select(events).where(events.c.id.in_(ids)))]
    _rechain(conn, seq, lambda body: {**body, **coverage.events_body(rows)})


def _edit_transition(conn: Any) -> None:
    """The workshop's comment on its acknowledgement changed in the table and in its entry, the chain recomputed."""
    conn.execute(update(alarm_transitions).where(alarm_transitions.c.seq == 2).values(comment="无异常"))
    _rechain(conn, _entries(conn, "alarm_transition")[1],  # the acknowledgement's entry
             lambda body: {**body, "comment": "无异常", "row": {**body["row"], "comment": "无异常"}})


def _swap_body(conn: Any) -> None:
    """The kept body replaced by one holding what the attacker wants the rows to say."""
    other = _json(dict(GOOD, items=[event(seq=1, tool="KN-W-01"), *GOOD["items"][1:]]))
    conn.execute(update(signed_batches).values(body=gzip.compress(other)))


def _key_in_table(conn: Any) -> None:
    """Only the table's key replaced (the chain still names the gateway's)."""
    conn.execute(update(api_tokens).where(api_tokens.c.workshop_id == "ws-a", api_tokens.c.kind == "gateway")
                 .values(public_key=batch_signature.public_text(Ed25519PrivateKey.generate().public_key())))


ATTACKS: dict[str, tuple[Callable[[Any], None], str]] = {
    "rows and an unsigned entry": (_forge_unsigned, "a batch entry without its gateway's signature"),
    "rows under a copied signature": (_forge_copied_signature, "are not what the gateway signed in batch a-1"),
    "a batch signed with the attacker's key": (_forge_own_key, "which the chain never registered for workshop ws-a"),
    "a second key for the token": (lambda conn: _forge_own_key(conn, register=True), "a second key for token"),
    "an event edited, the chain recomputed": (_edit_event, "are not what the gateway signed in batch a-1"),
    "a transition edited, the chain recomputed": (_edit_transition,
                                                  "the alarm transition is not what the gateway signed in batch a-1"),
    "the kept body swapped": (_swap_body, "its kept body does not match its digest"),
    "the token's key replaced in the table": (_key_in_table, "is not the one the evidence chain registered"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_verify_finds_what_the_gateway_did_not_sign(cloud, tmp_path: Path, attack: str) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], GOOD).status_code == 200
    code, out = _verify(cloud.url, tmp_path)
    assert code == 0, out
    assert "gateway signatures: 1 batches verify, 3 entries hold what was signed" in out, out
    assert f"ws-a {batch_signature.key_id(key('ws-a').public_key())}" in out  # the keys, for the owner to compare
    _unguard(cloud.engine)
    forge, words = ATTACKS[attack]
    with db.write(cloud.engine) as conn:
        forge(conn)
    code, out = _verify(cloud.url, tmp_path)
    assert code == 1 and words in out, out
    assert "entries link up" in out and "verdict: the evidence was changed" in out, out
