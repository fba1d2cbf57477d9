"""``sebiao gateway``: run the workshop gateway."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..config import load_config, parse_listen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the workshop config (YAML)")
    parser.add_argument("--broker", help="MQTT broker URL, e.g. mqtt://127.0.0.1:1883 "
                                         "(default: the config's broker, else an embedded broker)")
    parser.add_argument("--data-dir", default="sebiao-data", help="where the gateway keeps its store")
    parser.add_argument("--http", default="127.0.0.1:8080", help="HOST:PORT of the HTTP API")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def run(args: argparse.Namespace) -> int:
    from ..gateway import Gateway, GatewayOptions

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config)
    host, port = parse_listen(args.http)
    gateway = Gateway(config, GatewayOptions(Path(args.data_dir), args.broker, host, port))
    gateway.start()
    print(f"sebiao gateway: workshop {config.workshop.id} ({config.workshop.name}), "
          f"HTTP on http://{args.http}", flush=True)
    gateway.serve()
    return 0
