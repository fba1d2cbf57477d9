"""The console's login: a password (``display.console_password``, else ``http.token``),
a signed session cookie, CSRF tokens, and a brake on password guessing.

The session cookie is Starlette's SessionMiddleware (itsdangerous-signed,
HttpOnly, SameSite=Strict). Its key is random, kept in the data dir
(``web-session.key``, mode 0600), so a restart keeps logins. The cookie names
a random session id that the store keeps (``store.console_sessions``): it
counts only while that row is there, so a logout ends the cookie and every
copy of it for good, restarts included. The session stores a fingerprint of
the password: changing the password in the config logs every session out. The
raw password or token never goes into a page or a cookie. The store is asked in
the thread pool (``logged_in``, ``log_in``, ``log_out`` block on SQLite).

CSRF: every POST from a logged-in page carries ``X-CSRF-Token`` equal to the
session's token (compared in constant time), and a POST whose ``Origin`` is
another site is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import Request

from edge_gateway.store.console_sessions import ConsoleSessions
from sebiao_common.clock import Clock
from sebiao_common.errors import SebiaoError
from sebiao_common.login_brake import LoginBrake

KEY_FILE = "web-session.key"
MAX_FAILURES = 5  # per client within FAILURE_WINDOW
FAILURE_WINDOW = 60.0
OWNER = "owner"  # the console's one user


def session_key(data_dir: Path) -> str:
    """The cookie-signing key, created on first use in the data dir."""
    path = data_dir / KEY_FILE
    try:
        if path.exists():
            key = path.read_text("ascii").strip()
            if len(key) >= 32:
                return key
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key
    except OSError as exc:
        raise SebiaoError(f"{path}: cannot keep the console's session key: {exc.strerror or exc}") from exc


class ConsoleAuth:
    def __init__(self, password: str | None, key: str, *, clock: Clock, sessions: ConsoleSessions) -> None:
        """``clock``: the gateway's (ms since the epoch), for the time of a login; ``sessions``: the logins
        the store keeps."""
        self.password = password
        self.clock = clock
        self.key = key
        self.sessions = sessions
        self._fingerprint = (hmac.new(key.encode(), password.encode(), hashlib.sha256).hexdigest()[:32]
                             if password else None)
        self.brake = LoginBrake(per_client=MAX_FAILURES, per_user_client=MAX_FAILURES, window=FAILURE_WINDOW)

    @property
    def enabled(self) -> bool:
        return self.password is not None

    # -- login -----------------------------------------------------------------

    def reserve(self, client: str) -> float:
        """0: ``client`` may try now (the try counts as a failure until ``check`` finds it right);
        otherwise the seconds until it may. Called right before ``check``, with nothing awaited between,
        so parallel tries cannot all pass the brake before the first failure is counted."""
        return self.brake.reserve(client, OWNER)

    def check(self, client: str, password: str) -> bool:
        ok = self.password is not None and hmac.compare_digest(password.encode(), self.password.encode())
        if ok:
            self.brake.succeeded(client, OWNER)
        return ok

    def log_in(self, request: Request) -> None:
        sid = secrets.token_urlsafe(32)
        self.sessions.start(sid, self.clock())
        request.session.clear()
        request.session.update({"user": OWNER, "sid": sid, "csrf": secrets.token_urlsafe(24),
                                "pw": self._fingerprint, "at": self.clock() // 1000})

    def log_out(self, request: Request) -> None:
        sid = request.session.get("sid")
        if isinstance(sid, str):
            self.sessions.end(sid)
        request.session.clear()

    # -- every request -------------------------------------------------------

    def logged_in(self, request: Request) -> bool:
        session = request.session
        return (self.enabled and session.get("user") == OWNER and isinstance(session.get("pw"), str)
                and hmac.compare_digest(session["pw"], self._fingerprint or "")
                and isinstance(session.get("sid"), str) and self.sessions.alive(session["sid"]))

    @staticmethod
    def csrf_token(request: Request) -> str:
        return request.session.get("csrf", "")

    def csrf_ok(self, request: Request) -> bool:
        sent = request.headers.get("x-csrf-token", "")
        expected = self.csrf_token(request)
        return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())
