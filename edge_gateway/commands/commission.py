"""``sebiao commission``: the commissioning check after a workshop is mounted and deployed, and its sign-off sheet.

It asks the running gateway (its HTTP API with the config's ``http.token``, as ``sebiao enroll --from-gateway``
does): every station online with its clock set (``GET /api/stations``), every tagged tool seen on its home rack
(``GET /api/tools``); it sends each online station the LED and buzzer test (``POST /api/stations/{id}/test``),
waits for the station's status to confirm it played, and asks the installer what they saw and heard (Chinese
first; ``--yes`` for scripts records "confirmed by --yes", never that a person saw it). It prints the result
table, writes the sign-off sheet (A4 PDF) and exits 0 only when everything passed (1 otherwise).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from edge_gateway.commands.gateway_api import GatewayApi
from edge_gateway.config import load_config
from edge_gateway.tooling.commissioning import check
from edge_gateway.tooling.commissioning.sheet import render_sheet
from sebiao_common.errors import SebiaoError

POLL_SECONDS = 0.25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workshop.yaml / 作坊配置文件")
    parser.add_argument("--gateway", default="http://127.0.0.1:8080",
                        help="the running gateway's address (default http://127.0.0.1:8080) / 网关地址")
    parser.add_argument("--token", help="the gateway's API token (default: http.token of --config) / 网关 API 令牌")
    parser.add_argument("--out", help="the sign-off sheet (PDF; default commissioning-<workshop>-<time>.pdf) / 签字单")
    parser.add_argument("--installer", help="the installer's name, on the sheet / 安装人员姓名")
    parser.add_argument("--yes", action="store_true",
                        help="do not ask (scripts): the sheet says 'confirmed by --yes', not that a person saw it / "
                             "不询问，签字单注明未经人工确认")
    parser.add_argument("--answer-seconds", type=float, default=10.0,
                        help="how long a station has to confirm its test (default 10) / 等待读卡站应答的秒数")
    parser.add_argument("--font", help="a TrueType/OpenType CJK font for the sheet / 中文字体文件")


class _Gateway(GatewayApi):
    def get(self, path: str) -> object:
        status, body, _ = self.call(path)
        if status != 200:
            raise SebiaoError(f"{self.base}{path}: HTTP {status}: {body}")
        return body

    def stations(self) -> dict[str, Mapping[str, object]]:
        return {str(r["id"]): r for r in self.get("/api/stations")}  # type: ignore[union-attr]


def _send(gateway: _Gateway, station: str) -> tuple[str, int | None, str | None]:
    """Send the test: (PLAYED-to-be-confirmed or an outcome, its seq, the gateway's refusal)."""
    for _ in range(2):
        status, body, headers = gateway.call(f"/api/stations/{station}/test", post=True)
        if status == 202 and isinstance(body, dict):
            return check.PLAYED, int(body["seq"]), None
        if status == 429:  # tested a moment ago (a second run of the check): wait as told, once
            time.sleep(min(10.0, float(headers.get("Retry-After", "5"))))
            continue
        error = body.get("error") if isinstance(body, dict) else None
        if status == 409:  # the station went offline since it was listed
            return check.NOT_SENT, None, None
        return check.REFUSED, None, f"HTTP {status}: {error}"[:200]
    return check.REFUSED, None, "HTTP 429"


def _wait(gateway: _Gateway, sent: dict[str, int], seconds: float) -> dict[str, Mapping[str, object]]:
    """Poll until every station in ``sent`` confirmed its seq or ``seconds`` passed; each station's row as
    first seen confirming (its clock offset measured then), or the last row read."""
    deadline, confirmed = time.monotonic() + seconds, {}
    rows: dict[str, Mapping[str, object]] = {}
    while True:
        rows = gateway.stations()
        for station, seq in sent.items():
            if station not in confirmed and check.played(rows.get(station, {}), seq):
                confirmed[station] = rows[station]
        if len(confirmed) == len(sent) or time.monotonic() >= deadline:
            return {**rows, **confirmed}
        time.sleep(POLL_SECONDS)


def _answer(question: str, ask: Callable[[str], str], choices: Mapping[str, str]) -> str:
    """The installer's answer at the terminal, one of ``choices`` (what they may type -> what it means)."""
    while True:
        try:
            answer = ask(question).strip().lower()
        except EOFError:
            raise SebiaoError("终端没有回答；脚本请用 --yes / no answer at the terminal: use --yes in scripts") from None
        if answer in choices:
            return choices[answer]
        print("请回答 y（是）、n（否）或 r（再测一次） / answer y, n or r (again)")


YES_NO_AGAIN = {"y": "y", "yes": "y", "是": "y", "有": "y", "n": "n", "no": "n", "否": "n", "没有": "n",
                "r": "r", "again": "r", "再": "r"}


def _test_one(gateway: _Gateway, row: Mapping[str, object], args: argparse.Namespace, installer: str | None,
              ask: Callable[[str], str]) -> check.StationResult:
    station = str(row["id"])
    if row.get("online") is not True:
        print(f"读卡站 {station}（{row.get('name')}）不在线，不测试 / station {station} is offline: not tested")
        return check.station_result(row, check.NOT_SENT, check.NOT_ASKED, None)
    ask(f"请走到读卡站 {station}（{row.get('name')}）旁，看灯光、听蜂鸣，准备好后按回车 / go to station {station}, "
        "press Enter when ready ")
    while True:
        outcome, seq, detail = _send(gateway, station)
        if seq is None:
            return check.station_result(row, outcome, check.NOT_ASKED, None, detail=detail)
        after = _wait(gateway, {station: seq}, args.answer_seconds).get(station, row)
        if not check.played(after, seq):
            print(f"  读卡站 {station} 无应答 / station {station} did not answer")
            return check.station_result(after, check.NO_ANSWER, check.NOT_ASKED, None)
        seen = _answer(f"  读卡站 {station}：是否看到红灯、绿灯依次亮起，并听到蜂鸣？(y/n，r 再测一次) / did you see red, "
                       "then green, and hear the buzzer? (y/n, r: again) ", ask, YES_NO_AGAIN)
        if seen != "r":
            return check.station_result(after, check.PLAYED, check.SEEN if seen == "y" else check.NOT_SEEN,
                                        installer, offset_ms=_offset(after))


def _test_all(gateway: _Gateway, rows: Mapping[str, Mapping[str, object]],
              answer_seconds: float) -> list[check.StationResult]:
    """``--yes``: every online station at once (no one walks from station to station)."""
    sent, refused = {}, {}
    for station, row in rows.items():
        if row.get("online") is True:
            outcome, seq, detail = _send(gateway, station)
            if seq is None:
                refused[station] = (outcome, detail)
            else:
                sent[station] = seq
    after = _wait(gateway, sent, answer_seconds) if sent else dict(rows)
    out = []
    for station, row in rows.items():
        now = after.get(station, row)
        if station in sent:
            ok = check.played(now, sent[station])
            out.append(check.station_result(now, check.PLAYED if ok else check.NO_ANSWER,
                                            check.BY_YES if ok else check.NOT_ASKED, "--yes" if ok else None,
                                            offset_ms=_offset(now) if ok else None))
        elif station in refused:
            out.append(check.station_result(now, refused[station][0], check.NOT_ASKED, None,
                                            detail=refused[station][1]))
        else:
            out.append(check.station_result(now, check.NOT_SENT, check.NOT_ASKED, None))
    return out


def _offset(row: Mapping[str, object]) -> int | None:
    value = row.get("clock_offset_ms")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _print(result: check.Commissioning, out: Path) -> None:
    print(f"\n安装验收 / Commissioning — {result.workshop_name}（{result.workshop_id}） {result.at}"
          f"{f' · 安装人员 / installer: {result.installer}' if result.installer else ''}")
    print("读卡站 / stations")
    for s in result.stations:
        mark = "通过 pass" if s.passed else "未通过 FAIL"
        test, seen = check.TEST_TEXT[s.test], check.SEEN_TEXT[s.seen]
        clock = "时钟正常 clock ok" if s.clock_ok else " ".join(check.clock_problem(s))
        print(f"  [{mark}] {s.id} {s.name} · {'在线 online' if s.online else '不在线 OFFLINE'} · {clock} · "
              f"测试 {test[0]} {test[1]} · 确认 {seen[0]} {seen[1]}")
    print("器具 / tools")
    for t in result.tools:
        zh, en = t.where
        mark = "未检查 —" if not t.tagged else ("通过 pass" if t.at_home else "未通过 FAIL")
        print(f"  [{mark}] {t.name_zh} / {t.name_en}: {zh} / {en}")
    if result.passed:
        print("结论：全部通过 / result: everything passed")
    else:
        print(f"结论：{len(result.failures)} 项未通过 / result: {len(result.failures)} item(s) FAILED")
        for zh, en in result.failures:
            print(f"  - {zh} / {en}")
    print(f"签字单 / sign-off sheet: {out}")


def run(args: argparse.Namespace, ask: Callable[[str], str] = input) -> int:
    config = load_config(args.config)
    gateway = _Gateway(args.gateway, args.token or config.http.token)
    health = gateway.get("/healthz")
    health = health if isinstance(health, dict) else {}
    if health.get("workshop") != config.workshop.id:  # another workshop's gateway, or the wrong config file
        raise SebiaoError(f"{gateway.base} 是作坊 {health.get('workshop')!r} 的网关，不是 {config.workshop.id!r} / "
                          f"the gateway at {gateway.base} serves workshop {health.get('workshop')!r}, "
                          f"not {config.workshop.id!r} of {args.config}")
    rows = gateway.stations()
    installer = args.installer
    if args.yes:
        stations = _test_all(gateway, rows, args.answer_seconds)
    else:
        while not installer:
            installer = ask("安装人员姓名 / installer's name: ").strip()[:64]
        stations = [_test_one(gateway, row, args, installer, ask) for row in rows.values()]
    tools = check.tool_results(gateway.get("/api/tools"))  # type: ignore[arg-type]
    now = datetime.now().astimezone()
    clock = health.get("clock") if isinstance(health.get("clock"), dict) else {}
    synchronised = clock.get("synchronised")
    result = check.Commissioning(
        workshop_id=config.workshop.id, workshop_name=config.workshop.name, at=now.strftime("%Y-%m-%d %H:%M:%S %z"),
        gateway=gateway.base, gateway_version=health.get("version") if isinstance(health.get("version"), str) else None,
        gateway_clock_synchronised=synchronised if isinstance(synchronised, bool) else None,
        stations=tuple(stations), tools=tools, installer=installer)
    out = Path(args.out or f"commissioning-{config.workshop.id}-{now:%Y%m%d-%H%M}.pdf")
    render_sheet(result, out, args.font)
    _print(result, out)
    sys.stdout.flush()
    return 0 if result.passed else 1
