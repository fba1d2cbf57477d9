"""Logging in with a username and password: one way for the JSON login and the pages' login form.

``Logins.check`` is the whole of it: the brake first (``sebiao_common.login_brake``:
per client address and per (username, client), so a guesser waits and the user
logging in from elsewhere does not), then the password. An unknown username
costs the same argon2 verification as a known one (against a hash made once for
that purpose), so the answer's timing does not tell which usernames exist.
``cloud_ingest.app.build_app`` makes one ``Logins`` and hands it to both the API
and the pages: the brake counts a client's failures on both together.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, select

from cloud_ingest.access.passwords import hash_password, verify_password
from cloud_ingest.errors import TooManyAttempts, Unauthorized
from cloud_ingest.store.schema import users
from sebiao_common.login_brake import LoginBrake

WRONG = ("用户名或密码错误", "wrong username or password")


@dataclass(frozen=True, kw_only=True)
class Checked:
    """Who logged in: the user's id and its stored hash (the pages' session fingerprint)."""

    user_id: int
    password_hash: str


class PasswordCheck:
    """Username and password -> ``Checked``, or None. Exactly one argon2 verification either way."""

    def __init__(self) -> None:
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def __call__(self, conn: Connection, username: str, password: str) -> Checked | None:
        """None for an unknown user, a wrong password, and a disabled user (whose answer and timing are
        those of a wrong password: a disabled account is not told apart)."""
        row = conn.execute(select(users.c.id, users.c.password_hash, users.c.disabled_at)
                           .where(users.c.username == username)).first()
        if row is None:
            verify_password(self._dummy_hash(), password)
            return None
        if not verify_password(row.password_hash, password) or row.disabled_at is not None:
            return None
        return Checked(user_id=row.id, password_hash=row.password_hash)

    def _dummy_hash(self) -> str:
        with self._lock:  # made once, with the parameters in force, like a real user's hash
            if self._dummy is None:
                self._dummy = hash_password(secrets.token_urlsafe(16))
            return self._dummy


class Logins:
    def __init__(self, brake: LoginBrake | None = None) -> None:
        self.brake = brake or LoginBrake()
        self.password_check = PasswordCheck()

    def check(self, conn: Connection, client: str, username: str, password: str) -> Checked:
        """The user, or ``TooManyAttempts`` (429, nothing checked) or ``Unauthorized`` (401)."""
        wait = self.brake.reserve(client, username)
        if wait > 0:
            raise TooManyAttempts(wait)
        found = self.password_check(conn, username, password)
        if found is None:
            raise Unauthorized(*WRONG)
        self.brake.succeeded(client, username)
        return found
