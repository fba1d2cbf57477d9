"""The ``sebiao`` command: one entry point, one module per subcommand.

Each subcommand lives in the package that owns it (``edge_gateway/commands/<name>.py``,
``cloud_ingest/cli.py``, ``dashboards/generator/command.py``) and exposes ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are imported only when their subcommand runs, so ``sebiao --help``
stays fast and a missing optional dependency hurts only its own command. That
holds for the parser too: ``sebiao gateway …`` builds the options of ``gateway``
alone, so the long-running gateway never holds the PDF, label, firmware and cloud
code its neighbours import (docs/performance.md, "Memory").
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sebiao_common.errors import SebiaoError

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "gateway": ("edge_gateway.commands.gateway", "run the workshop gateway / 运行作坊网关"),
    "gateway-key": ("edge_gateway.commands.gateway_key",
                    "make or show the gateway's signing key for the cloud / 生成或显示网关签名密钥"),
    "broker-config": ("edge_gateway.commands.broker_config",
                      "write Mosquitto config, passwords and ACL / 生成 Mosquitto 配置"),
    "service": ("edge_gateway.commands.service",
                "install the gateway and Mosquitto as systemd services / 安装为系统服务"),
    "bundle": ("edge_gateway.commands.bundle", "build the offline installation bundle / 生成离线安装包"),
    "influx": ("edge_gateway.commands.influx", "check the InfluxDB connection and outbox / 检查 InfluxDB 连接与待发队列"),
    "notify": ("edge_gateway.commands.notify", "send a test message to the alarm channels / 测试告警推送通道"),
    "station": ("edge_gateway.commands.station", "run a virtual reader station / 运行虚拟读卡站"),
    "station-secrets": ("edge_gateway.commands.station_secrets",
                        "give a station a new Wi-Fi or broker password, safely / 安全更换读卡站 Wi-Fi 或代理密码"),
    "demo": ("edge_gateway.commands.demo", "play a workshop's working day on this computer / 演示：模拟作坊一天"),
    "firmware": ("edge_gateway.commands.firmware", "build, flash, deploy, provision stations / 读卡站固件工具"),
    "fleet": ("edge_gateway.commands.fleet", "the stations' firmware and updates over Wi-Fi / 读卡站固件版本与无线更新"),
    "label": ("edge_gateway.commands.label", "write a smart label through a station / 写入智能标签"),
    "enroll": ("edge_gateway.commands.enroll",
               "add new tags to the workshop config as tools / 登记新标签为器具"),
    "labels": ("edge_gateway.commands.labels", "print tool labels and sink stickers (PDF) / 打印色标标签"),
    "poster": ("edge_gateway.commands.poster", "print the staff poster (PDF, A4) / 打印员工色标海报"),
    "commission": ("edge_gateway.commands.commission",
                   "check a newly installed workshop and print its sign-off sheet / 安装验收检查与签字单"),
    "training": ("edge_gateway.commands.training", "record and list staff training / 登记、列出员工培训"),
    "cloud": ("cloud_ingest.cli", "run the cloud ingest and review service / 运行云端汇聚与远程审核服务"),
    "dashboards": ("dashboards.generator.command", "build and push the Grafana dashboards / 生成、上传 Grafana 看板"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand with its options; with ``only`` (a subcommand's name, or "" for none) the others
    are listed by name and help text but their modules are not imported (``main``: the one that runs)."""
    parser = argparse.ArgumentParser(prog="sebiao", description="色标 sebiao — colour-coded tool tracking")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module)
        if only is None or name == only:
            _load(module).add_arguments(sub_parser)
    return parser


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line: its first word that is not an option (the top-level
    parser has no option taking a value), when it names one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in SUBCOMMANDS else None


def _load(module: str):
    return importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    chosen = _chosen(words)
    # none named (``--help``, a typo): argparse stops at the command's name, so no module is needed
    args = build_parser(chosen or "").parse_args(words)
    try:
        return int(_load(args._module).run(args) or 0)
    except SebiaoError as exc:
        print(f"sebiao {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
