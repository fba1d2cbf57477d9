"""``sebiao fleet list|update|status|stop``: the stations' firmware, and updates over Wi-Fi (``docs/fleet.md``).

It asks the running gateway (``/api/fleet/...`` with the config's ``http.token``, as ``sebiao commission``
does). ``update`` sends the release directory (``sebiao firmware release``) to the gateway, which verifies it
with its ``fleet.release_key``, starts the job (one station first, then waves), and shows each station's
progress (one line a station, redrawn on a terminal; plain lines when the output is not one) until the job
ends: exit 0 when every station runs the new version, 1 when a station failed (named, with the reason) or the
job was stopped. Leaving the command (Ctrl-C) leaves the job running at the gateway: ``sebiao fleet stop``.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge_gateway.commands.gateway_api import GatewayApi, Unreachable
from sebiao_common.errors import SebiaoError

POLL_SECONDS = 0.5
# While following a job, a gateway that cannot be reached is asked again this long before the command gives up:
# a gateway restarting (a changed config, --watch-config) is back within seconds, and the job goes on there.
OUTAGE_SECONDS = 120.0
STATION_WORDS = {"waiting": "等待 / waiting", "updating": "更新中 / updating", "done": "完成 / done",
                 "failed": "失败 / failed", "not_started": "未开始 / not started"}
JOB_WORDS = {"running": "进行中 / running", "stopping": "正在停止 / stopping", "done": "完成 / done",
             "failed": "失败 / failed", "stopped": "已停止 / stopped"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="workshop.yaml: its http.token is used / 作坊配置文件")
    common.add_argument("--gateway", default="http://127.0.0.1:8080",
                        help="the running gateway's address (default http://127.0.0.1:8080) / 网关地址")
    common.add_argument("--token", help="the gateway's API token (default: http.token of --config) / 网关 API 令牌")
    sub.add_parser("list", parents=[common], help="every station's firmware and update state / 列出读卡站固件版本")
    update = sub.add_parser("update", parents=[common], help="update the stations in waves / 分批更新读卡站固件")
    update.add_argument("--release", required=True, metavar="DIR", help="from `sebiao firmware release`")
    update.add_argument("--stations", default="", metavar="A,B", help="only these stations (default: all)")
    update.add_argument("--wave-size", type=int, metavar="N", help="stations a wave after the first "
                                                                  "(default: the gateway's fleet.wave_size)")
    sub.add_parser("status", parents=[common], help="the newest update job / 查看更新任务")
    sub.add_parser("stop", parents=[common], help="stop the running job: no more stations start / 停止更新任务")


class _Gateway(GatewayApi):
    def ok(self, path: str, body: object = None, post: bool = False) -> Any:
        """The answer's JSON (a 200 or 201), or SebiaoError naming the path, the status and the gateway's words."""
        status, answer, _ = self.call(path, body, post=post)
        if status == 404 and path.startswith("/api/fleet/") and not (isinstance(answer, dict) and "error" in answer):
            raise SebiaoError(f"{self.base}: 网关未配置固件更新（workshop.yaml 的 fleet: 部分） / the gateway has no "
                              "fleet: section in its config (docs/fleet.md)")
        if status not in (200, 201):
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise SebiaoError(f"{self.base}{path}: HTTP {status}: {error}")
        return answer


def run(args: argparse.Namespace) -> int:
    token = args.token
    if token is None and args.config:
        from edge_gateway.config import load_config

        token = load_config(args.config).http.token
    gateway = _Gateway(args.gateway, token, timeout=30.0)  # an upload of up to 1 MiB
    return {"list": _list, "update": _update, "status": _status, "stop": _stop}[args.action](gateway, args)


def _list(gateway: _Gateway, args: argparse.Namespace) -> int:
    stations = gateway.ok("/api/fleet/stations")
    print(f"{'读卡站 / station':<20} {'固件 / fw':<10} {'参数 / settings':<16} {'在线 / online':<14} "
          f"{'待发 / buffer':<14} 更新 / update")
    for s in stations:
        update = s.get("update") or {}
        words = " ".join(str(update[k]) for k in ("version", "state", "error") if update.get(k))
        online = "在线 / yes" if s.get("online") else "离线 / no"
        buffer = "-" if s.get("buffer_depth") is None else str(s["buffer_depth"])
        settings = s.get("settings")
        settings = "-" if settings is None else settings or "出厂 / as provisioned"
        print(f"{s['id']:<20} {s.get('fw') or '-':<10} {settings:<16} {online:<14} {buffer:<14} {words or '-'}")
    return 0


def _read_release(directory: Path) -> dict[str, object]:
    """The release directory as the upload's body; its manifest's rules and every file's size and hash checked
    here (the signature is the gateway's to check, with the key the stations hold)."""
    from edge_gateway.fleet.release import FILES, MANIFEST, SIGNATURE, ReleaseError, check_file, parse_manifest

    try:
        manifest = (directory / MANIFEST).read_bytes()
        signature = (directory / SIGNATURE).read_bytes()
        _, entries = parse_manifest(manifest, str(directory / MANIFEST))
        files = {}
        for entry in entries:
            data = (directory / FILES / entry.path).read_bytes()
            check_file(entry, data, str(directory / FILES / entry.path))
            files[entry.path] = base64.b64encode(data).decode()
    except OSError as exc:
        raise ReleaseError(str(exc.filename or directory), "无法读取发布包", exc.strerror or str(exc)) from None
    return {"manifest": base64.b64encode(manifest).decode(), "signature": base64.b64encode(signature).decode(),
            "files": files}


def _update(gateway: _Gateway, args: argparse.Namespace) -> int:
    taken = gateway.ok("/api/fleet/releases", _read_release(Path(args.release)), post=True)
    print(f"网关已接收并验证发布包 / the gateway verified the release: {taken['release']} "
          f"(版本 / version {taken['version']})")
    body: dict[str, object] = {"release": taken["release"]}
    stations = [s.strip() for s in args.stations.split(",") if s.strip()]
    if stations:
        body["stations"] = stations
    if args.wave_size is not None:
        body["wave_size"] = args.wave_size
    job = gateway.ok("/api/fleet/jobs", body, post=True)
    try:
        job = _follow(gateway, job)
    except KeyboardInterrupt:
        print("\n任务仍在网关上进行；停止请用 sebiao fleet stop / the job goes on at the gateway: "
              "sebiao fleet stop stops it")
        return 130
    return _verdict(job)


def _follow(gateway: _Gateway, job: Mapping[str, Any]) -> Mapping[str, Any]:
    tty = sys.stdout.isatty()
    shown: list[str] = []
    while True:
        lines = _lines(job)
        if tty:
            if shown:
                sys.stdout.write(f"\x1b[{len(shown)}F")  # back to the first line drawn
            sys.stdout.write("".join(f"\x1b[2K{line}\n" for line in lines))
            sys.stdout.flush()
        else:
            for line in lines:
                if line not in shown:
                    print(line, flush=True)
        shown = lines
        if job.get("state") in ("done", "failed", "stopped"):
            return job
        time.sleep(POLL_SECONDS)
        job = _poll(gateway, f"/api/fleet/jobs/{job['id']}")


def _poll(gateway: _Gateway, path: str) -> Mapping[str, Any]:
    """The job again; through a gateway restarting (``OUTAGE_SECONDS``), said once on standard error."""
    lost = None
    while True:
        try:
            return gateway.ok(path)
        except Unreachable as exc:
            if lost is None:
                lost = time.monotonic()
                print(f"网关暂时无法连接，继续等待 / the gateway cannot be reached (restarting?): waiting up to "
                      f"{OUTAGE_SECONDS:g} s: {exc}", file=sys.stderr, flush=True)
            elif time.monotonic() - lost > OUTAGE_SECONDS:
                raise
            time.sleep(POLL_SECONDS * 2)


def _lines(job: Mapping[str, Any]) -> list[str]:
    state = str(job.get("state"))
    lines = [f"任务 / job {job.get('id')}: 版本 / version {job.get('version')}, {JOB_WORDS.get(state, state)}"]
    for t in job.get("targets", []):
        word = STATION_WORDS.get(t["state"], t["state"])
        detail = t.get("error") or t.get("progress") or ""
        lines.append(f"  第 {t['wave'] + 1} 批 / wave {t['wave'] + 1}  {t['station']:<20} {word}"
                     + (f"  {detail}" if detail else ""))
    return lines


def _verdict(job: Mapping[str, Any]) -> int:
    state = job.get("state")
    if state == "done":
        print(f"全部完成：读卡站已运行版本 {job.get('version')} / done: the stations run version {job.get('version')}")
        return 0
    failed = [t for t in job.get("targets", []) if t["state"] == "failed"]
    for t in failed:
        print(f"读卡站 {t['station']} 更新失败 / station {t['station']} failed: {t.get('error')}", file=sys.stderr)
    left = [t["station"] for t in job.get("targets", []) if t["state"] == "not_started"]
    if left:
        print(f"未开始，仍为原版本 / not started, still on their version: {', '.join(left)}", file=sys.stderr)
    if state == "stopped" and not failed:
        print(f"任务已停止 / the job was stopped: {job.get('reason')}", file=sys.stderr)
    return 1


def _status(gateway: _Gateway, args: argparse.Namespace) -> int:
    job = gateway.ok("/api/fleet/jobs/current").get("job")
    if job is None:
        print("还没有更新任务 / no update job yet")
        return 0
    for line in _lines(job):
        print(line)
    if job.get("reason"):
        print(f"原因 / reason: {job['reason']}")
    return 0


def _stop(gateway: _Gateway, args: argparse.Namespace) -> int:
    job = gateway.ok("/api/fleet/jobs/current/stop", post=True)
    print(f"已停止，不再开始新的读卡站；正在更新的读卡站将完成 / stopped: no more stations start; those updating "
          f"finish: job {job['id']} {JOB_WORDS.get(job['state'], job['state'])}")
    return 0
