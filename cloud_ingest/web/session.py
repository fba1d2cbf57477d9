"""The pages' sessions: a signed cookie, its CSRF token, idle expiry, and a brake on password guessing.

The cookie holds ``{"u": user id, "c": CSRF token, "s": login time, "t": last
page, "p": password fingerprint}``, signed with ``config.session_secret``
(itsdangerous, with a salt of its own so no other signed value of the service
passes as a session). It is re-signed with a new "t" on every page, and refused
once unused for ``IDLE_SECONDS`` or older than ``MAX_SECONDS`` (both judged by
the ``clock`` given, so they are testable without waiting); the fingerprint (an HMAC of the stored password hash)
logs every session of a user out when the password changes. HttpOnly,
SameSite=Strict, and Secure when the request came over https (behind a proxy:
uvicorn's ``--proxy-headers`` makes that the client's scheme).

Bearer tokens are never a page session, and the JSON API never reads this
cookie: each side authenticates only its own way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response

from cloud_ingest.access.auth import Principal, principal_of_user
from cloud_ingest.access.passwords import hash_password, verify_password
from cloud_ingest.store.schema import users

COOKIE = "sebiao_cloud"
IDLE_SECONDS = 8 * 3600
MAX_SECONDS = 7 * 24 * 3600  # even a page left open and reloaded must log in again after a week
SALT = "sebiao-cloud-page-session"


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    started: int  # s since the epoch
    fingerprint: str

    def __post_init__(self) -> None:
        if not (isinstance(self.user_id, int) and self.csrf and isinstance(self.started, int)
                and self.fingerprint):
            raise ValueError("a session needs a user id, a CSRF token, a start time and a fingerprint")

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest((sent or "").encode(), self.csrf.encode())


class Sessions:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeSerializer(secret, salt=SALT)
        self._secret = secret.encode()
        self._clock = clock

    def fingerprint(self, password_hash: str) -> str:
        return hmac.new(self._secret, password_hash.encode(), hashlib.sha256).hexdigest()[:32]

    def new(self, user_id: int, password_hash: str) -> Session:
        return Session(user_id, secrets.token_urlsafe(24), int(self._clock()), self.fingerprint(password_hash))

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
            session = Session(data["u"], data["c"], data["s"], data["p"])
            seen = data["t"]
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self._clock()
        if not isinstance(seen, int) or now - seen > IDLE_SECONDS or now - session.started > MAX_SECONDS:
            return None
        return session

    def principal(self, conn: Connection, session: Session) -> Principal | None:
        """The session's user as a Principal, built as for a token; None once the user or password changed."""
        row = conn.execute(select(users.c.password_hash).where(users.c.id == session.user_id)).first()
        if row is None or not hmac.compare_digest(self.fingerprint(row.password_hash), session.fingerprint):
            return None
        return principal_of_user(conn, session.user_id)

    def write(self, response: Response, session: Session, secure: bool) -> None:
        value = self._serializer.dumps({"u": session.user_id, "c": session.csrf, "s": session.started,
                                        "t": int(self._clock()), "p": session.fingerprint})
        response.set_cookie(COOKIE, value, max_age=IDLE_SECONDS, path="/", httponly=True, samesite="strict",
                            secure=secure)

    @staticmethod
    def clear(response: Response, secure: bool) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


class LoginBrake:
    """At most ``per_user`` failed logins per username and ``per_client`` per client address within
    ``window`` seconds; then ``wait`` says how long until the next try."""

    def __init__(self, per_user: int = 5, per_client: int = 20, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user, self.per_client, self.window, self._clock = per_user, per_client, window, clock
        self._failures: dict[str, deque[float]] = {}

    def wait(self, client: str, username: str) -> float:
        waits = [self._wait(f"c:{client}", self.per_client), self._wait(f"u:{username}", self.per_user)]
        return max(waits)

    def failed(self, client: str, username: str) -> None:
        for key, limit in ((f"c:{client}", self.per_client), (f"u:{username}", self.per_user)):
            self._recent(key, limit).append(self._clock())

    def _wait(self, key: str, limit: int) -> float:
        recent = self._recent(key, limit)
        if len(recent) < limit:
            return 0.0
        return max(0.0, recent[0] + self.window - self._clock())

    def _recent(self, key: str, limit: int) -> deque[float]:
        recent = self._failures.setdefault(key, deque(maxlen=limit))
        while recent and recent[0] < self._clock() - self.window:
            recent.popleft()
        if len(self._failures) > 10_000:  # a flood of names or addresses: forget the oldest
            self._failures.pop(next(iter(self._failures)))
        return recent


class PasswordCheck:
    """Username and password → the user's id and hash, or None. An unknown user costs the same argon2
    verification as a known one, so the answer's timing does not tell which usernames exist."""

    def __init__(self) -> None:
        self._dummy: str | None = None

    def __call__(self, conn: Connection, username: str, password: str) -> tuple[int, str] | None:
        row = conn.execute(select(users.c.id, users.c.password_hash).where(users.c.username == username)).first()
        if row is None:
            if self._dummy is None:
                self._dummy = hash_password(secrets.token_urlsafe(16))
            verify_password(self._dummy, password)
            return None
        return (row.id, row.password_hash) if verify_password(row.password_hash, password) else None
