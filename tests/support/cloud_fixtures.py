"""Fixtures of the cloud tests: the same tests run on SQLite and on a real PostgreSQL.

``postgres_server`` (session scope) starts a temporary PostgreSQL 15 cluster
(Debian's ``postgresql`` package) on a free loopback port, trust auth on
127.0.0.1 only; as root it runs as the ``postgres`` user with its data dir in a
temp dir owned by it. ``cloud_url`` is parametrized: a fresh SQLite file, or a
fresh database in that cluster, always built by the Alembic migrations.

``pg_roles`` makes the two PostgreSQL roles of docs/cloud-ingest.md (an owner
that runs the migrations, a login role for the workers that owns nothing) and a
database the owner owns; the workers' grants are what ``sebiao cloud migrate
--grant-to`` gives. ``Cloud`` is the app in process over such a database;
``cloud_server.CloudServer`` serves one from a real ``sebiao cloud`` process.

Import the fixtures into a test module: ``from cloud_fixtures import *``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from argon2.profiles import CHEAPEST
from gateway_keys import gateway_token, signature_headers
from servers import bind_failed, free_port
from sqlalchemy import Connection, Engine, text
from starlette.testclient import TestClient

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import build_app, prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = "admin-password-123"
SECRET = "s" * 40
T0 = 1_764_142_800_000

__all__ = ["postgres_server", "cloud_url", "cloud", "pg_roles", "PG_BIN", "gz", "Cloud", "T0"]


@dataclass
class PostgresServer:
    port: int
    dir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self._psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _psql(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)


_free_port = free_port  # a module attribute of its own: tests/support/test_busy_ports.py replaces it


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_postgres(base: Path, attempts: int = 3) -> PostgresServer:
    """A new cluster in ``base/data`` (fsync off: tests only), started on a free loopback port.

    ``pg_ctl -w`` waits for its own postmaster, so another server on the port is never mistaken
    for it; when another program took the port between choosing and binding it (a busy machine),
    the start is tried again on a new port.
    """
    data, log = base / "data", base / "log"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
    (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    for attempt in range(attempts):
        port = _free_port()
        offset = log.stat().st_size if log.exists() else 0
        started = subprocess.run(_as_postgres([
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off", "start"]), capture_output=True, text=True)
        if started.returncode == 0:
            return PostgresServer(port, base)
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        if not bind_failed(text) or attempt == attempts - 1:
            raise RuntimeError(f"PostgreSQL did not start on port {port}:\n{started.stderr}\n{text[-2000:]}")
    raise AssertionError("unreachable")


def stop_postgres(server: PostgresServer) -> None:
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(server.dir / "data"), "-m", "immediate",
                                 "stop"]), capture_output=True)
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail("PostgreSQL 15 is not installed: scripts/test installs Debian's postgresql package")
    base = Path(tempfile.mkdtemp(prefix="sebiao-pg-"))
    try:
        server = start_postgres(base)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def cloud_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@dataclass
class PgRoles:
    """A database owned by ``owner`` (it runs the migrations), and ``app``, the workers' login role."""

    server: PostgresServer
    owner: str
    app: str
    database: str

    def url(self, role: str) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.server.port}/{self.database}"

    def connect(self, role: str):  # type: ignore[no-untyped-def]
        import psycopg
        return psycopg.connect(f"host=127.0.0.1 port={self.server.port} user={role} dbname={self.database}",
                               autocommit=True)


@pytest.fixture
def pg_roles(postgres_server: PostgresServer) -> Iterator[PgRoles]:
    """docs/cloud-ingest.md's roles, made by a superuser: names unique per test (roles are the cluster's)."""
    tag = uuid.uuid4().hex[:8]
    roles = PgRoles(postgres_server, f"sebiao_owner_{tag}", f"sebiao_app_{tag}", f"t_{tag}")
    for sql in (f"CREATE ROLE {roles.owner} LOGIN", f"CREATE ROLE {roles.app} LOGIN",
                f"CREATE DATABASE {roles.database} OWNER {roles.owner}"):
        postgres_server._psql(sql)
    try:
        yield roles
    finally:
        postgres_server.drop_database(roles.database)
        for role in (roles.app, roles.owner):
            postgres_server._psql(f"DROP ROLE IF EXISTS {role}")


def gz(doc: Any) -> bytes:
    return gzip.compress(json.dumps(doc).encode())


class Cloud:
    """A migrated database, the app over it, and a few tenants made through the admin functions."""

    def __init__(self, url: str, now: int = T0) -> None:
        """``now``: the app's clock, moved by tests; a server that runs on the real clock afterwards needs
        the real time here, or the login tokens made now will have expired."""
        self.url = url
        passwords.use_parameters(CHEAPEST)  # argon2 at full cost would make these tests slow
        self.config = CloudConfig("test.yaml", url, "127.0.0.1", 0, SECRET,
                                  bootstrap_admin=BootstrapAdmin("admin", ADMIN_PASSWORD))
        self.engine: Engine = db.make_engine(url)
        self.now = now
        prepare(self.engine, self.config, lambda: self.now)
        self.client = TestClient(build_app(self.engine, self.config, lambda: self.now))
        self.admin_token = self.login("admin", ADMIN_PASSWORD)

    def login(self, username: str, password: str) -> str:
        r = self.client.post("/api/v1/login", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def as_admin(self, fn, *args: Any) -> Any:  # type: ignore[no-untyped-def]
        with db.write(self.engine) as conn:
            return fn(conn, Principal("admin", 1, "admin"), *args)

    def tenants(self) -> dict[str, str]:
        """Districts d1 (workshops ws-a, ws-b) and d2 (ws-c); tokens of each role and gateway, by name."""
        self.as_admin(admin.create_district, {"id": "d1", "name": "昆都仑区"})
        self.as_admin(admin.create_district, {"id": "d2", "name": "青山区"})
        for ws, d in (("ws-a", "d1"), ("ws-b", "d1"), ("ws-c", "d2")):
            self.as_admin(admin.create_workshop, {"id": ws, "name": f"作坊 {ws}", "district": d}, self.now)
        users = {"insp1": {"role": "inspector", "districts": ["d1"]},
                 "insp2": {"role": "inspector", "districts": ["d2"]},
                 "owner-a": {"role": "owner", "workshop": "ws-a"},
                 "owner-c": {"role": "owner", "workshop": "ws-c"}}
        tokens = {"admin": self.admin_token}
        for name, spec in users.items():
            self.as_admin(admin.create_user, {"username": name, "password": "pw-" + name + "-123456", **spec},
                          self.now)
            tokens[name] = self.login(name, "pw-" + name + "-123456")
        for ws in ("ws-a", "ws-b", "ws-c"):
            tokens["gw-" + ws] = self.as_admin(admin.issue_token, gateway_token(ws), self.now)["token"]
        return tokens

    def push(self, token: str, doc: Any, raw: bytes | None = None, encoding: str = "gzip",  # type: ignore[no-untyped-def]
             signed: bool = True):
        """Signed as the batch's workshop's gateway would (``gateway_keys``), unless ``signed=False``."""
        body = gz(doc) if raw is None else raw
        return self.client.post("/api/v1/ingest", content=body, headers={
            "Authorization": f"Bearer {token}", "Content-Encoding": encoding, "Content-Type": "application/json",
            **(signature_headers(body) if signed else {})})

    def get(self, token: str | None, path: str, **params: Any):  # type: ignore[no-untyped-def]
        # no params: keep a query written into the path (httpx would replace it with an empty one)
        return self.client.get(path, params=params or None, headers=_auth(token))

    def post(self, token: str | None, path: str, body: Any = None):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=body if body is not None else {}, headers=_auth(token))


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def cloud(cloud_url: str) -> Iterator[Cloud]:
    c = Cloud(cloud_url)
    try:
        yield c
    finally:
        c.client.close()
        c.engine.dispose()


def event(station: str = "rack-red-1", seq: int = 0, ts: int = T0, tool: str | None = "KN-R-01",
          action: str = "removed", boot: str = "1a2b3c4d") -> dict:
    return {"kind": "event", "station": station, "boot": boot, "seq": seq, "ts": ts, "tag": "04A224E2C65E80",
            "action": action, "tool": tool}


def alarm(alarm_id: int = 12, seq: int = 1, action: str = "raised", state: str = "active", at: int = T0 + 100,
          severity: str = "critical", comment: str | None = None, acked: bool = False) -> dict:
    return {"kind": "alarm",
            "alarm": {"id": alarm_id, "type": "cross_zone", "severity": severity, "state": state, "acked": acked,
                      "latched": True, "count": 1, "tool": "KN-R-01", "tag": "04A224E2C65E80",
                      "station": "rack-white-1", "ts": T0, "last_ts": T0, "raised_at": T0 + 50, "updated_at": at,
                      "late": False, "text": {"zh": "跨区放置", "en": "Cross-zone"}},
            "transition": {"seq": seq, "at": at, "action": action, "state": state, "acked": acked,
                           "by": "system" if action == "raised" else "王师傅", "comment": comment}}


def status(station: str = "rack-red-1", ts: int = T0, online: bool = True) -> dict:
    return {"kind": "status", "station": station, "ts": ts, "online": online, "buffer_depth": 0, "fw": "1.0.0"}


def batch(workshop: str, batch_id: str, items: list[dict]) -> dict:
    return {"v": 1, "workshop": workshop, "batch": batch_id, "items": items}


__all__ += ["event", "alarm", "status", "batch"]


def unguard(conn: Connection, *tables: str) -> None:
    """What the tables' owner (or a tamperer with its rights) can do: the append-only guard of ``tables`` off.
    SQLite: their ``_no_update`` and ``_no_delete`` triggers dropped; PostgreSQL: their triggers disabled."""
    for table in tables:
        if conn.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
        else:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


# -- the world of the page tests (test_cloud_pages.py and its Chromium review) ---------------

PASSWORD = {name: f"pw-{name}-123456" for name in ("insp1", "insp2", "owner-a", "owner-c")}  # Cloud.tenants'
DAY = "2025-11-26"  # T0's day in China Standard Time
CORRECTIVE = "已将红色刀具送回生肉区清洗消毒 — 王师傅"


def world_batches() -> list[tuple[str, str, dict]]:
    """(gateway, workshop, batch): a critical cross-zone alarm of ws-a with the knife's events, its workshop
    acknowledgement with a corrective action; a minor alarm of ws-b; an alarm of ws-c in the other district."""
    knife = [event("rack-red-1", 1, T0 - 60_000, action="removed"), event("rack-white-1", 2, T0, action="placed")]
    ack = alarm(12, 2, "acknowledged", at=T0 + 5000, comment=CORRECTIVE, acked=True)
    minor = alarm(7, 1, severity="minor")
    minor["alarm"]["type"] = "overdue"
    other = alarm(3, 1)
    return [("gw-ws-a", "ws-a", batch("ws-a", "a-1", [*knife, alarm(12, 1), ack, status("rack-red-1"),
                                                      status("rack-white-1", online=False)])),
            ("gw-ws-b", "ws-b", batch("ws-b", "b-1", [minor])),
            ("gw-ws-c", "ws-c", batch("ws-c", "c-1", [other]))]
