"""Bearer tokens: random secrets shown once, stored only as SHA-256 hashes.

Gateway tokens (``sbg_…``) write one workshop's data through the ingest
endpoint; API tokens (``sba_…``) act for one user on the JSON API, until they
expire (``LIFETIME_DAYS``) or are revoked. A token is
high-entropy, so a plain SHA-256 is enough to keep a database dump from
yielding usable tokens (passwords, which are not, use argon2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PREFIX = {"gateway": "sbg_", "api": "sba_"}
# How long a token lasts unless the admin says otherwise (``expires_in_days``); None: until revoked. A gateway
# token does not expire by default: a workshop's gateway must not fall silent on a date nobody remembers.
LIFETIME_DAYS: dict[str, int | None] = {"gateway": None, "api": 90, "login": 7}  # login: POST /api/v1/login
MAX_LIFETIME_DAYS = 3650


@dataclass(frozen=True)
class NewToken:
    kind: str
    secret: str  # shown to the admin once, never stored
    digest: str

    def __post_init__(self) -> None:
        if self.kind not in PREFIX:
            raise ValueError(f"token kind {self.kind!r} is not one of: {', '.join(PREFIX)}")


def new_token(kind: str) -> NewToken:
    secret = PREFIX.get(kind, "") + secrets.token_urlsafe(32)
    return NewToken(kind, secret, token_digest(secret))


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
