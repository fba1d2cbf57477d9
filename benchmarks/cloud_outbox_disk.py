"""Disk the gateway's cloud outbox takes per day of cloud outage, for the example workshop.

    .venv/bin/python benchmarks/cloud_outbox_disk.py [--days 1]

Builds a day's rows with the gateway's own item builder (``CloudItems``) into a
real gateway store, as the engine writes them while the cloud is away:

- events: tools x 240 (60 uses x 4 events, the figure of docs/broker.md);
- station status: stations x 1440 (the firmware's 60 s heartbeat, each with
  the health fields of docs/protocol.md);
- alarm transitions: 20 a day (a busy day: raises, acks, clears).

Prints rows and bytes per day (the SQLite file's growth, indexes included),
and what share of them is status, the only kind dropped past ``cloud.max_rows``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench_paths import ROOT  # also puts the project and tests/support on sys.path

from edge_gateway.config import load_config
from edge_gateway.model.stations import StationState
from edge_gateway.sinks.cloud.items import CloudItems
from edge_gateway.store.writer import Store

DAY_MS = 86_400_000
HEALTH = {"fw": "1.0.0", "uptime_s": 3600, "heap_free": 81234, "rssi": -61, "reader_ok": True,
          "buffer_dropped": 0, "reset_cause": "power_on"}
ALARMS_PER_DAY = 20


def day_rows(config, day: int) -> list[tuple[int, str]]:
    items = CloudItems(config.workshop.id)
    t0 = 1_764_115_200_000 + day * DAY_MS
    rows = []
    tools = [t.id for t in config.tools]
    stations = [s.id for s in config.stations]
    configured = {s.id: s for s in config.stations}
    events = len(tools) * 240
    for n in range(events):
        ts = t0 + n * DAY_MS // events
        rows.append((ts, items.event(stations[n % len(stations)], "1a2b3c4d", day * events + n, ts,
                                     "04A224E2C65E80", ("removed", "placed")[n % 2], tools[n % len(tools)], None)))
    for n in range(1440):
        for sid in stations:
            ts = t0 + n * 60_000
            state = StationState(id=sid, online=True, last_seen=ts, buffer_depth=0, health_json=json.dumps(HEALTH),
                                 alarmed=False)
            rows.append((ts, items.status(configured[sid], state, ts, HEALTH)))
    for n in range(ALARMS_PER_DAY):
        ts = t0 + n * DAY_MS // ALARMS_PER_DAY
        alarm = {"id": n + 1, "type": "cross_zone", "severity": "critical", "subject": tools[0], "tool": tools[0],
                 "station": stations[0], "ts": ts, "text_zh": "红色刀具放在白色区域", "text_en": "red knife in white zone",
                 "state": "active", "acked": False, "count": 1}
        rows.append((ts, json.dumps({"kind": "alarm", "alarm": alarm, "transition": {
            "seq": n + 1, "at": ts, "action": "raise", "state": "active", "acked": False, "by": "gateway",
            "comment": None}}, ensure_ascii=False, separators=(",", ":"))))
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    config = load_config(ROOT / "examples" / "workshop.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "gateway.sqlite3")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        empty = store.path.stat().st_size
        total = status = 0
        for day in range(args.days):
            rows = day_rows(config, day)
            with store.transaction():
                for created, item in rows:
                    store.cloud_add(created, item)
            total += len(rows)
            status += sum(1 for _, i in rows if i.startswith('{"kind":"status"'))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = store.path.stat().st_size - empty
        store.close()
    per_day = grown / args.days
    print(f"example workshop: {len(config.tools)} tools, {len(config.stations)} stations")
    print(f"rows per day: {total // args.days} ({status // args.days} status = {100 * status / total:.0f} %)")
    print(f"disk per day of outage: {per_day / 1e6:.2f} MB ({grown / total:.0f} bytes per row)")
    print(f"default bound 1,000,000 rows is reached after {1_000_000 / (total / args.days):.1f} days")


if __name__ == "__main__":
    main()
