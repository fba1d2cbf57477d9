"""The grade statement both sides build: what verifies, what is refused and why (pure: no server)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sebiao_common.grade_statement import GradeStatement, StatementRefused, key_id, verify

KEY = Ed25519PrivateKey.generate()
GOOD = GradeStatement(workshop="ws-demo", grade="silver", effective="2026-12-01", seq=7, issued_at=1_764_142_800_000)


def _wire(statement: GradeStatement = GOOD, key: Ed25519PrivateKey = KEY) -> dict:
    return statement.wire(key_id(key.public_key()), base64.b64encode(key.sign(statement.note())).decode())


def test_the_note_is_one_field_a_line_under_its_own_first_line() -> None:
    assert GOOD.note() == b"sebiao grade statement\nws-demo\nsilver\n2026-12-01\n7\n1764142800000\n"


def test_a_good_statement_verifies_and_a_field_a_later_cloud_adds_is_ignored() -> None:
    assert verify(_wire(), KEY.public_key(), "ws-demo") == GOOD
    assert verify({**_wire(), "note": "unsigned, not read"}, KEY.public_key(), "ws-demo") == GOOD


@pytest.mark.parametrize("change, reason", [
    ({"v": 2}, "malformed"),
    ({"origin": "sebiao evidence log"}, "malformed"),
    ({"grade": "platinum"}, "malformed"),
    ({"effective": "1.12.2026"}, "malformed"),
    ({"seq": "7"}, "malformed"),
    ({"seq": 8}, "signature"),  # every signed field counts
    ({"effective": "2026-12-02"}, "signature"),
    ({"issued_at": 1}, "signature"),
    ({"sig": "not base64!"}, "signature"),
    ({"key": "0123456789abcdef"}, "key"),
])
def test_a_changed_statement_is_refused(change: dict, reason: str) -> None:
    with pytest.raises(StatementRefused) as refused:
        verify({**_wire(), **change}, KEY.public_key(), "ws-demo")
    assert refused.value.reason == reason


def test_a_missing_field_and_another_workshop_are_refused() -> None:
    doc = _wire()
    del doc["effective"]
    with pytest.raises(StatementRefused, match="fields"):
        verify(doc, KEY.public_key(), "ws-demo")
    with pytest.raises(StatementRefused) as refused:
        verify(_wire(), KEY.public_key(), "ws-other")
    assert refused.value.reason == "workshop"


def test_a_checkpoint_signature_never_stands_for_a_statement(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cloud_ingest.store import anchor

    # the same key signs the evidence log's checkpoints: a checkpoint's signature is over another note
    checkpoint = anchor.note(7, "ab" * 32, GOOD.issued_at)
    forged = {**_wire(), "sig": base64.b64encode(KEY.sign(checkpoint)).decode()}
    with pytest.raises(StatementRefused):
        verify(forged, KEY.public_key(), "ws-demo")
