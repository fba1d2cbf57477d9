"""``sebiao bundle``: the offline installation bundle for a gateway without the package index (docs/deploy.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_gateway.tooling.bundle import build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="FILE.tar.gz", help="the bundle to write / 输出文件")
    parser.add_argument("--wheelhouse", metavar="DIR",
                        help="take sebiao's and its dependencies' wheels from DIR, with no package index "
                             "(default: build and fetch them with pip) / 从此目录取 wheel")
    parser.add_argument("--no-debs", action="store_true",
                        help="leave out the Debian packages (the gateway has mosquitto and python3-venv) / 不含 deb")


def run(args: argparse.Namespace) -> int:
    print("正在收集 / collecting wheels and Debian packages …", flush=True)
    report = build(Path(args.out), Path(args.wheelhouse).absolute() if args.wheelhouse else None,
                   debs=not args.no_debs)
    size = report.path.stat().st_size / 1e6
    print(f"已生成 / wrote {report.path} ({size:.1f} MB)")
    print(f"  wheels: {len(report.wheels)}")
    if args.no_debs:
        print("  Debian 软件包：未包含 / Debian packages: left out (--no-debs)")
    else:
        print(f"  Debian 软件包 / Debian packages: {len(report.debs)} "
              f"({report.debs_downloaded} downloaded, the rest from apt's cache)")
    print("在网关上 / on the gateway: tar xzf BUNDLE && cd sebiao-bundle-* && sudo ./install.sh (README.md)")
    return 0
