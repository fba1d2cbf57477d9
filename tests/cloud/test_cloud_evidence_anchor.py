"""The evidence chain against someone who may write the database (SQLite and PostgreSQL).

A real ``sebiao cloud`` process with ``evidence:`` configured stores, over
HTTP, what the pages show: tool events, an alarm and the workshop's
acknowledgement with its corrective action, the inspector's acknowledgement
with a note, a rectification request and the owner's answer, while it signs
the chain's head. Then, with the guard triggers off (what the tables' owner
can do), each attack is made, ``sebiao cloud verify --public-key`` must name
it, the database is put back, and it verifies again.
"""

from __future__ import annotations

import base64
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import CORRECTIVE, SECRET, T0, Cloud, batch, event, unguard, world_batches
from cloud_server import CloudServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, Table, delete, insert, select, update

from cloud_ingest.store import anchor, db, evidence
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    evidence_checkpoints,
    evidence_log,
    inspector_notes,
    rectification_steps,
    rectifications,
)
from sebiao.cli import main

NOTE = "已电话核实，刀具已消毒"


@dataclass
class World:
    engine: Engine
    config: Path
    public_key: Path
    checkpoints: Path
    tmp: Path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"evidence-{request.param}")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp / 'cloud.db'}", None
    else:
        pg = request.getfixturevalue("postgres_server")
        name = pg.create_database()
        url, drop = pg.url(name), lambda: pg.drop_database(name)
    # migrated; districts, workshops, users and tokens made through the admin functions, at the real time
    # (the server below runs on the real clock, and login tokens expire)
    cloud = Cloud(url, now=int(time.time() * 1000))
    tokens = cloud.tenants()
    cloud.client.close()
    cloud.engine.dispose()
    key, checkpoints = tmp / "evidence.key", tmp / "checkpoints.jsonl"
    server = CloudServer(tmp, url, evidence={
        "signing_key": str(key), "checkpoints": str(checkpoints), "checkpoint_seconds": 0.2})
    assert main(["cloud", "keygen", "--config", str(server.config_path)]) == 0
    engine = db.make_engine(url)
    try:
        with server:  # started; killed at the end unless stopped
            for gateway, workshop, doc in world_batches():
                assert server.push(tokens[gateway], doc).status_code == 200
            alarm_id = next(a["id"] for a in server.get(tokens["insp1"], "/api/v1/alarms").json()
                            if a["workshop"] == "ws-a")
            assert server.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/ack", {"note": NOTE}).status_code == 200
            r = server.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications",
                            {"note": "请说明整改措施", "due": int(time.time() * 1000) + 86_400_000})
            assert r.status_code == 201, r.text
            assert server.post(tokens["owner-a"], f"/api/v1/rectifications/{r.json()['id']}/answer",
                               {"action": "刀具已消毒，员工已培训"}).status_code == 200
            # last, a batch of events only: the chain's newest entry covers them
            later = [event("rack-red-1", 3, T0 + 60_000, action="placed"), event("rack-red-1", 4, T0 + 70_000)]
            assert server.push(tokens["gw-ws-a"], batch("ws-a", "a-2", later)).status_code == 200
            head = _head(engine)
            server.wait_for(lambda: ((server.health() or {}).get("evidence_checkpoints") or {}).get("seq") == head,
                            30, "a checkpoint of the chain's head")
            server.stop()
        assert _verify(World(engine, server.config_path, Path(anchor.public_path(str(key))), checkpoints, tmp))[0] == 0
        _unguard(engine)  # from here on the attacker: the tables' owner switched the guards off
        yield World(engine, server.config_path, Path(anchor.public_path(str(key))), checkpoints, tmp)
    finally:
        engine.dispose()
        if drop:
            drop()


def _head(engine: Engine) -> int:
    with db.read(engine) as conn:
        return evidence.head(conn)[0]


def _unguard(engine: Engine) -> None:
    with db.write(engine) as conn:
        unguard(conn, "evidence_log", "evidence_checkpoints")


def _verify(w: World, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["cloud", "verify", "--config", str(w.config), "--public-key", str(w.public_key), *extra])
    return code, out.getvalue()


@contextmanager
def _saved(engine: Engine, table: Table, where: Any) -> Iterator[list[dict]]:
    """The rows of ``table`` matching ``where``, put back as they were (updated back, or inserted again) at the end."""
    key = table.c.seq if table is evidence_log else table.c.id
    with db.read(engine) as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(table).where(where))]
    assert rows
    try:
        yield rows
    finally:
        with db.write(engine) as conn:
            for row in rows:
                if conn.execute(update(table).where(key == row[key.name]).values(**row)).rowcount == 0:
                    conn.execute(insert(table).values(**row))


def _write(engine: Engine, statement: Any) -> None:
    with db.write(engine) as conn:
        conn.execute(statement)


def test_the_world_verifies_with_its_public_key(world: World) -> None:
    code, out = _verify(world)
    assert code == 0, out
    assert "签名检查点" in out and "signed checkpoints:" in out and "verdict: evidence chain intact" in out
    assert "what the pages show matches the chain" in out and "events 4" in out, out


def test_a_cut_chain_is_found_by_the_checkpoint_file(world: World) -> None:
    """The newest entry and the events it covers are deleted, and the checkpoints in the database too: the chain
    still links up and every row left has its entry; only the signed checkpoint in the file shows the cut."""
    head = _head(world.engine)
    with _saved(world.engine, evidence_log, evidence_log.c.seq == head) as (entry,), \
            _saved(world.engine, events, events.c.id.in_(json.loads(entry["body"])["ids"])), \
            _saved(world.engine, evidence_checkpoints, evidence_checkpoints.c.id > 0):
        _write(world.engine, delete(evidence_log).where(evidence_log.c.seq == head))
        _write(world.engine, delete(events).where(events.c.id.in_(json.loads(entry["body"])["ids"])))
        _write(world.engine, delete(evidence_checkpoints))
        code, out = _verify(world)
        assert code == 1, out
        assert f"证据链被截断：现止于第 {head - 1} 条" in out and f"the chain was cut: it ends at entry {head - 1}" in out
        assert f"attests entry {head}" in out and str(world.checkpoints) in out
        assert "what the pages show matches the chain" in out  # the cut is consistent: only the signature sees it
    assert _verify(world)[0] == 0


def test_a_recomputed_chain_is_found(world: World) -> None:
    """The inspector's note is changed in its table and in its entry, and every hash from there is recomputed."""
    with db.read(world.engine) as conn:
        seq = conn.execute(select(evidence_log.c.seq).where(evidence_log.c.kind == "inspector_ack")).scalar_one()
    with _saved(world.engine, evidence_log, evidence_log.c.seq >= seq) as entries, \
            _saved(world.engine, inspector_notes, inspector_notes.c.note == NOTE):
        _write(world.engine, update(inspector_notes).where(inspector_notes.c.note == NOTE).values(note="无异常"))
        prev = entries[0]["prev_hash"]
        with db.write(world.engine) as conn:
            for row in entries:
                body = row["body"].replace(NOTE, "无异常")
                digest = evidence.entry_hash(row["seq"], row["at"], row["kind"], row["workshop_id"], row["alarm_id"],
                                             body, prev)
                conn.execute(update(evidence_log).where(evidence_log.c.seq == row["seq"])
                             .values(body=body, prev_hash=prev, hash=digest))
                prev = digest
        code, out = _verify(world)
        assert code == 1, out
        assert "证据链被改写" in out and "the chain was rewritten: entry" in out, out
        # the chain itself and the tables agree: without the signature nothing would show
        assert "entries link up" in out and "what the pages show matches the chain" in out
    assert _verify(world)[0] == 0


EDITS = {
    # what a page shows, changed in its table behind the chain's back: (table, which rows, new values, words)
    "the workshop's corrective action": (alarm_transitions, lambda: alarm_transitions.c.comment == CORRECTIVE,
                                         {"comment": "已处理"}, "alarm_transitions row"),
    "the inspector's note": (inspector_notes, lambda: inspector_notes.c.note == NOTE, {"note": "无异常"},
                             "inspector_notes row"),
    "the owner's answer": (rectification_steps, lambda: rectification_steps.c.action == "answer",
                           {"text": "已整改"}, "rectification_steps row"),
    "an event's tool": (events, lambda: events.c.seq == 1, {"tool": "KN-W-01"}, "were changed after they were stored"),
    "the alarm's severity": (alarms, lambda: alarms.c.workshop_id == "ws-a", {"severity": "minor"},
                             "alarm 1 does not match evidence entry 6 (severity)"),
    "the alarm's text": (alarms, lambda: alarms.c.workshop_id == "ws-a", {"text_zh": "正常"}, "(text_zh)"),
    "the inspector's review": (alarms, lambda: alarms.c.workshop_id == "ws-a",
                               {"review": "open", "reviewed_by": None, "reviewed_at": None}, "inspector review"),
    "the rectification's request": (rectifications, lambda: rectifications.c.id > 0, {"note": "无需整改"},
                                    "its state, request or deadline differs"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_changed_row_is_named(world: World, edit: str) -> None:
    table, where, values, words = EDITS[edit]
    with _saved(world.engine, table, where()):
        _write(world.engine, update(table).where(where()).values(**values))
        code, out = _verify(world)
        assert code == 1 and words in out, out
        assert "verdict: the evidence was changed" in out and "entries link up" in out
    assert _verify(world)[0] == 0


def test_a_removed_or_added_event_is_named(world: World) -> None:
    with _saved(world.engine, events, events.c.seq == 2) as (row,):
        _write(world.engine, delete(events).where(events.c.id == row["id"]))
        code, out = _verify(world)
        assert code == 1 and f"events rows {row['id']} of evidence entry" in out and "missing (deleted)" in out, out
    with db.write(world.engine) as conn:
        fake = conn.execute(insert(events).values({**{k: v for k, v in row.items() if k != "id"},
                                                   "seq": 99, "tool": "KN-W-01"})
                            .returning(events.c.id)).scalar_one()
    code, out = _verify(world)
    assert code == 1 and f"not covered: rows {fake}" in out, out
    _write(world.engine, delete(events).where(events.c.id == fake))
    assert _verify(world)[0] == 0


def test_forged_or_foreign_checkpoints_are_refused(world: World) -> None:
    """A copy of the file with a line whose signed head was changed, and a line signed by another key."""
    lines = world.checkpoints.read_text().splitlines()
    doc = json.loads(lines[-1])
    other = Ed25519PrivateKey.generate()
    forged = world.tmp / "forged.jsonl"
    foreign = anchor.Checkpoint(seq=doc["seq"], hash=doc["hash"], at=doc["at"],
                                key_id=anchor.key_id(other.public_key()),
                                signature=base64.b64encode(other.sign(anchor.note(
                                    doc["seq"], doc["hash"], doc["at"]))).decode())
    forged.write_text(json.dumps({**doc, "seq": doc["seq"] + 5}) + "\n" + foreign.json() + "\n")
    code, out = _verify(world, "--checkpoints", str(forged))
    assert code == 1, out
    assert f"{forged}:1：签名无效" in out and f"{forged}:1: the signature does not verify" in out
    assert f"{forged}:2: signed by key {foreign.key_id}, which is not among the given public keys" in out
    # given the other public key too, its checkpoint counts
    pub = world.tmp / "other.pub"
    pub.write_bytes(other.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo))
    forged.write_text(foreign.json() + "\n")
    code, out = _verify(world, "--checkpoints", str(forged), "--public-key", str(pub))
    assert code == 0, out


def test_without_a_public_key_the_verdict_says_what_it_cannot_see(world: World) -> None:
    import contextlib
    import io

    bare = world.tmp / "bare.yaml"
    config = yaml.safe_load(world.config.read_text())
    del config["evidence"]
    bare.write_text(yaml.safe_dump(config))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["cloud", "verify", "--config", str(bare)]) == 0
    assert "without a public key (--public-key) a cut or recomputed chain cannot be told" in out.getvalue()


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    key = tmp_path / "keys" / "evidence.key"
    key.parent.mkdir()
    config = tmp_path / "cloud.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": f"sqlite:///{tmp_path / 'cloud.db'}"},
                                      "session_secret": SECRET, "evidence": {
                                          "signing_key": "keys/evidence.key", "checkpoints": "checkpoints.jsonl"}}))
    assert main(["cloud", "keygen", "--config", str(config)]) == 0
    assert (key.stat().st_mode & 0o777, Path(f"{key}.pub").stat().st_mode & 0o777) == (0o600, 0o644)
    first = key.read_bytes()
    assert main(["cloud", "keygen", "--config", str(config)]) == 2  # never over the old key
    err = capsys.readouterr().err
    assert f"{config}: evidence.signing_key: {key} 已存在" in err and "already exists and is kept" in err
    assert key.read_bytes() == first
    key.chmod(0o644)  # readable by others: the service does not start
    assert main(["cloud", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: evidence.signing_key: {key} 的权限 644" in err and "chmod 600" in err


@pytest.mark.parametrize("evidence, words", [
    ({"signing_key": "k"}, "evidence: missing required key 'checkpoints'"),
    ({"signing_key": "k", "checkpoints": "c", "checkpoint_seconds": 0}, "evidence.checkpoint_seconds: must be "
                                                                         "between 0.05 and 3600 seconds"),
    ({"signing_key": "k", "checkpoints": "k"}, "evidence.checkpoints: must be another file than signing_key"),
    ({"signing_key": "k", "checkpoints": "c", "every": 5}, "evidence.every: unknown key"),
])
def test_a_wrong_evidence_section_is_named(tmp_path: Path, evidence: dict, words: str) -> None:
    from cloud_ingest.config import load_cloud_config
    from sebiao_common.errors import ConfigError

    config = tmp_path / "cloud.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": "sqlite://"}, "session_secret": SECRET,
                                      "evidence": evidence}))
    with pytest.raises(ConfigError) as caught:
        load_cloud_config(config)
    assert f"{config}: {words}" in str(caught.value), str(caught.value)
