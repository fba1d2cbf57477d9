"""``sebiao label write``: write a tool's smart label through a station on USB serial."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    write = sub.add_parser("write", help="write a tool's label onto the next tag at the station / 写入智能标签")
    write.add_argument("--port", required=True, help="the station's serial port, e.g. /dev/ttyUSB0")
    write.add_argument("--tool", required=True, metavar="ID", help="tool id from the workshop config")
    write.add_argument("--config", required=True, metavar="FILE", help="the workshop config (YAML)")
    write.add_argument("--baud", type=int, default=115200)


def run(args: argparse.Namespace) -> int:
    from edge_gateway.config import load_config
    from edge_gateway.tooling.devices.label_serial import (
        label_command,
        write_over_serial,
    )
    from edge_gateway.tooling.devices.ports import require_port

    command = label_command(load_config(args.config), args.tool)
    require_port(args.port)
    print(f"请在 60 秒内把标签放到读卡器上 / hold the tag to the station's reader within 60 s ({args.port})")
    written = write_over_serial(args.port, command, args.baud)
    print(f"已写入 / written: {written.tool} -> tag {written.uid}")
    return 0
