"""A gateway's signature on a pushed batch: what is signed, the header that carries it, the key's pasted form.

Each gateway holds its own Ed25519 key (made in its data dir); the cloud holds
only the public key, registered with the gateway's token. The gateway signs::

    sebiao batch v1\\n<workshop>\\n<batch id>\\n<sha256 hex of the inflated body>\\n

so a signature binds the exact body (compression aside: gzip level and
headers may differ, the inflated bytes may not), its workshop and its batch
id: a body altered, or replayed under another workshop or batch id, does not
verify. It travels in ``X-Sebiao-Signature: ed25519=<base64 of 64 bytes>``,
at most ``MAX_HEADER_CHARS`` long.

A public key is written ``ed25519:<base64 of its 32 raw bytes>`` (one line an
admin pastes); its key id is the first 16 hex digits of the SHA-256 of those
bytes (the form of the cloud's checkpoint key ids).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography (11 MB resident) is imported where a key is used, so a gateway without a
    # cloud never loads it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER = "X-Sebiao-Signature"
SCHEME = "ed25519="
MAX_HEADER_CHARS = 200  # the value: "ed25519=" and 88 base64 characters, with room for spaces
KEY_PREFIX = "ed25519:"
ORIGIN = "sebiao batch v1"


def message(workshop: str, batch: str, digest: str) -> bytes:
    """The signed bytes of a batch; ``digest``: the SHA-256 (hex) of its inflated body."""
    return f"{ORIGIN}\n{workshop}\n{batch}\n{digest}\n".encode()


def body_digest(inflated: bytes) -> str:
    return hashlib.sha256(inflated).hexdigest()


def sign(key: Ed25519PrivateKey, workshop: str, batch: str, inflated: bytes) -> str:
    """The header value for this body."""
    return SCHEME + base64.b64encode(key.sign(message(workshop, batch, body_digest(inflated)))).decode()


def parse_header(value: str | None) -> bytes:
    """The signature's 64 bytes; ValueError saying what is wrong (missing, too long, not ed25519, not base64)."""
    if value is None or not value.strip():
        raise ValueError(f"no {HEADER} header")
    if len(value) > MAX_HEADER_CHARS:
        raise ValueError(f"{HEADER} is longer than {MAX_HEADER_CHARS} characters")
    value = value.strip()
    if not value.startswith(SCHEME):
        raise ValueError(f"{HEADER} must be {SCHEME}<base64>")
    try:
        raw = base64.b64decode(value[len(SCHEME):].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{HEADER} is not base64") from None
    if len(raw) != 64:
        raise ValueError(f"{HEADER} holds {len(raw)} bytes, an Ed25519 signature has 64")
    return raw


def verifies(public: Ed25519PublicKey, signature: bytes, workshop: str, batch: str, digest: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(signature, message(workshop, batch, digest))
    except InvalidSignature:
        return False
    return True


def raw_public(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(public: Ed25519PublicKey) -> str:
    return KEY_PREFIX + base64.b64encode(raw_public(public)).decode()


def parse_public(text: object) -> Ed25519PublicKey:
    """A pasted public key; ValueError saying what is wrong."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(text, str) or not text.strip().startswith(KEY_PREFIX) or len(text) > 100:
        raise ValueError(f"must be {KEY_PREFIX}<base64 of 32 bytes>, as `sebiao gateway-key` prints it")
    try:
        raw = base64.b64decode(text.strip()[len(KEY_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"the key has {len(raw)} bytes, an Ed25519 public key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]
