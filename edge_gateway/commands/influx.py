"""``sebiao influx check --config FILE [--data-dir DIR]``: test the InfluxDB connection and the outbox."""

from __future__ import annotations

import argparse
from pathlib import Path

from sebiao_common.clock import now_ms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="influx_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="write and read back a probe point; show the outbox / 检查 InfluxDB 连接",
                           description="Connect to the config's InfluxDB, write and read back a probe point, "
                                       "print the server version, the outbox depth and the age of its oldest row.")
    check.add_argument("--config", required=True, metavar="FILE", help="workshop YAML with an influx: section")
    check.add_argument("--data-dir", default="sebiao-data", metavar="DIR",
                       help="the gateway's data dir, for the outbox (default ./sebiao-data)")


def run(args: argparse.Namespace) -> int:
    from edge_gateway.config import load_config
    from edge_gateway.sinks.influx.check import check
    from edge_gateway.sinks.influx.config import require_influx

    config = load_config(args.config)
    settings = require_influx(config)
    report = check(settings, config.workshop.id, Path(args.data_dir), clock=now_ms)
    print(f"server   {settings.url}: {report.version} (api: {settings.api})")
    print(f"write    probe point accepted by {report.target}")
    print(f"read     probe point read back through {report.read_back}")
    if report.outbox is None:
        print(f"outbox   not read: {report.outbox_note}")
    else:
        state = report.outbox
        age = state.oldest_age_seconds(now_ms())
        oldest = "empty" if age is None else f"oldest row {age:.1f} s old"
        print(f"outbox   {state.depth} rows waiting, {oldest}; {state.dead} rejected (outbox_dead), "
              f"{state.dropped} dropped past the bound")
    return 0
