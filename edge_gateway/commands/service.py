"""``sebiao service install``: systemd units for the gateway and its Mosquitto (see docs/deploy.md)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from edge_gateway.broker.mosquitto import ACL_FILE, CONF_FILE, PASSWD_FILE
from edge_gateway.config import load_config
from edge_gateway.tooling.service_install import apply, next_commands, plan
from edge_gateway.tooling.service_units import (
    MosquittoUnit,
    ServiceSettings,
    checked_path,
    gateway_command,
    persistence_location,
    render_units,
)
from sebiao_common.errors import ConfigError
from sebiao_common.net import parse_listen

DEFAULT_BROKER_DIR = "/etc/sebiao/broker"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = sub.add_parser("install", help="write the systemd units / 安装 systemd 服务",
                             description="写入网关和 Mosquitto 的 systemd 服务 / "
                                         "write systemd units for the gateway and Mosquitto")
    install.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    install.add_argument("--data-dir", "--data", dest="data_dir", required=True, metavar="DIR",
                         help="the gateway's data dir, e.g. /var/lib/sebiao / 网关数据目录")
    install.add_argument("--user", default="sebiao", help="system user the gateway runs as (default sebiao)")
    install.add_argument("--http", default="0.0.0.0:8080", metavar="HOST:PORT",
                         help="the gateway's HTTP listener (default 0.0.0.0:8080: the display on the LAN)")
    install.add_argument("--broker-dir", default=DEFAULT_BROKER_DIR, metavar="DIR",
                         help=f"the files of `sebiao broker-config` (default {DEFAULT_BROKER_DIR})")
    install.add_argument("--no-mosquitto", action="store_true",
                         help="no Mosquitto unit (the gateway's embedded broker) / 不使用 Mosquitto")
    install.add_argument("--exec", dest="program", metavar="PATH",
                         help="the sebiao program in ExecStart (default: the one running now)")
    install.add_argument("--root", default="/", metavar="DIR",
                         help="install under this prefix instead of / (staging, tests) / 安装到此前缀")
    install.add_argument("--dry-run", action="store_true", help="print the units and steps, change nothing / 只显示")


def run(args: argparse.Namespace) -> int:
    config_path = Path(args.config).absolute()
    config = load_config(config_path)
    parse_listen(args.http, "--http", any_port=True)
    settings = ServiceSettings(
        workshop=config.workshop.id, user=args.user, data_dir=checked_path(str(Path(args.data_dir).absolute()),
                                                                           "--data-dir"),
        exec_start=gateway_command(_program(args.program), checked_path(str(config_path), "--config"),
                                   checked_path(str(Path(args.data_dir).absolute()), "--data-dir"), args.http),
        mosquitto=None if args.no_mosquitto else _mosquitto(Path(args.broker_dir).absolute()))
    root = Path(args.root).absolute()
    staging = root != Path("/")
    for note in _notes(args, config.broker is not None, settings, config_path):
        print(note)
    mosquitto_files = () if args.no_mosquitto else tuple(
        Path(args.broker_dir).absolute() / name for name in (PASSWD_FILE, ACL_FILE))
    steps = plan(settings, root, config_path, mosquitto_files)
    if args.dry_run:
        for name, text in render_units(settings).items():
            print(f"# ---- {root / 'etc/systemd/system' / name} ----")
            print(text)
        print("将执行 / would do:")
        for step in steps:
            print(f"  {step.say}")
        return 0
    if not staging and os.geteuid() != 0:
        raise ConfigError("sebiao service install", "", "需要 root 权限 / needs root (or --dry-run, or --root DIR)")
    print(f"安装到 / installing under {root}:")
    apply(steps, staging, print)
    print("然后运行 / then run:")
    for cmd in next_commands(settings):
        print(f"  {'' if os.geteuid() == 0 else 'sudo '}{cmd}")
    return 0


def _notes(args: argparse.Namespace, has_broker: bool, settings: ServiceSettings, config_path: Path) -> list[str]:
    """What would make the installed services fail at start, said before anything is written."""
    notes = []
    if not args.no_mosquitto and not has_broker:
        notes.append("注意：配置中没有 broker，网关会在 1883 端口启动内置 MQTT 服务器，与 Mosquitto 冲突；请填写 "
                     "broker.url（mqtt://127.0.0.1:1883）和网关账号 / note: the config has no broker: section, so the "
                     "gateway would start its embedded broker on port 1883 beside Mosquitto; add broker.url and the "
                     "gateway's account (docs/broker.md)")
    reached = [("--config", config_path), ("--exec", Path(settings.exec_start[0]).resolve()),
               ("--data-dir", Path(args.data_dir).absolute())]
    if not args.program:  # the default program runs this Python, wherever its real file is
        reached.append(("python", Path(sys.executable).resolve()))
    for what, path in reached:
        closed = _closed_parent(path)
        if closed is not None:
            notes.append(f"注意：{what} {path} 在 {closed} 内，服务用户 {args.user} 无法进入，请移到别处 / note: "
                         f"{what} {path} is inside {closed}, which other users cannot enter: the service user "
                         f"{args.user} cannot reach it; move it (e.g. /etc/sebiao, /opt/sebiao, /var/lib/sebiao)")
    return notes


def _closed_parent(path: Path) -> Path | None:
    """The first existing folder above ``path`` that other users cannot enter (no o+x), if any."""
    for parent in reversed(path.parents):
        try:
            if not parent.stat().st_mode & 0o001:
                return parent
        except OSError:
            return None  # not there yet (the data dir): install creates it
    return None


def _program(given: str | None) -> tuple[str, ...]:
    """The absolute command that runs ``sebiao``: the given one, the script beside this Python, or -m."""
    if given:
        return (str(checked_path(given, "--exec")),)
    script = Path(sys.executable).parent / "sebiao"
    if script.exists():
        return (str(checked_path(str(script), "--exec")),)
    return (str(checked_path(sys.executable, "--exec")), "-m", "sebiao")


def _mosquitto(broker_dir: Path) -> MosquittoUnit:
    conf = broker_dir / CONF_FILE
    try:
        text = conf.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("--broker-dir", str(conf), f"cannot read it ({exc.strerror}): run `sebiao broker-config "
                                                     f"--out {broker_dir}` first, or give --no-mosquitto / "
                                                     "请先运行 sebiao broker-config") from None
    location = persistence_location(text)
    if location is None:
        raise ConfigError(str(conf), "persistence_location", "missing: re-run `sebiao broker-config` / 缺少持久化目录")
    program = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or "/usr/sbin/mosquitto"
    return MosquittoUnit(program=checked_path(program, "mosquitto"), conf=checked_path(str(conf), "--broker-dir"),
                         persistence_dir=checked_path(location.rstrip("/") or "/", "persistence_location"))
