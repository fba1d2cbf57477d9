"""The pages' sessions: a signed cookie naming a session the database keeps, its CSRF token and idle expiry
(the login itself, with its brake on password guessing, is ``access.login``'s, shared with the JSON login).

The cookie holds ``{"i": session id, "u": user id, "c": CSRF token, "s": login
time, "t": last page, "p": password fingerprint}``, signed with
``config.session_secret`` (itsdangerous, with a salt of its own so no other
signed value of the service passes as a session). A signature alone proves
only that the service once issued the cookie, not that the session still
stands: so the database keeps a row per session (``page_sessions``, the
SHA-256 of its id, never the id itself), and a cookie counts only while its
row is there. Logging out deletes the row, and so does disabling the user
(``access.admin``): a copied cookie is dead at once, on every worker, and
stays dead across restarts.

The cookie is re-signed with a new "t" on every page, and refused once unused
for ``IDLE_SECONDS`` or older than ``MAX_SECONDS`` (both judged by the
``clock`` given, so they are testable without waiting); a row outlives its
cookie by nothing: rows past ``MAX_SECONDS`` are deleted at the next login.
The fingerprint (an HMAC of the stored password hash) logs every session of a
user out when the password changes. HttpOnly, SameSite=Strict, and Secure when
the request came over https (behind a proxy listed in ``trusted_proxies``,
its ``X-Forwarded-Proto``).

Bearer tokens are never a page session, and the JSON API never reads this
cookie: each side authenticates only its own way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, delete, select
from starlette.requests import Request
from starlette.responses import Response

from cloud_ingest.access.auth import Principal, principal_of_user
from cloud_ingest.store.schema import page_sessions, users

COOKIE = "sebiao_cloud"
IDLE_SECONDS = 8 * 3600
MAX_SECONDS = 7 * 24 * 3600  # even a page left open and reloaded must log in again after a week
SALT = "sebiao-cloud-page-session"


@dataclass(frozen=True, kw_only=True)
class Session:
    sid: str  # random; the database keeps its digest
    user_id: int
    csrf: str
    started: int  # s since the epoch
    fingerprint: str

    def __post_init__(self) -> None:
        if not (isinstance(self.sid, str) and self.sid and isinstance(self.user_id, int) and self.csrf
                and isinstance(self.started, int) and self.fingerprint):
            raise ValueError("a session needs an id, a user id, a CSRF token, a start time and a fingerprint")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.sid.encode()).hexdigest()

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
        return Session(sid=secrets.token_urlsafe(32), user_id=user_id, csrf=secrets.token_urlsafe(24),
                       started=int(self._clock()), fingerprint=self.fingerprint(password_hash))

    def start(self, conn: Connection, session: Session) -> None:
        """Keeps the new session (and lets go of the rows of sessions past their longest life)."""
        now_ms = int(self._clock() * 1000)
        conn.execute(delete(page_sessions).where(page_sessions.c.expires_at < now_ms))
        conn.execute(page_sessions.insert().values(id=session.digest, user_id=session.user_id,
                                                   started_at=session.started * 1000,
                                                   expires_at=(session.started + MAX_SECONDS) * 1000))

    @staticmethod
    def end(conn: Connection, session: Session) -> None:
        """Logs the session out for good: its cookie names no row any more."""
        conn.execute(delete(page_sessions).where(page_sessions.c.id == session.digest))

    def read(self, request: Request) -> Session | None:
        """The cookie's session if its signature and times hold (whether it still stands is ``principal``'s)."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
            session = Session(sid=data["i"], user_id=data["u"], csrf=data["c"], started=data["s"],
                              fingerprint=data["p"])
            seen = data["t"]
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self._clock()
        if not isinstance(seen, int) or now - seen > IDLE_SECONDS or now - session.started > MAX_SECONDS:
            return None
        return session

    def principal(self, conn: Connection, session: Session) -> Principal | None:
        """The session's user as a Principal, built as for a token; None once the session was logged out,
        the user disabled or its password changed."""
        row = conn.execute(select(users.c.password_hash, users.c.disabled_at)
                           .join(page_sessions, page_sessions.c.user_id == users.c.id)
                           .where(page_sessions.c.id == session.digest, users.c.id == session.user_id)).first()
        if (row is None or row.disabled_at is not None
                or not hmac.compare_digest(self.fingerprint(row.password_hash), session.fingerprint)):
            return None
        return principal_of_user(conn, session.user_id)

    def write(self, response: Response, session: Session, secure: bool) -> None:
        value = self._serializer.dumps({"i": session.sid, "u": session.user_id, "c": session.csrf,
                                        "s": session.started, "t": int(self._clock()), "p": session.fingerprint})
        response.set_cookie(COOKIE, value, max_age=IDLE_SECONDS, path="/", httponly=True, samesite="strict",
                            secure=secure)

    @staticmethod
    def clear(response: Response, secure: bool) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
