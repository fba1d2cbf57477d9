"""A burst into the default broker: the real gateway process with its embedded broker, stations
publishing QoS 1 events as fast as it takes them.

    .venv/bin/python benchmarks/embedded_burst.py [--stations 3] [--events 15000] [--runs 1]

Each station is a paho client (up to 1000 in flight) taking one tool from its
rack and putting it back, ``--events`` times. Prints per run: events sent,
acknowledged to the stations (PUBACK), stored by the gateway, lost
(acknowledged but not stored), the gateway log's size, seconds from the first
publish to the last acknowledgement, and the gateway's peak RSS. Exits 1 if an
acknowledged event is missing from the store.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
from burst import Burst
from gateway_proc import GatewayProcess, write_config
from servers import example_config, free_port
from stations_mqtt import STREAM

from edge_gateway.broker.credentials import load_credentials

WS = "ws-demo"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(stations: tuple[str, ...], per_station: int) -> dict:
    config = example_config()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        gateway = GatewayProcess(write_config(tmp / "workshop.yaml"), tmp / "data",
                                 extra_args=("--embedded-broker", f"127.0.0.1:{port}")).start()
        try:
            creds = load_credentials(tmp / "data" / "broker")
            accounts = {s: (creds.station(s).username, creds.station(s).password) for s in stations}
            tags = {s: config.tool(STREAM[s]).tag for s in stations}
            log_before = gateway.log_path.stat().st_size
            burst = Burst("127.0.0.1", port, WS, accounts, tags, per_station).start()
            burst.wait(timeout=1800)
            seconds = burst.finished_at - burst.started_at
            acked = burst.acked_now()
            deadline = time.monotonic() + 60  # what the gateway still commits after the last PUBACK
            stored = set(gateway.rows("SELECT station, boot, seq FROM events"))
            while stored != burst.sent and time.monotonic() < deadline:
                time.sleep(0.5)
                stored = set(gateway.rows("SELECT station, boot, seq FROM events"))
            rss = peak_rss_mb(gateway.proc.pid)
            log_bytes = gateway.log_path.stat().st_size - log_before
        finally:
            gateway.stop()
    return {"sent": len(burst.sent), "acked": len(acked), "stored": len(stored & burst.sent),
            "lost": len(acked - stored), "log_bytes": log_bytes, "seconds": seconds, "rss_mb": rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=3, help="1 to 4 (the example's racks with a tool)")
    parser.add_argument("--events", type=int, default=15000, help="events per station")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    stations = tuple(STREAM)[:args.stations]
    print(f"embedded broker burst: {len(stations)} stations x {args.events} QoS 1 events, real gateway process")
    print(f"{'run':>3} {'sent':>7} {'acked':>7} {'stored':>7} {'lost':>6} {'log bytes':>10} {'seconds':>8} "
          f"{'events/s':>9} {'peak RSS':>9}")
    worst = 0
    for i in range(1, args.runs + 1):
        r = run(stations, args.events)
        worst = max(worst, r["lost"])
        print(f"{i:>3} {r['sent']:>7} {r['acked']:>7} {r['stored']:>7} {r['lost']:>6} {r['log_bytes']:>10} "
              f"{r['seconds']:>8.1f} {r['acked'] / r['seconds']:>9.0f} {r['rss_mb']:>7.1f}MB")
    return 0 if worst == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
