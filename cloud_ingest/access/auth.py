"""Who is calling: a bearer token becomes a ``Principal`` (or ``Unauthorized``).

Roles: ``admin`` (everything; a district admin, one with districts, only
within them: their workshops, inspectors, owners and tokens), ``inspector``
(the workshops of its districts), ``owner`` (its one workshop), and
``gateway`` (a workshop's gateway token: it may only push that workshop's
batches). A token counts until it is revoked or expires, and a user's only
while the user is not disabled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Connection, Engine, select

from cloud_ingest.access.tokens import token_digest
from cloud_ingest.errors import Forbidden, Unauthorized
from cloud_ingest.store import db
from cloud_ingest.store.schema import api_tokens, user_districts, users


@dataclass(frozen=True)
class Principal:
    role: str  # admin | inspector | owner | gateway
    user_id: int | None = None
    username: str | None = None
    workshop: str | None = None  # owner's workshop, or the gateway token's
    districts: frozenset[str] = frozenset()  # an inspector's scope, or a district admin's
    token_id: int | None = None  # the bearer token the request came with (None: a page session)
    public_key: str | None = None  # a gateway token's registered key (``batch_signature.public_text``), if any

    def __post_init__(self) -> None:
        if self.role not in ("admin", "inspector", "owner", "gateway"):
            raise ValueError(f"unknown role {self.role!r}")
        if (self.role in ("owner", "gateway")) != (self.workshop is not None):
            raise ValueError(f"a {self.role} principal needs a workshop exactly when it is an owner or gateway")

    @property
    def everywhere(self) -> bool:
        """An admin of every district (no districts of its own), as opposed to a district admin."""
        return self.role == "admin" and not self.districts

    def require(self, *roles: str) -> "Principal":
        if self.role not in roles:
            raise Forbidden("无权执行此操作", f"the role {self.role} may not do this (needs {' or '.join(roles)})")
        return self


def bearer(header: str | None) -> str:
    scheme, _, secret = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("需要有效的访问令牌", "a valid bearer token is required")
    return secret.strip()


def authenticate(conn: Connection, secret: str, *, now: int, lock: bool = False) -> Principal:
    """``now``: the cloud's clock (ms), against the token's expiry. ``lock``: hold the token's row
    (``FOR SHARE``) until the transaction ends, so that a revocation waits for the write this token is
    doing instead of racing it (SQLite's single writer does the same)."""
    query = select(api_tokens).where(api_tokens.c.token_hash == token_digest(secret))
    row = conn.execute(query.with_for_update(read=True) if lock else query).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("令牌无效或已吊销", "the token is unknown or revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("令牌已过期", "the token has expired")
    if row.kind == "gateway":
        return Principal("gateway", workshop=row.workshop_id, token_id=row.id, public_key=row.public_key)
    who = principal_of_user(conn, row.user_id, token_id=row.id)
    if who is None:
        raise Unauthorized("用户已停用", "the user is disabled")
    return who


def principal_of_user(conn: Connection, user_id: int, *, token_id: int | None = None) -> Principal | None:
    """The user as a Principal; None while the user is disabled."""
    user = conn.execute(select(users).where(users.c.id == user_id)).one()
    if user.disabled_at is not None:
        return None
    districts = frozenset(conn.execute(select(user_districts.c.district_id)
                                       .where(user_districts.c.user_id == user_id)).scalars())
    return Principal(user.role, user.id, user.username, user.workshop_id, districts, token_id)


@dataclass
class GatewayGate:
    """The ingest's first, cheap check of a gateway token, before the body is inflated and parsed.

    It remembers for ``ttl`` seconds the secrets that were valid gateway tokens, so a gateway pushing
    often costs no extra transaction per batch. It only keeps strangers from making us parse: what
    decides is the check in the storing transaction (``ingest.storing.store_batch``), which sees a revocation
    made meanwhile, so a token revoked within the ``ttl`` is refused there (401), after the parse.
    """

    # A gateway pushes every ``linger_seconds`` (30 by default): a memory shorter than that would ask the
    # database on nearly every batch. Five minutes: a revoked token is still refused by the storing check.
    ttl: float = 300.0
    most: int = 100_000  # remembered secrets; the memory is emptied when full
    clock: Callable[[], float] = time.monotonic
    _valid_until: dict[str, float] = field(default_factory=dict)

    def check(self, engine: Engine, secret: str, now: int) -> None:
        """``now``: the cloud's clock (ms), against the token's expiry."""
        digest = token_digest(secret)
        if self._valid_until.get(digest, 0.0) > self.clock():
            return
        with db.read(engine) as conn:
            authenticate(conn, secret, now=now).require("gateway")
        if len(self._valid_until) >= self.most:
            self._valid_until.clear()
        self._valid_until[digest] = self.clock() + self.ttl

    def forget(self, secret: str) -> None:
        """The storing check refused this token (revoked, expired): the next batch is checked here again."""
        self._valid_until.pop(token_digest(secret), None)
