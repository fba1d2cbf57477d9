"""``sebiao gateway``: run the workshop gateway."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from edge_gateway.config import load_config
from sebiao_common.errors import ConfigError
from sebiao_common.net import is_loopback, parse_listen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the workshop config (YAML)")
    parser.add_argument("--broker", help="MQTT broker URL, e.g. mqtt://127.0.0.1:1883 "
                                         "(default: the config's broker, else an embedded broker)")
    parser.add_argument("--data-dir", default="sebiao-data", help="where the gateway keeps its store")
    parser.add_argument("--embedded-broker", default="127.0.0.1:1883", metavar="HOST:PORT",
                        help="where the embedded broker listens when no broker is configured "
                             "(loopback only; port 0: a free one; station passwords in "
                             "DATA-DIR/broker/credentials.json)")
    parser.add_argument("--http", default="127.0.0.1:8080",
                        help="HOST:PORT of the HTTP API (port 0: a free one; the ports bound are written to "
                             "DATA-DIR/listening.json)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def run(args: argparse.Namespace) -> int:
    from edge_gateway.gateway import Gateway, GatewayOptions

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config)
    host, port = parse_listen(args.http, any_port=True)
    embedded_host, embedded_port = parse_listen(args.embedded_broker, "--embedded-broker", any_port=True)
    if not is_loopback(embedded_host):
        raise ConfigError("--embedded-broker", "", f"{embedded_host} is not a loopback address: the embedded "
                                                   "broker is for one machine; use Mosquitto beyond it")
    gateway = Gateway(config, GatewayOptions(data_dir=Path(args.data_dir), broker_url=args.broker,
                                             http_host=host, http_port=port,
                                             embedded_host=embedded_host, embedded_port=embedded_port))
    gateway.start()
    where = f"[{host}]" if ":" in host else host
    print(f"sebiao gateway: workshop {config.workshop.id} ({config.workshop.name}), "
          f"HTTP on http://{where}:{gateway.http_port}", flush=True)
    gateway.serve()
    return 0
