"""InfluxDB outbox benchmark: real Mosquitto, the real gateway process, a real InfluxDB 1.6 (api: v1).

    .venv/bin/python benchmarks/outbox_drain.py [--backlog 100000] [--intake 30000]

Prints, from one run:
1. the gateway's *idle* intake rate: events/s committed while InfluxDB is down
   (the drain worker has nothing it can do); this builds the outage backlog;
2. the time to drain that backlog of ``--backlog`` events once InfluxDB is
   back, and the drain rate in lines/s (target >= 20,000);
3. the intake rate *while the worker drains* a large backlog, and its ratio
   to the idle rate (target >= 80 %); the run checks the drain was busy for
   the whole intake window.
Every event is checked in InfluxDB at the end (count by InfluxQL).

The intake rates are measured as gateway_throughput.py does: the stream waits
in the broker (the gateway's persistent session) while the gateway is
stopped, then the gateway takes it at full speed.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import yaml
from gateway_proc import GatewayProcess
from gateway_throughput import WS, cycle_events, queue_events, window_rate, workshop
from servers import MosquittoServer, MqttClient
from tsdb_servers import InfluxServer

from edge_gateway.model.protocol import encode_status, status_topic
from edge_gateway.model.workshop import parse_config


def one(gateway, sql: str, args: tuple = ()) -> int:
    return gateway.scalar(sql, args) or 0


def intake(gateway, expected: int, busy=None) -> tuple[float, bool]:
    """(events/s over the middle 80 % of the stream, whether ``busy()`` held until the end)."""
    stamps: list[float] = []
    busy_throughout = True
    deadline = time.monotonic() + 600
    while len(stamps) < expected and time.monotonic() < deadline:
        done = int(gateway.metric("sebiao_events_total"))
        now = time.perf_counter()
        stamps.extend([now] * (min(done, expected) - len(stamps)))
        if busy is not None and len(stamps) < expected * 0.9 and not busy():
            busy_throughout = False
        time.sleep(0.02)
    if len(stamps) < expected:
        raise TimeoutError(f"only {len(stamps)} of {expected} events taken:\n{gateway.log()[-2000:]}")
    return window_rate(stamps), busy_throughout


def fill_backlog(gateway, lines: list[str], copies: int) -> int:
    """Put ``copies`` x ``lines`` in the stopped gateway's outbox, each copy a day later (new points)."""
    conn = sqlite3.connect(gateway.data_dir / "gateway.sqlite3")
    now = int(time.time() * 1000)
    rows = []
    for k in range(1, copies + 1):
        shift = k * 86_400_000_000_000
        rows += [(0, now, f"{head} {int(ts) - shift}") for head, ts in (line.rsplit(" ", 1) for line in lines)]
    with conn:
        conn.executemany("INSERT INTO outbox (keep, created, line) VALUES (?,?,?)", rows)
    conn.close()
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=100_000, help="events in the outage backlog")
    parser.add_argument("--intake", type=int, default=30_000, help="events taken while the worker drains")
    args = parser.parse_args()
    data = workshop()
    config = parse_config(data, "bench.yaml")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with MosquittoServer(config, tmp / "mosquitto") as broker, InfluxServer(tmp / "influxd") as influx:
            influx.create_database("sebiao")
            gw = broker.credentials.gateway
            data["broker"] = {"url": broker.url, "username": gw.username, "password": gw.password}
            data["influx"] = {"api": "v1", "url": influx.url, "database": "sebiao", "retry_max_seconds": 1,
                              "outbox": {"max_rows": 5_000_000}}
            (tmp / "bench.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
            gateway = GatewayProcess(tmp / "bench.yaml", tmp / "data").start()
            try:
                for s in config.stations:
                    with MqttClient.connect(broker.host, broker.port, *broker.account(s.id)) as c:
                        c.publish(status_topic(WS, s.id), encode_status(True, buffer_depth=0), retain=True)
                time.sleep(1.5)
                base_points = influx.scalar("SELECT count(online) FROM station_status", "sebiao")

                # 1. Outage: InfluxDB down, the stream comes in. Idle intake; the backlog builds.
                influx.stop()
                t0 = int(time.time() * 1000) - 7_200_000  # recent: no tool is overdue
                backlog_events = cycle_events(config, args.backlog, t0)
                gateway.stop()
                queue_events(broker, backlog_events, 600)
                gateway.start()
                idle_rate, _ = intake(gateway, len(backlog_events))
                backlog_rows = one(gateway, "SELECT count(*) FROM outbox")
                last_id = one(gateway, "SELECT max(id) FROM outbox")
                conn = gateway.db()
                kinds = dict(conn.execute("SELECT substr(line, 1, instr(line, ',') - 1) AS m, count(*) FROM outbox "
                                          "GROUP BY m").fetchall())
                conn.close()
                saved = [r[0] for r in gateway.db().execute("SELECT line FROM outbox WHERE line LIKE 'tool_event,%'")]

                # 2. InfluxDB is back: time to drain the backlog (the worker first has to notice:
                # it is in a back-off of up to retry_max_seconds), and lines/s from its first batch.
                # Probes are O(log n) (min id), not counts, so that they cost the gateway nothing.
                first_id = one(gateway, "SELECT min(id) FROM outbox")
                influx.start()
                started = time.perf_counter()
                while one(gateway, "SELECT min(id) FROM outbox") == first_id:
                    time.sleep(0.002)
                first_batch = time.perf_counter()
                while one(gateway, "SELECT coalesce(min(id), ?) FROM outbox", (last_id + 1,)) <= last_id:
                    time.sleep(0.005)
                drained = time.perf_counter()
                drain_seconds = drained - started
                drain_rate = (backlog_rows - min(5000, backlog_rows)) / (drained - first_batch)

                # 3. Intake while the worker drains a large backlog.
                gateway.stop()
                copies = max(1, int(drain_rate * (args.intake / idle_rate) * 1.5 / len(saved)) + 1)
                big = fill_backlog(gateway, saved, copies)
                live_events = [(s, p.replace(b'"b0b0b0b0"', b'"b1b1b1b1"'))  # a new boot: new (boot, seq)
                               for s, p in cycle_events(config, args.intake, t0 + 3_600_000)]
                queue_events(broker, live_events, 600)
                gateway.start()
                busy_rate, busy_throughout = intake(
                    gateway, len(live_events), lambda: one(gateway, "SELECT max(id) - min(id) FROM outbox") > 5000)
                while one(gateway, "SELECT max(id) FROM outbox"):
                    time.sleep(0.1)
                tool_events = influx.scalar("SELECT count(seq) FROM tool_event", "sebiao")
                expected_points = len(backlog_events) + len(live_events) + big
            finally:
                gateway.stop()
            del base_points
    print("sebiao outbox benchmark (real Mosquitto, real gateway process, real InfluxDB 1.6, api: v1)")
    print(f"  idle intake (InfluxDB down)      {idle_rate:8.0f} events/s  ({len(backlog_events)} events)")
    print(f"  outage backlog                   {backlog_rows:8d} rows  "
          f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"  backlog drained in               {drain_seconds:8.2f} s  (from InfluxDB's restart, "
          f"{first_batch - started:.2f} s of it the worker's back-off)")
    print(f"  drain rate                       {drain_rate:8.0f} lines/s  (target >= 20000; "
          f"from the first accepted batch)")
    print(f"  intake while draining            {busy_rate:8.0f} events/s  ({len(live_events)} events, "
          f"{big} backlog rows; drain busy throughout: {'yes' if busy_throughout else 'NO'})")
    print(f"  intake during drain / idle       {100 * busy_rate / idle_rate:8.0f} %  (target >= 80 %)")
    print(f"  tool_event points in InfluxDB    {tool_events:8d}  (expected {expected_points}, "
          f"{'all there' if tool_events == expected_points else 'MISMATCH'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
