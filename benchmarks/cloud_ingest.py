"""Cloud ingest into PostgreSQL: bulk events/s, and a simulated city's working day with push-to-visible latency.

    .venv/bin/python benchmarks/cloud_ingest.py [--workers 2] [--pushers 8] [--batches 60] [--batch-items 500]
        [--workshops 2000] [--stations 20] [--hours 1] [--speed 10] [--linger 30] [--quick] [--only bulk|city]

Starts its own servers: a temporary PostgreSQL 15 cluster (durable settings:
fsync and synchronous_commit on) and the real cloud app, ``sebiao cloud``
under uvicorn, ``--workers`` processes on their own ports, clients spreading
their connections over them as a load balancer would. Then:

1. bulk: ``--pushers`` gateways of their own workshops push ``--batches``
   gzip batches of ``--batch-items`` events each, all at once, one request in
   flight per gateway; prints the events/s stored (first request to last
   answer) and checks PostgreSQL holds every event exactly once.
2. city: ``--workshops`` workshops of ``--stations`` stations replay
   ``--hours`` of a working day from 08:00, ``--speed`` times faster than real
   time. Each gateway behaves like the push worker (``edge_gateway/
   cloud_push.py``): it takes up to 500 queued items and sends them when 500
   wait, when an alarm transition waits, or when the oldest waiting item is
   ``--linger`` seconds old (``cloud.linger_seconds``, default 30; wall-clock
   seconds as the worker's, so each gateway makes about as many requests per
   second as a real one while its batches carry ``--speed`` times the items),
   polling every 0.2 s; one request in flight per gateway. An inspector,
   in its own process, polls ``GET /api/v1/alarms`` and notes when each
   alarm first appears. Prints the ingest rate, requests/s and their answer
   times, p50/p99/max from the push that carried an alarm's raise to the
   inspector seeing it (and from the raise entering the outbox), and the totals
   checked against PostgreSQL (each fact exactly once, evidence chain whole).

The traffic assumptions are printed with the figures. Bodies are gzipped by
the clients (the gateways' own CPU in reality, the same two cores here).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import multiprocessing as mp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cloud_fixtures import PG_BIN, PostgresServer, _as_postgres, _free_port  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from cloud_ingest.access import admin  # noqa: E402
from cloud_ingest.access.auth import Principal  # noqa: E402
from cloud_ingest.store import db, evidence, migrate  # noqa: E402
from cloud_ingest.store.schema import (  # noqa: E402
    alarm_transitions,
    alarms,
    events,
    evidence_log,
    station_status,
)

T0 = 1_764_142_800_000  # 2025-11-26 08:00 Beijing: the simulated day starts here
ADMIN_PASSWORD = "bench-admin-password-1"
INSPECTOR_PASSWORD = "bench-inspector-pw-1"
COLORS = ("red", "blue", "green", "yellow", "white")
IDLE_POLL = 0.2  # the push worker's poll when its outbox is empty (edge_gateway/sinks/cloud/push.py)
BATCH_ITEMS = 500  # the push worker's default batch_items
LINGER = 30.0  # the push worker's default linger_seconds (edge_gateway/sinks/cloud/config.py)
SYSTEM = Principal("admin", None, "benchmark")


# -- servers ------------------------------------------------------------------------


class Postgres:
    """A temporary cluster with the server's durable defaults, on a free loopback port."""

    def __init__(self) -> None:
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
                                     f"-c max_connections=200 -c shared_buffers=256MB", "start"]),
                       check=True, capture_output=True)
        self.server = PostgresServer(self.port, self.base)
        self.url = self.server.url(self.server.create_database())

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(self.base, ignore_errors=True)


class CloudServers:
    """``sebiao cloud`` processes on their own ports over one database; the first one migrates."""

    def __init__(self, database_url: str, workers: int, workdir: Path) -> None:
        self.ports = [_free_port() for _ in range(workers)]
        self.procs: list[subprocess.Popen] = []
        self.logs = []
        env = {**os.environ, "SEBIAO_CLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD}
        for n, port in enumerate(self.ports):
            config = workdir / f"cloud-{n}.yaml"
            config.write_text(json.dumps({  # JSON is YAML
                "database": {"url": database_url}, "listen": f"127.0.0.1:{port}", "session_secret": "b" * 40,
                "bootstrap_admin": {"username": "admin", "password_env": "SEBIAO_CLOUD_ADMIN_PASSWORD"}}))
            log = open(workdir / f"cloud-{n}.log", "wb")  # noqa: SIM115 - closed in stop()
            self.logs.append(log)
            self.procs.append(subprocess.Popen([str(ROOT / ".venv" / "bin" / "sebiao"), "cloud", "--config",
                                                str(config), "--log-level", "WARNING"], env=env, stdout=log,
                                               stderr=subprocess.STDOUT))
            if n == 0:  # the first migrates and creates the admin; the others then start together
                _wait_http(port, self.procs[0], workdir / "cloud-0.log")
        for n, (port, proc) in enumerate(zip(self.ports, self.procs)):
            _wait_http(port, proc, workdir / f"cloud-{n}.log")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in self.logs:
            log.close()


def _wait_http(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sebiao cloud exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"sebiao cloud did not answer on port {port} within {timeout} s")


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
    """One batch, sent again after a 5xx or no answer (as the push worker does); 200's answer."""
    raw = gzip.compress(body, level)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"}
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
                tokens[ws] = admin.issue_token(conn, SYSTEM, {"kind": "gateway", "workshop": ws}, T0)["token"]
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
    """Rows of the workshops whose id starts with ``prefix``, and whether the evidence chain verifies."""
    engine = db.make_engine(database_url)
    try:
        with db.read(engine) as conn:
            out = {t.name: conn.execute(select(func.count()).select_from(t)
                                        .where(t.c.workshop_id.startswith(prefix))).scalar_one()
                   for t in (events, station_status, alarm_transitions, alarms, evidence_log)}
            out["chain_ok"] = int(evidence.verify(conn).ok)
            return out
    finally:
        engine.dispose()


# -- 1. bulk ---------------------------------------------------------------------------


def event_item(station: str, seq: int, ts: int, tag: str, action: str, tool: str) -> str:
    return json.dumps({"kind": "event", "station": station, "boot": "00c0ffee", "seq": seq, "ts": ts, "tag": tag,
                       "action": action, "tool": tool, "note": None}, separators=(",", ":"))


def bulk(args: argparse.Namespace, database_url: str, ports: list[int]) -> bool:
    workshops = [f"bulk-{n}" for n in range(args.pushers)]
    tokens = make_tenants(database_url, workshops, 1)
    bodies: dict[str, list[bytes]] = {}
    for ws in workshops:  # built and compressed before the clock starts: the gateways do it on their own CPU
        out, seq = [], 0
        for b in range(args.batches):
            items = []
            for _ in range(args.batch_items):
                station = f"rack-{COLORS[seq % 5]}-{seq % 3 + 1}"
                items.append(event_item(station, seq, T0 + seq, "04A224E2C65E80", ("removed", "placed")[seq % 2],
                                        "KN-R-01"))
                seq += 1
            out.append(gzip.compress(_batch(ws, f"e1-{b}", items)))
        bodies[ws] = out

    async def pusher(n: int, ws: str) -> int:
        http, accepted = Http(ports[n % len(ports)]), 0
        headers = {"Authorization": f"Bearer {tokens[ws]}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        for raw in bodies[ws]:
            status, answer = await http.request("POST", "/api/v1/ingest", headers, raw)
            if status != 200:
                raise SystemExit(f"bulk: the cloud answered {status}: {answer[:300]!r}")
            accepted += json.loads(answer)["accepted"]
        http.close()
        return accepted

    async def run() -> tuple[float, int]:
        start = time.perf_counter()
        accepted = sum(await asyncio.gather(*(pusher(n, ws) for n, ws in enumerate(workshops))))
        return time.perf_counter() - start, accepted

    elapsed, accepted = asyncio.run(run())
    sent = args.pushers * args.batches * args.batch_items
    stored = table_counts(database_url, "bulk-")["events"]
    ok = accepted == sent == stored
    print(f"bulk: {args.pushers} pushers x {args.batches} batches x {args.batch_items} events, "
          f"{len(ports)} cloud worker(s)")
    print(f"  {sent} events in {elapsed:.2f} s = {sent / elapsed:,.0f} events/s stored in PostgreSQL "
          f"({sent / args.batch_items / elapsed:.1f} batches/s)")
    print(f"  verified: sent {sent}, accepted {accepted}, rows in PostgreSQL {stored}, "
          f"lost {sent - stored}, duplicates {stored - min(stored, sent)} -> {'OK' if ok else 'FAILED'}")
    return ok


# -- 2. the city ------------------------------------------------------------------------


@dataclass
class Traffic:
    """One workshop's working day, per the assumptions printed by ``describe``."""

    stations: int
    uses_per_day: int = 400  # tool uses in a 10-hour day: 40 tools, each about 10 times
    misuse: float = 0.02  # share of the uses that raise an alarm (cross-zone)
    status_every_ms: int = 60_000  # each station's status, like the firmware's heartbeat_s: 60
    day_ms: int = 10 * 3600_000

    def describe(self, workshops: int) -> str:
        per_day = self.uses_per_day * 4 + self.stations * self.day_ms // self.status_every_ms + \
            round(self.uses_per_day * self.misuse) * 3
        return (f"assumptions per workshop and 10-hour day: {self.stations} stations, each a status per minute "
                f"({self.stations * self.day_ms // self.status_every_ms}); {self.uses_per_day} tool uses of 4 events "
                f"(take at the rack, at the sink in and out, back on the rack: {self.uses_per_day * 4}); "
                f"{self.misuse:.0%} of uses misplaced, each alarm raised, acknowledged after 2 min, cleared after "
                f"10 min ({round(self.uses_per_day * self.misuse) * 3} transitions) -> about {per_day} items; "
                f"the city: {workshops * per_day / self.day_ms * 1000:,.0f} items/s in real time")


@dataclass
class Gateway:
    """One workshop's gateway: generates its facts as simulated time passes and pushes like the push worker."""

    ws: str
    token: str
    traffic: Traffic
    rng: random.Random
    stations: list[str] = field(default_factory=list)
    seq: dict[str, int] = field(default_factory=dict)
    # (item, alarm raised, wall time it was queued, is an alarm transition)
    queue: list[tuple[str, tuple[str, int] | None, float, bool]] = field(default_factory=list)
    alarms_waiting: int = 0  # alarm transitions in the queue: the worker's "an alarm row waits"
    wall: Callable[[int], float] | None = None  # simulated ms -> wall-clock seconds (set by the city)
    next_status: int = T0
    next_use: int = T0
    next_alarm_id: int = 1
    next_history: int = 1
    later: list[tuple[int, str, dict]] = field(default_factory=list)  # alarm transitions due later
    pushed_ids: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"event": 0, "status": 0, "alarm": 0, "raised": 0})

    def __post_init__(self) -> None:
        self.stations = [f"{kind}-{COLORS[n % 5]}-{n // 5 + 1}" for n, kind in
                         enumerate(["rack"] * (self.traffic.stations - 5) + ["sink"] * 5)]
        self.next_status = T0 + self.rng.randrange(self.traffic.status_every_ms)
        self.next_use = T0 + self._gap()

    def _gap(self) -> int:
        return int(self.rng.expovariate(self.traffic.uses_per_day / self.traffic.day_ms)) + 1

    def generate(self, until: int) -> None:
        while self.next_status <= until:
            for s in self.stations:
                self._add(json.dumps({"kind": "status", "station": s, "ts": self.next_status, "online": True,
                                      "buffer_depth": 0, "fw": "1.0.0", "rssi": -60}, separators=(",", ":")),
                          "status", self.next_status)
            self.next_status += self.traffic.status_every_ms
        while self.next_use <= until:
            self._use(self.next_use)
            self.next_use += self._gap()
        self.later.sort()
        while self.later and self.later[0][0] <= until:
            at, action, alarm = self.later.pop(0)
            self._transition(alarm, at, action)

    def _use(self, at: int) -> None:
        color = self.rng.randrange(5)
        rack, sink = self.stations[color], self.stations[-5 + color]
        tool, tag = f"KN-{COLORS[color][0].upper()}-{self.rng.randrange(8):02d}", f"04{color:02X}{self.rng.randrange(256):02X}00000080"
        for n, (station, action) in enumerate(((rack, "removed"), (sink, "placed"), (sink, "removed"),
                                               (rack, "placed"))):
            seq = self.seq.get(station, 0)
            self.seq[station] = seq + 1
            self._add(event_item(station, seq, at + n * 20_000, tag, action, tool), "event", at + n * 20_000)
        if self.rng.random() < self.traffic.misuse:
            white = self.stations[4]
            alarm = {"id": self.next_alarm_id, "workshop": self.ws, "type": "cross_zone", "severity": "critical",
                     "state": "active", "acked": False, "latched": True, "count": 1, "tool": tool, "tag": tag,
                     "station": white, "ts": at, "last_ts": at, "raised_at": at + 50, "updated_at": at + 50,
                     "late": False, "text": {"zh": f"跨区放置：{tool} 被放到白色器具架", "en": f"Cross-zone: {tool} on a white rack"}}
            self.next_alarm_id += 1
            self._transition(alarm, at + 50, "raised")
            self.later += [(at + 120_000, "acknowledged", alarm), (at + 600_000, "cleared", alarm)]

    def _transition(self, alarm: dict, at: int, action: str) -> None:
        if action == "acknowledged":
            alarm.update(acked=True, updated_at=at)
        elif action == "cleared":
            alarm.update(state="cleared", updated_at=at)
        item = {"kind": "alarm", "alarm": dict(alarm), "transition": {
            "seq": self.next_history, "at": at, "action": action, "state": alarm["state"], "acked": alarm["acked"],
            "by": "system" if action == "raised" else "王师傅",
            "comment": "刀具已清洗消毒并放回原位" if action == "cleared" else None}}
        self.next_history += 1
        raised = (self.ws, alarm["id"]) if action == "raised" else None
        self._add(json.dumps(item, ensure_ascii=False, separators=(",", ":")), "alarm", at, raised)

    def _add(self, item: str, kind: str, at: int, raised: tuple[str, int] | None = None) -> None:
        # Queued when it happened (the wall time of its simulated time), not when this gateway's loop
        # got round to generating it: the engine writes a row as the fact comes in.
        self.queue.append((item, raised, min(time.time(), self.wall(at)) if self.wall else time.time(), kind == "alarm"))
        self.alarms_waiting += kind == "alarm"
        self.counts[kind] += 1
        if raised:
            self.counts["raised"] += 1


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def inspector(port: int, token: str, sim_start: float, speed: float, stop, out) -> None:  # type: ignore[no-untyped-def]
    """Its own process: polls the alarm queue and notes when each alarm is first seen (wall clock)."""
    seen: dict[tuple[str, int], float] = {}
    polls = 0
    lookback_ms = int(120_000 * speed)  # alarms up to two real minutes old (by their time in the day)

    async def run() -> None:
        nonlocal polls
        http = Http(port)
        headers = {"Authorization": f"Bearer {token}"}
        while not stop.is_set():
            sim_now = T0 + int((time.time() - sim_start) * speed * 1000)
            to = None
            for _ in range(5):  # newest first, at most 1000 an answer: page back while answers are full
                query = {"from": max(T0, sim_now - lookback_ms), "limit": 1000, **({"to": to} if to else {})}
                status, body = await http.request("GET", "/api/v1/alarms?" + urllib.parse.urlencode(query), headers)
                now = time.time()
                if status != 200:
                    raise SystemExit(f"inspector: GET /api/v1/alarms answered {status}: {body[:300]!r}")
                page = json.loads(body)
                polls += 1
                for a in page:
                    seen.setdefault((a["workshop"], a["gateway_id"]), now)
                if len(page) < 1000:
                    break
                to = page[-1]["ts"] + 1
            await asyncio.sleep(0.25)
        http.close()

    asyncio.run(run())
    out.put((seen, polls))


def city(args: argparse.Namespace, database_url: str, ports: list[int]) -> bool:
    traffic = Traffic(args.stations)
    names = [f"ws-{n:04d}" for n in range(args.workshops)]
    tokens = make_tenants(database_url, names, max(1, args.workshops // 200), inspector=True)
    inspector_token = login(ports[0], "inspector", INSPECTOR_PASSWORD)
    day_end = T0 + int(args.hours * 3600_000)
    rng = random.Random(7)
    gateways = [Gateway(ws, tokens[ws], traffic, random.Random(rng.random())) for ws in names]
    print(f"city: {args.workshops} workshops x {args.stations} stations, {args.hours} h of the day from 08:00 "
          f"at {args.speed}x ({args.hours * 3600 / args.speed:.0f} s), {len(ports)} cloud worker(s)")
    print("  " + traffic.describe(args.workshops))

    ctx = mp.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    sim_start = time.time() + 1.0  # the day begins in a second, for everyone
    for g in gateways:
        g.wall = lambda at: sim_start + (at - T0) / 1000 / args.speed
    watcher = ctx.Process(target=inspector, args=(ports[-1], inspector_token, sim_start, args.speed, stop, out))
    watcher.start()
    pushed_at: dict[tuple[str, int], float] = {}
    queued_at: dict[tuple[str, int], float] = {}
    answer_times: list[float] = []
    totals = {"requests": 0, "items": 0, "accepted": 0, "duplicates": 0, "in_flight": 0, "most_in_flight": 0}

    def sim_now() -> int:
        return T0 + int((time.time() - sim_start) * args.speed * 1000)

    async def gateway_loop(n: int, g: Gateway) -> None:
        http = Http(ports[n % len(ports)])
        await asyncio.sleep(max(0.0, sim_start - time.time()) + g.rng.random() * IDLE_POLL)
        while True:
            done = sim_now() >= day_end
            g.generate(min(sim_now(), day_end - 1))
            if not g.queue:
                if done:
                    break
                await asyncio.sleep(IDLE_POLL)
                continue
            # The push worker's linger (edge_gateway/sinks/cloud/push.py); at the day's end the rest goes at once.
            left = g.queue[0][2] + args.linger - time.time()
            if len(g.queue) < BATCH_ITEMS and not g.alarms_waiting and not done and left > 0:
                await asyncio.sleep(min(left, IDLE_POLL))
                continue
            taken, g.queue = g.queue[:BATCH_ITEMS], g.queue[BATCH_ITEMS:]
            g.alarms_waiting -= sum(alarm for *_, alarm in taken)
            first = g.pushed_ids + 1
            g.pushed_ids += len(taken)
            start = time.time()
            for _, raised, queued, _ in taken:
                if raised:
                    pushed_at[raised], queued_at[raised] = start, queued
            totals["in_flight"] += 1
            totals["most_in_flight"] = max(totals["most_in_flight"], totals["in_flight"])
            answer = await push(http, g.token, _batch(g.ws, f"e1-{first}-{g.pushed_ids}-{len(taken)}",
                                                      [item for item, *_ in taken]), level=1)
            totals["in_flight"] -= 1
            answer_times.append(time.time() - start)
            totals["requests"] += 1
            totals["items"] += answer["items"]
            totals["accepted"] += answer["accepted"]
            totals["duplicates"] += answer["duplicates"]
        http.close()

    async def run() -> float:
        await asyncio.gather(*(gateway_loop(n, g) for n, g in enumerate(gateways)))
        return time.time()

    try:
        finished = asyncio.run(run())
        time.sleep(1.0)  # the inspector's last polls
    finally:
        stop.set()
    seen, polls = out.get(timeout=60)
    watcher.join(30)
    elapsed = finished - sim_start
    sent = {k: sum(g.counts[k] for g in gateways) for k in ("event", "status", "alarm", "raised")}
    stored = table_counts(database_url, "ws-")
    latencies = [seen[k] - t for k, t in pushed_at.items() if k in seen]
    from_queue = [seen[k] - t for k, t in queued_at.items() if k in seen]
    unseen = len(pushed_at) - len(latencies)
    items = sent["event"] + sent["status"] + sent["alarm"]
    ok = (stored["events"] == sent["event"] and stored["station_status"] == sent["status"]
          and stored["alarm_transitions"] == sent["alarm"] and stored["alarms"] == sent["raised"]
          and stored["evidence_log"] == sent["alarm"] and stored["chain_ok"] == 1
          and totals["accepted"] == items and totals["duplicates"] == 0 and unseen == 0)
    planned = args.hours * 3600 / args.speed
    print(f"  ingest: {items:,} items in {totals['requests']:,} requests over {elapsed:.1f} s "
          f"(the day's replay was planned for {planned:.0f} s) = {items / elapsed:,.0f} items/s, "
          f"{totals['requests'] / elapsed:,.0f} requests/s, {items / max(1, totals['requests']):.1f} items/request")
    if answer_times:
        print(f"  gateways linger {args.linger:g} s: a request's answer took p50 "
              f"{statistics.median(answer_times) * 1000:.0f} ms, p99 {_percentile(answer_times, 99) * 1000:.0f} ms; "
              f"at most {totals['most_in_flight']} requests in flight at once (one per gateway)")
    if latencies:
        print(f"  push to visible in GET /api/v1/alarms ({len(latencies)} alarms, inspector polling every 0.25 s, "
              f"{polls} polls): p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {_percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        print(f"  raise queued at the gateway to visible: p50 {statistics.median(from_queue) * 1000:.0f} ms, "
              f"p99 {_percentile(from_queue, 99) * 1000:.0f} ms, max {max(from_queue) * 1000:.0f} ms")
    print(f"  verified against PostgreSQL: events {stored['events']}/{sent['event']}, status "
          f"{stored['station_status']}/{sent['status']}, alarm transitions {stored['alarm_transitions']}/"
          f"{sent['alarm']}, alarms {stored['alarms']}/{sent['raised']}, evidence entries "
          f"{stored['evidence_log']} (chain {'whole' if stored['chain_ok'] else 'BROKEN'}), accepted "
          f"{totals['accepted']}/{items}, duplicates {totals['duplicates']}, alarms never seen {unseen} "
          f"-> {'OK' if ok else 'FAILED'}")
    return ok


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="cloud processes (default 2: the machine's cores)")
    parser.add_argument("--only", choices=["bulk", "city"], help="run one part only")
    parser.add_argument("--pushers", type=int, default=8, help="bulk: concurrent gateways")
    parser.add_argument("--batches", type=int, default=60, help="bulk: batches per gateway")
    parser.add_argument("--batch-items", type=int, default=500, help="bulk: events per batch")
    parser.add_argument("--workshops", type=int, default=2000, help="city: workshops")
    parser.add_argument("--stations", type=int, default=20, help="city: stations per workshop (at least 6)")
    parser.add_argument("--hours", type=float, default=1.0, help="city: hours of the working day replayed (up to 10)")
    parser.add_argument("--speed", type=float, default=10.0, help="city: simulated seconds per real second")
    parser.add_argument("--linger", type=float, default=LINGER,
                        help="city: the gateways' cloud.linger_seconds (default 30, as the push worker's; 0 = none)")
    parser.add_argument("--quick", action="store_true", help="a short run with small numbers (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.pushers, args.batches, args.batch_items = 2, 4, 200
        args.workshops, args.hours, args.speed, args.linger = 20, 0.5, 300.0, 1.0
    if args.stations < 6 or not 0 < args.hours <= 10:
        parser.error("--stations must be at least 6 and --hours between 0 and 10")
    pg = Postgres()
    workdir = Path(tempfile.mkdtemp(prefix="sebiao-bench-cloud-"))
    ok, servers = True, None
    try:
        migrate.upgrade(db.make_engine(pg.url))
        servers = CloudServers(pg.url, args.workers, workdir)
        if args.only in (None, "bulk"):
            ok = bulk(args, pg.url, servers.ports) and ok
        if args.only in (None, "city"):
            ok = city(args, pg.url, servers.ports) and ok
    finally:
        if servers is not None:
            servers.stop()
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("all checks passed" if ok else "CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
