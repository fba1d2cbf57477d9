"""The cloud benchmark's servers and clients: a temporary durable PostgreSQL, sebiao cloud worker
processes, an HTTP client, tenants and logins, table counts (used by ``benchmarks/cloud_ingest.py``)."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
from cloud_fixtures import PG_BIN, PostgresServer, _as_postgres, _free_port
from cloud_server import CloudServer
from gateway_keys import gateway_token, signature_headers
from sqlalchemy import func, select, text

from cloud_ingest.access import admin
from cloud_ingest.access.auth import Principal
from cloud_ingest.store import db, evidence
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    evidence_log,
    station_status,
)

T0 = 1_764_142_800_000  # 2025-11-26 08:00 Beijing: the simulated day starts here
ADMIN_PASSWORD = "bench-admin-password-1"
INSPECTOR_PASSWORD = "bench-inspector-pw-1"
SYSTEM = Principal("admin", None, "benchmark")


# -- servers ------------------------------------------------------------------------


class Postgres:
    """A temporary cluster with the server's durable defaults, on a free loopback port."""

    def __init__(self, statements: bool = False) -> None:
        """``statements``: with pg_stat_statements loaded (``top_statements``)."""
        self.base = Path(tempfile.mkdtemp(prefix="sebiao-bench-pg-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.port = _free_port()
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
        (self.data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"),
                                     "-w", "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
                                     f"-c max_connections=200 -c shared_buffers=256MB"
                                     + (" -c shared_preload_libraries=pg_stat_statements" if statements else ""),
                                     "start"]),
                       check=True, capture_output=True)
        self.server = PostgresServer(self.port, self.base)
        self.url = self.server.url(self.server.create_database())

    def cpu(self) -> float:
        """CPU seconds (user + system) of the cluster so far: the postmaster, its children now, and those ended."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        total = proc_cpu(postmaster, children_ended=True)
        for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
            total += proc_cpu(int(child))
        return total

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def proc_cpu(pid: int, children_ended: bool = False) -> float:
    """CPU seconds (user + system) of a process so far (0 when it has ended), with ``children_ended`` those of its
    children it has waited for too."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children_ended else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


class CloudServers:
    """``sebiao cloud`` processes on their own ports over one database; the first one migrates."""

    def __init__(self, database_url: str, workers: int, workdir: Path) -> None:
        env = {"SEBIAO_CLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD}
        admin = {"username": "admin", "password_env": "SEBIAO_CLOUD_ADMIN_PASSWORD"}
        self.servers = [CloudServer(workdir, database_url, env=env, name=f"cloud-{n}", session_secret="b" * 40,
                                    bootstrap_admin=admin) for n in range(workers)]
        try:
            self.servers[0].start()  # the first migrates and creates the admin; the others then start together
            if workers > 1:
                with ThreadPoolExecutor(workers - 1) as pool:
                    list(pool.map(CloudServer.start, self.servers[1:]))
        except BaseException:
            self.stop()
            raise

    def cpu(self) -> float:
        """CPU seconds (user + system) of the worker processes so far."""
        return sum(proc_cpu(server.pid) for server in self.servers)

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(CloudServer.stop, self.servers))


# -- a small keep-alive HTTP/1.1 client (one request in flight per connection, like a gateway) ----------


class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: open a new one
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            try:
                self.writer.write(head.encode() + body)
                return await self._answer()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self) -> tuple[int, bytes]:
        assert self.reader is not None
        line = await self.reader.readline()
        if not line:  # the server closed an idle keep-alive connection
            raise ConnectionResetError("the server closed the connection")
        status = int(line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _batch(workshop: str, batch_id: str, items: list[str]) -> bytes:
    head = json.dumps({"v": 1, "workshop": workshop, "batch": batch_id}, separators=(",", ":"))[:-1]
    return f'{head},"items":[{",".join(items)}]}}'.encode()


async def push(http: Http, token: str, body: bytes, level: int = 6) -> dict:
    """One batch, signed by its workshop's test gateway key, sent again after a 5xx or no answer (as the push
    worker does); 200's answer."""
    raw = gzip.compress(body, level)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip",
               **signature_headers(body)}
    return await post_batch(http, headers, raw)


async def post_batch(http, headers: dict[str, str], raw: bytes) -> dict:
    """``raw`` (gzipped, signed in ``headers``) to the ingest, sent again after a 5xx, a 429 or no answer, as
    the push worker does; 200's answer. ``http``: anything with ``request(method, path, headers, body)``."""
    for _ in range(20):
        try:
            status, answer = await http.request("POST", "/api/v1/ingest", headers, raw)
        except (ConnectionError, asyncio.IncompleteReadError):
            status, answer = 0, b""
        if status == 200:
            return json.loads(answer)
        if status and status < 500 and status != 429:
            raise SystemExit(f"the cloud refused a batch: {status} {answer[:300]!r}")
        await asyncio.sleep(0.5)
    raise SystemExit("the cloud did not take a batch after 20 attempts")


# -- tenants --------------------------------------------------------------------------


def make_tenants(database_url: str, workshops: list[str], districts: int, inspector: bool = False) -> dict[str, str]:
    """Districts, workshops and one gateway token each, through the admin functions, in one transaction;
    with ``inspector``, an inspector of those districts. Returns the gateway tokens by workshop."""
    engine = db.make_engine(database_url)
    tokens = {}
    try:
        with db.write(engine) as conn:
            district = f"d-{workshops[0].split('-')[0]}"
            for d in range(districts):
                admin.create_district(conn, SYSTEM, {"id": f"{district}-{d}", "name": f"区 {district}-{d}"})
            for n, ws in enumerate(workshops):
                admin.create_workshop(conn, SYSTEM, {"id": ws, "name": f"作坊 {ws}",
                                                     "district": f"{district}-{n % districts}"}, T0)
                tokens[ws] = admin.issue_token(conn, SYSTEM, gateway_token(ws), T0)["token"]
            if inspector:
                admin.create_user(conn, SYSTEM, {"username": "inspector", "password": INSPECTOR_PASSWORD,
                                                 "role": "inspector",
                                                 "districts": [f"{district}-{d}" for d in range(districts)]}, T0)
    finally:
        engine.dispose()
    return tokens


def login(port: int, username: str, password: str) -> str:
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/login", method="POST",
                                 data=json.dumps({"username": username, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["token"]


def table_counts(database_url: str, prefix: str) -> dict[str, int]:
    """Rows of the workshops whose id starts with ``prefix`` (``evidence_log``: the transitions' entries), and
    whether the evidence chain verifies."""
    engine = db.make_engine(database_url)
    try:
        with db.read(engine) as conn:
            out = {t.name: conn.execute(select(func.count()).select_from(t)
                                        .where(t.c.workshop_id.startswith(prefix))).scalar_one()
                   for t in (events, station_status, alarm_transitions, alarms)}
            # one entry per transition (the batches' events have an entry per batch besides)
            out["evidence_log"] = conn.execute(select(func.count()).select_from(evidence_log).where(
                evidence_log.c.workshop_id.startswith(prefix), evidence_log.c.kind == "alarm_transition")).scalar_one()
            out["chain_ok"] = int(evidence.verify(conn).ok)
            return out
    finally:
        engine.dispose()


def pg_counters(database_url: str) -> dict[str, int]:
    """This database's commits and rollbacks so far (pg_stat_database)."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                                    "WHERE datname = current_database()")).one()
            return {"commits": row[0], "rollbacks": row[1]}
    finally:
        engine.dispose()


def pg_sizes(database_url: str) -> dict[str, int]:
    """Bytes on disk of each table of the cloud's schema, its indexes and TOAST included, largest first."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                                     "AND n.nspname = 'public' ORDER BY 2 DESC")).all()
            return {name: size for name, size in rows}
    finally:
        engine.dispose()


def top_statements(database_url: str, n: int = 12) -> list[tuple[float, int, float, str]]:
    """pg_stat_statements' ``n`` costliest statements: (total ms, calls, ms per call, the text's start)."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT total_exec_time, calls, mean_exec_time, "
                                     "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
                                     "ORDER BY total_exec_time DESC LIMIT :n"), {"n": n}).all()
            return [(r[0], r[1], r[2], r[3][:150]) for r in rows]
    finally:
        engine.dispose()


# -- 1. bulk ---------------------------------------------------------------------------


