"""``sebiao broker-config``: write a Mosquitto config, password file and ACL for a workshop."""

from __future__ import annotations

import argparse

from edge_gateway.broker.mosquitto import DEFAULT_LISTEN, generate
from edge_gateway.config import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory for mosquitto.conf, passwd, acl, credentials.json / 输出目录")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                        help=f"MQTT listener (default {DEFAULT_LISTEN}) / 监听地址")
    parser.add_argument("--persistence-dir", metavar="DIR",
                        help="mosquitto's database directory (default DIR/persistence) / 持久化目录")
    parser.add_argument("--run-as", metavar="USER",
                        help="user mosquitto switches to when started as root (default: mosquitto)")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    files = generate(config, args.out, listen=args.listen, persistence_dir=args.persistence_dir,
                     run_as=args.run_as)
    print(f"wrote / 已生成: {files.conf}")
    print(f"               {files.passwd}")
    print(f"               {files.acl}")
    print(f"               {files.credentials_file}  (mode 0600: plain-text passwords / 明文密码)")
    print(f"listener {files.listen_host}:{files.listen_port}, persistence in {files.persistence_dir}")
    print(f"max_queued_messages {files.queue.max_queued_messages}: {files.queue.formula}")
    print(f"users: {files.credentials.gateway.username} (gateway) + {len(files.credentials.stations)} stations")
    if not (config.broker and config.broker.password):
        print(f"note: the config has no broker.password; give the gateway user "
              f"'{files.credentials.gateway.username}' the password from {files.credentials_file}"
              " (网关密码见 credentials.json)")
    print(f"start / 启动: mosquitto -c {files.conf}")
    return 0
