"""The grade statement: the regulator's published grade (分级定榜) of one workshop, signed by the cloud.

The cloud signs, the gateway verifies, so both must build the same bytes. The
signed note is text, one field a line, like the evidence checkpoints
(``cloud_ingest/store/anchor.py``) but with its own first line, so that a
checkpoint's signature can never stand for a statement or the reverse, even
when one Ed25519 key signs both::

    sebiao grade statement\\n<workshop>\\n<grade>\\n<effective>\\n<seq>\\n<issued_at>\\n

``grade``: gold | silver | bronze | orange (金榜/银榜/铜榜/橙榜);
``effective``: the date it takes effect (``YYYY-MM-DD``); ``seq``: the
cloud's id of this grading, growing with every new one, so a gateway never
goes back to an older statement; ``issued_at``: when the cloud signed it (ms).
On the wire (``GET /api/v1/grade``) it is a JSON object with the fields
above, ``"v": 1``, ``"origin"``, ``"key"`` (the key id: the first 16 hex of
the SHA-256 of the raw public key) and ``"sig"`` (base64).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sebiao_common.ids import SLUG

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ORIGIN = "sebiao grade statement"
# Best first: an up-grade (升榜) moves to a lower index, a down-grade (降榜) to a higher one.
GRADES = ("gold", "silver", "bronze", "orange")
GRADE_WORDS = {"gold": ("金榜", "Gold list"), "silver": ("银榜", "Silver list"),
               "bronze": ("铜榜", "Bronze list"), "orange": ("橙榜", "Orange list")}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIELDS = ("v", "origin", "workshop", "grade", "effective", "seq", "issued_at", "key", "sig")


class StatementRefused(ValueError):
    """A statement that must not be shown; ``reason`` is a short word for the counter (``signature``,
    ``workshop``, ``older``, ``malformed``, ``key``, ``clock``), the message says what is wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class GradeStatement:
    workshop: str
    grade: str
    effective: str
    seq: int
    issued_at: int

    def __post_init__(self) -> None:
        if not isinstance(self.workshop, str) or len(self.workshop) > 32 or not re.fullmatch(SLUG, self.workshop):
            raise ValueError(f"workshop {self.workshop!r} is not a workshop id")
        if self.grade not in GRADES:
            raise ValueError(f"grade {self.grade!r} is not one of: {', '.join(GRADES)}")
        if not DATE.fullmatch(self.effective):
            raise ValueError(f"effective {self.effective!r} is not a date YYYY-MM-DD")
        if type(self.seq) is not int or self.seq < 1 or type(self.issued_at) is not int or self.issued_at < 0:
            raise ValueError("seq must be a positive integer and issued_at a time in ms")

    def note(self) -> bytes:
        """The bytes the cloud signs."""
        return f"{ORIGIN}\n{self.workshop}\n{self.grade}\n{self.effective}\n{self.seq}\n{self.issued_at}\n".encode()

    def wire(self, key: str, sig: str) -> dict[str, Any]:
        return {"v": 1, "origin": ORIGIN, "workshop": self.workshop, "grade": self.grade,
                "effective": self.effective, "seq": self.seq, "issued_at": self.issued_at, "key": key, "sig": sig}


def key_id(public: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization  # here, not at the top: see parse_public_key

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; ValueError saying why not."""
    # cryptography (11 MB resident) is imported where a key is used: a gateway without a cloud never loads it
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_public_key(value: str, base: Path) -> Ed25519PublicKey:
    """``value``: the PEM text itself, or the path of a PEM file (relative to ``base``)."""
    if "-----BEGIN" in value:
        return parse_public_key(value)
    path = base / value
    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        return parse_public_key(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def verify(doc: Any, key: Ed25519PublicKey, workshop: str) -> GradeStatement:
    """The statement in ``doc`` (the wire object), when it is well formed, signed by ``key`` and about
    ``workshop``; StatementRefused otherwise. Freshness (never an older one) is the holder's to judge."""
    from cryptography.exceptions import InvalidSignature

    # fields a later cloud adds are not signed and not read: an older gateway still takes the statement
    if not isinstance(doc, dict) or not set(FIELDS) <= set(doc) or doc.get("v") != 1 or doc.get("origin") != ORIGIN:
        raise StatementRefused("malformed", f"not a grade statement (fields: {', '.join(FIELDS)})")
    try:
        statement = GradeStatement(workshop=doc["workshop"], grade=doc["grade"], effective=doc["effective"],
                                   seq=doc["seq"], issued_at=doc["issued_at"])
    except (ValueError, TypeError) as exc:
        raise StatementRefused("malformed", f"grade statement: {exc}") from exc
    if doc["key"] != key_id(key):
        raise StatementRefused("key", f"signed with key {str(doc['key'])[:32]!r}, not the cloud's key {key_id(key)}")
    try:
        key.verify(base64.b64decode(str(doc["sig"]), validate=True), statement.note())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise StatementRefused("signature", "the signature does not verify with the cloud's public key") from exc
    if statement.workshop != workshop:
        raise StatementRefused("workshop", f"the statement is about workshop {statement.workshop!r}, "
                                           f"not this one ({workshop!r})")
    return statement
