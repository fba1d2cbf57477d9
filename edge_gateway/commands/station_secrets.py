"""``sebiao station-secrets``: a new Wi-Fi network or a new broker password for one station, without a way to
cut it off (``docs/fleet.md``, Secrets).

Through the running gateway's HTTP API (``POST /api/stations/{station}/secrets``, its bearer token), then its
``GET /api/stations`` until the station's status says how it went. The station keeps its old set until the new
one has connected, and drops the new one when it does not connect. For a new broker password (Mosquitto only:
``--broker-dir``, the files of ``sebiao broker-config``) the password is switched in the broker only once the
station reported the new set as pending, then Mosquitto is reloaded (``--reload-command``) and the station
reconnects with it; if the station drops the new set after all, the old password is put back. One change at a
time: a new Wi-Fi and a new broker password together could leave the station with neither working.

Passwords never go on the command line (other users see it in ``ps``): the Wi-Fi password comes from a file
(``-``: standard input), the broker password is made here (random, 144 bits).

``run`` is the whole command; ``sebiao fleet`` may offer it as a subcommand with the same ``add_arguments``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

from edge_gateway.broker.credentials import new_password
from edge_gateway.broker.station_password import switch_station_password
from edge_gateway.commands.gateway_api import GatewayApi
from edge_gateway.config import load_config
from sebiao_common.errors import SebiaoError

DEFAULT_RELOAD = "systemctl reload mosquitto"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--station", required=True, help="the station's id / 读卡站编号")
    parser.add_argument("--config", help="workshop.yaml: its http.token is the default --token / 作坊配置文件")
    parser.add_argument("--gateway", default="http://127.0.0.1:8080", help="the gateway's HTTP API / 网关地址")
    parser.add_argument("--token", help="the gateway's API token (default: http.token of --config) / 网关 API 令牌")
    parser.add_argument("--wifi-ssid", help="the new Wi-Fi network's name / 新 Wi-Fi 名称")
    parser.add_argument("--wifi-password-file", metavar="FILE",
                        help="a file holding the new Wi-Fi password ('-': standard input) / 新 Wi-Fi 密码文件")
    parser.add_argument("--new-broker-password", action="store_true",
                        help="give the station a new random MQTT password (Mosquitto) / 为读卡站换新的 MQTT 密码")
    parser.add_argument("--broker-dir", metavar="DIR",
                        help="Mosquitto's files from sebiao broker-config (credentials.json, passwd) / Mosquitto 配置目录")
    parser.add_argument("--reload-command", default=DEFAULT_RELOAD,
                        help=f"how to make Mosquitto read passwd again (default: {DEFAULT_RELOAD}) / 重载 Mosquitto")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                        help="wait this long for the station's answer (default 300) / 等待读卡站结果的时间")


def _say(text: str) -> None:
    print(text, flush=True)


class _Api(GatewayApi):
    def report(self, station: str) -> dict:
        status, body, _ = self.call("/api/stations")
        if status != 200 or not isinstance(body, list):
            raise SebiaoError(f"{self.base}/api/stations: HTTP {status}: {body}")
        row = next((r for r in body if isinstance(r, dict) and r.get("id") == station), {})
        secrets = row.get("secrets")
        return secrets if isinstance(secrets, dict) else {}


def _request(args: argparse.Namespace) -> dict:
    if args.wifi_ssid and args.new_broker_password:
        raise SebiaoError("一次只换一项：先换 Wi-Fi，再换代理密码 / one change at a time: the Wi-Fi first, then the "
                          "broker password (both at once could leave the station with neither working)")
    if args.wifi_ssid:
        if not args.wifi_password_file:
            raise SebiaoError("--wifi-password-file is needed with --wifi-ssid ('-' reads standard input)")
        source = sys.stdin if args.wifi_password_file == "-" else None
        text = source.read() if source else Path(args.wifi_password_file).read_text("utf-8")
        return {"wifi": {"ssid": args.wifi_ssid, "password": text.rstrip("\r\n")}}
    if args.new_broker_password:
        if not args.broker_dir:
            raise SebiaoError("--broker-dir is needed with --new-broker-password (the embedded broker has no "
                              "password files: change broker passwords on a Mosquitto workshop)")
        return {"broker": {"password": new_password()}}
    raise SebiaoError("nothing to change: give --wifi-ssid or --new-broker-password / 未指定要更换的内容")


def _reload(command: str) -> None:
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise SebiaoError(f"{command}: exit {done.returncode}: {(done.stderr or done.stdout).strip()[:300]}")


def run(args: argparse.Namespace) -> int:
    token = args.token or (load_config(args.config).http.token if args.config else None)
    api = _Api(args.gateway, token)
    body = _request(args)
    status, answer, _ = api.call(f"/api/stations/{args.station}/secrets", body)
    if status != 202 or not isinstance(answer, dict):
        raise SebiaoError(f"the gateway did not send it: HTTP {status}: {answer}")
    version = str(answer["version"])
    _say(f"[{args.station}] 已发送（版本 {version}），等待读卡站确认 / sent (version {version}), waiting for the station")
    old_password = None  # the broker's password for the station before it was switched here
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        report = api.report(args.station)
        state = report.get("state") if report.get("version") == version else None
        if state == "pending" and "broker" in body and old_password is None:
            old_password = switch_station_password(args.broker_dir, args.station, body["broker"]["password"])
            _reload(args.reload_command)
            _say(f"[{args.station}] 读卡站已存下新密码；代理已换用新密码 / the station holds the new password; "
                 "the broker now takes it")
        elif state == "applied":
            _say(f"[{args.station}] 新设置已生效 / the new set connected and is kept")
            return 0
        elif state in ("dropped", "refused"):
            if old_password is not None:
                switch_station_password(args.broker_dir, args.station, old_password)
                _reload(args.reload_command)
            why = report.get("error") or "the new set did not connect; the station runs on the old one"
            _say(f"[{args.station}] 未生效（{state}）/ not applied ({state}): {why}")
            return 1
        time.sleep(1.0)
    _say(f"[{args.station}] {args.timeout:g} 秒内没有结果 / no outcome within {args.timeout:g} s: the station keeps "
         "both sets and tries them in turn; see GET /api/stations")
    return 1
