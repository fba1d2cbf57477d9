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
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
from cloud_servers import (
    INSPECTOR_PASSWORD,
    T0,
    CloudServers,
    Http,
    Postgres,
    _batch,
    login,
    make_tenants,
    push,
    table_counts,
)
from gateway_keys import signature_headers

from cloud_ingest.store import db, migrate

COLORS = ("red", "blue", "green", "yellow", "white")
IDLE_POLL = 0.2  # the push worker's poll when its outbox is empty (edge_gateway/sinks/cloud/push.py)
BATCH_ITEMS = 500  # the push worker's default batch_items
LINGER = 30.0  # the push worker's default linger_seconds (edge_gateway/sinks/cloud/config.py)


def event_item(station: str, seq: int, ts: int, tag: str, action: str, tool: str) -> str:
    return json.dumps({"kind": "event", "station": station, "boot": "00c0ffee", "seq": seq, "ts": ts, "tag": tag,
                       "action": action, "tool": tool, "note": None}, separators=(",", ":"))


def bulk(args: argparse.Namespace, database_url: str, ports: list[int]) -> bool:
    workshops = [f"bulk-{n}" for n in range(args.pushers)]
    tokens = make_tenants(database_url, workshops, 1)
    bodies: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
    for ws in workshops:  # built, signed and compressed before the clock starts: the gateways do it on their own CPU
        out, seq = [], 0
        for b in range(args.batches):
            items = []
            for _ in range(args.batch_items):
                station = f"rack-{COLORS[seq % 5]}-{seq % 3 + 1}"
                items.append(event_item(station, seq, T0 + seq, "04A224E2C65E80", ("removed", "placed")[seq % 2],
                                        "KN-R-01"))
                seq += 1
            body = _batch(ws, f"e1-{b}", items)
            out.append((gzip.compress(body), signature_headers(body)))
        bodies[ws] = out

    async def pusher(n: int, ws: str) -> int:
        http, accepted = Http(ports[n % len(ports)]), 0
        headers = {"Authorization": f"Bearer {tokens[ws]}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        for raw, signature in bodies[ws]:
            status, answer = await http.request("POST", "/api/v1/ingest", {**headers, **signature}, raw)
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
          f"{sent['alarm']}, alarms {stored['alarms']}/{sent['raised']}, transition entries "
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
