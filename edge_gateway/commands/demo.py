"""``sebiao demo``: a whole workshop on this computer, playing a working day.

An embedded MQTT broker, the gateway and one virtual station per station of
examples/workshop.yaml; the day (06:00-17:30) plays in about a minute and
prints what happens, then a summary. Exit code 0 when the day raised exactly
the alarms its mistakes should (1 otherwise), 2 on a start-up error.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sebiao_common.errors import ConfigError
from sebiao_common.net import is_loopback, parse_listen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=60.0, metavar="SECONDS",
                        help="real seconds the working day takes (default 60) / 一天播放时长（秒）")
    parser.add_argument("--speed", type=float, metavar="FACTOR",
                        help="day seconds per real second, overrides --duration (1 = real time) / 倍速")
    parser.add_argument("--http", default="127.0.0.1:8080", metavar="HOST:PORT",
                        help="the gateway's HTTP API (default 127.0.0.1:8080; port 0: a free one) / 网关 HTTP 地址")
    parser.add_argument("--embedded-broker", default="127.0.0.1:1883", metavar="HOST:PORT",
                        help="the embedded MQTT broker, loopback only (default 127.0.0.1:1883; port 0: a free one) / 内置代理地址")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="keep the gateway's store and the stations' flash here (default: a temporary "
                             "directory, removed at the end) / 数据目录")
    parser.add_argument("--stay", action="store_true",
                        help="keep the gateway running after the day, until Ctrl-C / 演示结束后网关继续运行")


def run(args: argparse.Namespace) -> int:
    from edge_gateway.demo.runner import Demo, DemoOptions

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.duration <= 0:
        raise ConfigError("--duration", "", f"{args.duration:g}: must be more than 0 seconds")
    http_host, http_port = parse_listen(args.http, any_port=True)
    broker_host, broker_port = parse_listen(args.embedded_broker, "--embedded-broker", any_port=True)
    if not is_loopback(broker_host):
        raise ConfigError("--embedded-broker", "", f"{broker_host} is not a loopback address")
    options = DemoOptions(http_host=http_host, http_port=http_port, broker_host=broker_host,
                          broker_port=broker_port, duration_s=args.duration, speed=args.speed,
                          data_dir=Path(args.data_dir) if args.data_dir else None, stay=args.stay)
    summary = Demo(options).run()
    return 1 if summary.missing or summary.unexpected or summary.applied != summary.recorded else 0
