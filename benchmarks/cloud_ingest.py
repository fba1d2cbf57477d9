"""Cloud ingest into PostgreSQL: bulk events/s, and a simulated city's (or province's) day with push-to-visible latency.

    .venv/bin/python benchmarks/cloud_ingest.py [--workers 2] [--pushers 8] [--batches 60] [--batch-items 500]
        [--workshops 2000] [--stations 20] [--hours 1] [--speed 10] [--linger 30] [--clients 1] [--upstream 32]
        [--province] [--pg-statements] [--quick] [--only bulk|city]

Starts its own servers: a temporary PostgreSQL 15 cluster (durable settings:
fsync and synchronous_commit on) and the real cloud app, ``sebiao cloud``
under uvicorn, ``--workers`` processes on their own ports, clients spreading
their connections over them as a load balancer would. Then:

1. bulk: ``--pushers`` gateways of their own workshops push ``--batches``
   gzip batches of ``--batch-items`` events each, all at once, one request in
   flight per gateway; prints the events/s stored (first request to last
   answer), the CPU of the workers and of PostgreSQL per event and per batch,
   and checks PostgreSQL holds every event exactly once.
2. city: ``--workshops`` workshops of ``--stations`` stations replay
   ``--hours`` of a working day from 08:00, ``--speed`` times faster than real
   time. Each gateway behaves like the push worker (``edge_gateway/sinks/
   cloud/push.py``): it takes up to 500 queued items and sends them when 500
   wait, when an alarm transition waits, or when the oldest waiting item is
   ``--linger`` seconds old (``cloud.linger_seconds``, default 30; wall-clock
   seconds as the worker's, so each gateway makes about as many requests per
   second as a real one while its batches carry ``--speed`` times the items),
   honouring the cloud's back-pressure (``linger_seconds`` in an answer) and
   marking batches that carry an alarm; one request in flight per gateway.
   The gateways run in ``--clients`` processes (``city_gateways.py``: how they
   stay cheap). An inspector, in its own process, polls ``GET /api/v1/alarms``
   and notes when each alarm first appears. Prints the ingest rate offered
   and stored, requests/s and their answer times, p50/p99/max from the push
   that carried an alarm's raise to the inspector seeing it (and from the
   raise entering the outbox), the CPU of the workers, of PostgreSQL and of
   the clients, PostgreSQL's commits/s, the bytes on disk per item, and the
   totals checked against PostgreSQL (each fact exactly once, evidence chain
   whole). ``--province``: 20,000 workshops in real time for 6 minutes (``--only
   city --workshops 20000 --speed 1 --hours 0.1 --clients 2``).

``--pg-statements`` loads pg_stat_statements and prints the costliest
statements at the end. The traffic assumptions are printed with the figures.
Bodies are gzipped and signed by the clients (the gateways' own CPU in
reality, the same two cores here: their CPU is printed apart).
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
import sys
import tempfile
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
from city_gateways import COLORS, LINGER, Gateway, Traffic, event_item, inspector, run_gateways
from cloud_servers import (
    INSPECTOR_PASSWORD,
    T0,
    CloudServers,
    Http,
    Postgres,
    _batch,
    login,
    make_tenants,
    pg_counters,
    pg_sizes,
    table_counts,
    top_statements,
)
from gateway_keys import signature_headers
from sqlalchemy import text

from cloud_ingest.store import db, migrate


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def bulk(args: argparse.Namespace, database_url: str, servers: CloudServers, pg: Postgres) -> bool:
    ports = servers.ports
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

    cpu0, pg0, counters0, load0 = servers.cpu(), pg.cpu(), pg_counters(database_url), os.getloadavg()
    elapsed, accepted = asyncio.run(run())
    cloud_cpu, pg_cpu, load1 = servers.cpu() - cpu0, pg.cpu() - pg0, os.getloadavg()
    commits = pg_counters(database_url)["commits"] - counters0["commits"]
    sent = args.pushers * args.batches * args.batch_items
    stored = table_counts(database_url, "bulk-")["events"]
    ok = accepted == sent == stored
    print(f"bulk: {args.pushers} pushers x {args.batches} batches x {args.batch_items} events, "
          f"{len(ports)} cloud worker(s)")
    print(f"  {sent} events in {elapsed:.2f} s = {sent / elapsed:,.0f} events/s stored in PostgreSQL "
          f"({sent / args.batch_items / elapsed:.1f} batches/s)")
    requests = args.pushers * args.batches
    print(f"  CPU (load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end): cloud workers {cloud_cpu:.1f} s "
          f"({cloud_cpu / sent * 1e6:.0f} us an event, {cloud_cpu / requests * 1000:.1f} ms a batch), PostgreSQL "
          f"{pg_cpu:.1f} s ({pg_cpu / sent * 1e6:.0f} us an event); {commits:,} commits ({commits / elapsed:,.0f}/s)")
    print(f"  verified: sent {sent}, accepted {accepted}, rows in PostgreSQL {stored}, "
          f"lost {sent - stored}, duplicates {stored - min(stored, sent)} -> {'OK' if ok else 'FAILED'}")
    return ok


# -- 2. the city (or the province) -------------------------------------------------------


def city(args: argparse.Namespace, database_url: str, servers: CloudServers, pg: Postgres) -> bool:
    ports = servers.ports
    traffic = Traffic(args.stations)
    names = [f"ws-{n:05d}" for n in range(args.workshops)]
    made = time.perf_counter()
    tokens = make_tenants(database_url, names, max(1, args.workshops // 200), inspector=True)
    made = time.perf_counter() - made
    inspector_token = login(ports[0], "inspector", INSPECTOR_PASSWORD)
    day_end = T0 + int(args.hours * 3600_000)
    rng = random.Random(7)
    sim_start = time.time() + 3.0 + args.workshops / 20_000  # the day begins for everyone once the clients are up
    gateways = [Gateway(ws, tokens[ws], traffic, random.Random(rng.random()), port=ports[n % len(ports)],
                        sim_start=sim_start, speed=args.speed) for n, ws in enumerate(names)]
    clients = max(1, min(args.clients, args.workshops))
    print(f"city: {args.workshops} workshops x {args.stations} stations, {args.hours} h of the day from 08:00 "
          f"at {args.speed}x ({args.hours * 3600 / args.speed:.0f} s), {len(ports)} cloud worker(s); "
          f"{clients} client process(es), each a load balancer keeping {args.upstream} idle keep-alive connections "
          f"per worker; tenants made in {made:.0f} s")
    print("  " + traffic.describe(args.workshops))

    ctx = mp.get_context("fork")
    stop, out, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    watcher = ctx.Process(target=inspector, args=(ports[-1], inspector_token, sim_start, args.speed, stop, out))
    procs = [ctx.Process(target=run_gateways, args=(gateways[k::clients], ports, args.upstream, args.linger,
                                                     day_end, results)) for k in range(clients)]
    for p in [watcher, *procs]:
        p.start()
    time.sleep(max(0.0, sim_start - time.time()))
    cpu0, pg0, counters0, load0 = servers.cpu(), pg.cpu(), pg_counters(database_url), os.getloadavg()
    parts = [results.get() for _ in procs]  # blocks until every client has finished its day
    finished = max(p["finished"] for p in parts)
    cloud_cpu, pg_cpu, counters1, load1 = servers.cpu() - cpu0, pg.cpu() - pg0, pg_counters(database_url), \
        os.getloadavg()
    time.sleep(1.0)  # the inspector's last polls
    stop.set()
    seen, polls, inspector_took, inspector_cpu = out.get(timeout=60)
    for p in [watcher, *procs]:
        p.join(30)
    elapsed = finished - sim_start
    pushed_at = {k: v for p in parts for k, v in p["pushed_at"].items()}
    queued_at = {k: v for p in parts for k, v in p["queued_at"].items()}
    answer_times = [t for p in parts for t in p["answer_times"]]
    totals = {k: sum(p["totals"][k] for p in parts) for k in ("requests", "items", "accepted", "duplicates", "asked")}
    in_flight = sum(p["totals"]["most_in_flight"] for p in parts)
    connections = sum(p["totals"].get("connections", 0) for p in parts)
    sent = {k: sum(p["counts"][k] for p in parts) for k in ("event", "status", "alarm", "raised")}
    client_cpu = sum(p["cpu"] for p in parts)
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
    requests = max(1, totals["requests"])
    print(f"  offered {items / planned:,.0f} items/s over the planned {planned:.0f} s; stored {items:,} items in "
          f"{totals['requests']:,} requests over {elapsed:.1f} s = {items / elapsed:,.0f} items/s, "
          f"{totals['requests'] / elapsed:,.0f} requests/s, {items / requests:.1f} items/request")
    if answer_times:
        print(f"  gateways linger {args.linger:g} s: a request's answer took p50 "
              f"{statistics.median(answer_times) * 1000:.0f} ms, p99 {_percentile(answer_times, 99) * 1000:.0f} ms, "
              f"max {max(answer_times) * 1000:.0f} ms; at most {in_flight} requests in flight (one per gateway), "
              f"{connections:,} connections to the workers at once; "
              f"{totals['asked']:,} answers asked the gateway to linger longer (the cloud busy)")
    if latencies:
        print(f"  push to visible in GET /api/v1/alarms ({len(latencies)} alarms, inspector polling every 0.25 s, "
              f"{polls} polls, each answered p50 {statistics.median(inspector_took) * 1000:.0f} ms): "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {_percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        print(f"  raise queued at the gateway to visible: p50 {statistics.median(from_queue) * 1000:.0f} ms, "
              f"p99 {_percentile(from_queue, 99) * 1000:.0f} ms, max {max(from_queue) * 1000:.0f} ms")
    commits = counters1["commits"] - counters0["commits"]
    print(f"  CPU over the replay ({elapsed:.0f} s; load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the "
          f"end): cloud workers {cloud_cpu:.1f} s ({cloud_cpu / elapsed:.2f} cores; "
          f"{cloud_cpu / requests * 1000:.2f} ms a request, {cloud_cpu / max(1, items) * 1e6:.0f} us an item), "
          f"PostgreSQL {pg_cpu:.1f} s ({pg_cpu / elapsed:.2f} cores; {pg_cpu / requests * 1000:.2f} ms a request, "
          f"{pg_cpu / max(1, items) * 1e6:.0f} us an item), {commits:,} commits ({commits / elapsed:,.0f}/s, "
          f"{(counters1['rollbacks'] - counters0['rollbacks']):,} rollbacks); simulated gateways {client_cpu:.1f} s "
          f"({client_cpu / elapsed:.2f} cores), inspector {inspector_cpu:.1f} s; the clients woke up to "
          f"{max(p['late'] for p in parts) * 1000:.0f} ms late (p99)")
    print(f"  verified against PostgreSQL: events {stored['events']}/{sent['event']}, status "
          f"{stored['station_status']}/{sent['status']}, alarm transitions {stored['alarm_transitions']}/"
          f"{sent['alarm']}, alarms {stored['alarms']}/{sent['raised']}, transition entries "
          f"{stored['evidence_log']} (chain {'whole' if stored['chain_ok'] else 'BROKEN'}), accepted "
          f"{totals['accepted']}/{items}, duplicates {totals['duplicates']}, alarms never seen {unseen} "
          f"-> {'OK' if ok else 'FAILED'}")
    disk(database_url, items, traffic, args.workshops)
    return ok


def disk(database_url: str, items: int, traffic: Traffic, workshops: int) -> None:
    """Bytes on disk per stored item (all tables, their indexes included), and per day for these workshops."""
    sizes = pg_sizes(database_url)
    total = sum(sizes.values())
    per_day = traffic.per_day() * workshops
    largest = ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, size in list(sizes.items())[:6])
    print(f"  on disk: {total / 2**20:,.0f} MiB for {items:,} items = {total / max(1, items):.0f} bytes an item "
          f"(tables and indexes; {largest}); a working day of {workshops:,} workshops ({per_day:,} items) "
          f"about {total / max(1, items) * per_day / 2**30:,.1f} GiB")


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
    parser.add_argument("--clients", type=int, default=1, help="city: processes simulating the gateways")
    parser.add_argument("--upstream", type=int, default=32,
                        help="city: idle keep-alive connections kept per client process and cloud worker (nginx's keepalive)")
    parser.add_argument("--province", action="store_true",
                        help="the province: --only city --workshops 20000 --speed 1 --hours 0.1 --clients 2")
    parser.add_argument("--pg-statements", action="store_true",
                        help="load pg_stat_statements and print the costliest statements at the end")
    parser.add_argument("--quick", action="store_true", help="a short run with small numbers (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.pushers, args.batches, args.batch_items = 2, 4, 200
        args.workshops, args.hours, args.speed, args.linger = 20, 0.5, 300.0, 1.0
    if args.province:
        args.only, args.workshops, args.speed, args.clients = "city", 20_000, 1.0, max(args.clients, 2)
        args.hours = args.hours if "--hours" in (argv if argv is not None else sys.argv) else 0.1
    if args.stations < 6 or not 0 < args.hours <= 10:
        parser.error("--stations must be at least 6 and --hours between 0 and 10")
    pg = Postgres(statements=args.pg_statements)
    workdir = Path(tempfile.mkdtemp(prefix="sebiao-bench-cloud-"))
    ok, servers = True, None
    try:
        engine = db.make_engine(pg.url)
        migrate.upgrade(engine)
        if args.pg_statements:
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION pg_stat_statements"))
        engine.dispose()
        servers = CloudServers(pg.url, args.workers, workdir)
        if args.only in (None, "bulk"):
            ok = bulk(args, pg.url, servers, pg) and ok
        if args.only in (None, "city"):
            ok = city(args, pg.url, servers, pg) and ok
        if args.pg_statements:
            print("  PostgreSQL's costliest statements (total ms, calls, ms a call):")
            for total, calls, mean, query in top_statements(pg.url):
                print(f"    {total:10,.0f} {calls:8,} {mean:7.2f}  {query}")
    finally:
        if servers is not None:
            servers.stop()
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("all checks passed" if ok else "CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
