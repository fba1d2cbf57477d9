"""A crowd scanning one shop's QR code: how fast the cloud serves the public page, and how often it reads the
database for it.

    .venv/bin/python benchmarks/public_page.py                      # 5,000 requests, 100 phones at once
    .venv/bin/python benchmarks/public_page.py --requests 20000 --clients 200 --postgres

The cloud app (the one ``sebiao cloud`` serves) over a migrated database with
the test tenants and a workshop's day of batches, served by uvicorn on a
free loopback port in this process; every SQL statement the engine sends is
counted. ``--clients`` phones (asyncio tasks, one HTTP connection each) ask
for the page ``--requests`` times in all. Printed: requests/s, latency p50
and p99, page builds, SQL statements per 1,000 requests, and the answers by
status. The per-address brake is set out of the way (every phone here comes
from 127.0.0.1); ``--per-minute`` sets it to see the 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import httpx
from cloud_fixtures import Cloud, world_batches
from cloud_server import ServedApp
from sqlalchemy import event

from cloud_ingest.app import build_app
from cloud_ingest.config import PublicPages


def _database(postgres: bool) -> tuple[str, object]:
    if not postgres:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='sebiao-bench-public-')) / 'cloud.db'}", None
    from cloud_servers import Postgres
    pg = Postgres()
    return pg.url, pg


async def _crowd(url: str, requests: int, clients: int) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    left = [requests]

    async def phone() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while left[0] > 0:
                left[0] -= 1
                start = time.perf_counter()
                answer = await client.get(url)
                latencies.append(time.perf_counter() - start)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
    await asyncio.gather(*(phone() for _ in range(clients)))
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--cache-seconds", type=float, default=30.0)
    parser.add_argument("--per-minute", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL instead of SQLite")
    args = parser.parse_args()

    url, pg = _database(args.postgres)
    cloud = Cloud(url, now=int(time.time() * 1000))
    try:
        tokens = cloud.tenants()
        for gateway, _, doc in world_batches():
            assert cloud.push(tokens[gateway], doc).status_code == 200
        slug = cloud.get(tokens["gw-ws-a"], "/api/v1/gateway/public-page").json()["slug"]
        config = replace(cloud.config, public_pages=PublicPages(cache_seconds=args.cache_seconds,
                                                                per_minute=args.per_minute))
        statements = [0]
        lock = threading.Lock()

        def counted(*_: object) -> None:
            with lock:
                statements[0] += 1
        event.listen(cloud.engine, "before_cursor_execute", counted)
        app = build_app(cloud.engine, config, lambda: int(time.time() * 1000))
        pages = next(r.endpoint.__self__ for r in app.routes if getattr(r, "path", "") == "/p/{slug}")
        with ServedApp(app) as served:
            statements[0] = 0
            start = time.perf_counter()
            latencies, statuses = asyncio.run(_crowd(f"{served.base}/p/{slug}", args.requests, args.clients))
            seconds = time.perf_counter() - start
        latencies.sort()
        n = len(latencies)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.clients} phones at once, "
              f"{n} requests in {seconds:.2f} s")
        print(f"requests/s: {n / seconds:.0f}")
        print(f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[min(n - 1, int(n * 0.99))] * 1000:.1f} ms")
        print(f"page builds: {pages.cache.builds} (cache {args.cache_seconds:g} s)")
        print(f"SQL statements: {statements[0]} for {n} requests ({statements[0] * 1000 / n:.2f} per 1,000 requests)")
        print("answers: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())))
    finally:
        cloud.client.close()
        cloud.engine.dispose()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
