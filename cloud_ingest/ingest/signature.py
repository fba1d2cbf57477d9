"""A batch's signature, checked before anything of it is stored, and the signed batch kept for ``verify``.

The gateway signs its batch's workshop, batch id and the SHA-256 of the
inflated body with its own key (``sebiao_common.batch_signature``); the
cloud holds the public key registered with the gateway's token. A batch is
refused before anything is written when the header is missing or malformed
(401), when its token has no key yet (403, saying how to register one) or
when the signature does not verify with that key (403: another key, an
altered body, a body replayed under another workshop or batch id).

The body as received (gzip), its digest and signature go into
``signed_batches``, in the storing transaction; the batch's evidence entries
carry ``"signed": {"batch", "digest", "key", "sig"}``, so that
``sebiao cloud verify`` (``store/signed.py``) can check, long after, that the
rows are those the gateway signed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import Forbidden, Unauthorized
from cloud_ingest.store.schema import signed_batches
from cloud_ingest.wire.batch import Batch
from sebiao_common import batch_signature


@dataclass(frozen=True, kw_only=True)
class Signed:
    """What the request brought: the signature header (None: absent) and the body as received."""

    header: str | None
    body: bytes


@dataclass(frozen=True, kw_only=True)
class Checked:
    token_id: int
    key_id: str
    signature: str  # base64

    def evidence(self, batch: Batch) -> dict[str, Any]:
        """What a batch's evidence entries carry of its signature."""
        return {"batch": batch.batch, "digest": batch.digest, "key": self.key_id, "sig": self.signature}


def check(who: Principal, batch: Batch, signed: Signed) -> Checked:
    try:
        raw = batch_signature.parse_header(signed.header)
    except ValueError as exc:
        raise Unauthorized("批次缺少有效的网关签名", f"the batch needs its gateway's signature: {exc}") from None
    if who.public_key is None:
        raise Forbidden("此网关令牌尚未登记网关公钥：请管理员用 sebiao gateway-key 打印的公钥登记",
                        f"this gateway token (id {who.token_id}) has no registered public key: an admin registers "
                        f"the one `sebiao gateway-key` prints on the gateway with POST /api/v1/admin/tokens/"
                        f"{who.token_id}/key {{\"public_key\": \"ed25519:…\"}}")
    public = batch_signature.parse_public(who.public_key)
    if not batch_signature.verifies(public, raw, batch.workshop, batch.batch, batch.digest):
        raise Forbidden("网关签名无效（密钥不符或内容被改动）",
                        "the gateway's signature does not verify: another key, or the body, workshop or batch id "
                        "was changed")
    if who.token_id is None:  # a gateway principal always comes from a token: never so, but never stored so
        raise Unauthorized("需要网关令牌", "a gateway token is required")
    return Checked(token_id=who.token_id, key_id=batch_signature.key_id(public),
                   signature=base64.b64encode(raw).decode())


def keep(conn: Connection, batch: Batch, signed: Signed, checked: Checked, now: int) -> None:
    conn.execute(signed_batches.insert().values(
        workshop_id=batch.workshop, batch=batch.batch, token_id=checked.token_id, key_id=checked.key_id,
        digest=batch.digest, signature=checked.signature, body=signed.body, received_at=now))
