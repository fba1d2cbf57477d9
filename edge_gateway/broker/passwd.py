"""Mosquitto password file entries (``mosquitto_passwd`` format), in pure Python.

Mosquitto 2.0 writes ``user:$7$101$<base64 salt>$<base64 hash>``: PBKDF2 with
HMAC-SHA512, 101 iterations, a 12-byte salt and a 64-byte key, both in standard
base64 with padding. We write the same so ``mosquitto`` reads our files without
``mosquitto_passwd`` being installed, and the embedded broker checks passwords
with the very same hashes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

PBKDF2_ID = "7"
ITERATIONS = 101  # what mosquitto_passwd 2.0 uses; mosquitto reads the count from the entry
SALT_BYTES = 12
KEY_BYTES = 64


@dataclass(frozen=True, kw_only=True)
class PasswdEntry:
    username: str
    hash: str  # "$7$101$<salt>$<key>"

    def line(self) -> str:
        return f"{self.username}:{self.hash}"


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, KEY_BYTES)
    return f"${PBKDF2_ID}${iterations}${_b64(salt)}${_b64(key)}"


def verify_password(password: str | bytes, hashed: str) -> bool:
    """True when ``password`` matches a ``$7$`` hash; False for any other or malformed hash."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != PBKDF2_ID or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except (binascii.Error, ValueError):
        return False
    secret = password if isinstance(password, bytes) else password.encode("utf-8")
    key = hashlib.pbkdf2_hmac("sha512", secret, salt, int(parts[2]), len(expected) or KEY_BYTES)
    return hmac.compare_digest(key, expected)


def parse_passwd(text: str) -> dict[str, str]:
    """``username -> hash`` from a password file; blank lines and ``#`` comments are skipped."""
    entries: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        username, hashed = line.split(":", 1)
        entries[username] = hashed
    return entries


def render_passwd(entries: list[PasswdEntry]) -> str:
    return "".join(entry.line() + "\n" for entry in entries)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
