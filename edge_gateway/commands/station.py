"""``sebiao station``: a virtual reader station on this computer.

The real firmware (``firmware/sebiao_station``) runs against a real broker
with a simulated reader; tags come and go by lines on standard input
(``place <uid> [tool kind color]``, ``remove <uid>``, ``wait <seconds>``; with
a probe in the config ``heat|cool|temp <°C> [seconds]``, ``hold <seconds>``,
``probe ok|absent|crc|stuck85``; see docs/virtual-stations.md). At the end of the input the station sends
what it still holds and exits; ``--keep-running`` keeps it on until Ctrl-C.

It boots as a board does (docs/fleet.md): ``sebiao_boot.select`` on its flash picks the version (a
slot that came over the air, or the firmware folder's), and when the firmware resets the board (after
an update's switch, a trial that did not confirm) the process starts itself again with the same
arguments (``os.execv``), so an updated station really runs the new files.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from edge_gateway.tooling.station_config import load_station_config, override_broker
from edge_gateway.vstation.runner import READERS, VirtualStation, boot_slot, install_release_key
from edge_gateway.vstation.script import PROBE_COMMANDS, Command, ProbeFault, ScriptError, Temp, Wait, parse_line
from edge_gateway.vstation.texts import PROBE_FAULTS, command_line, cycle_line, event_line, probe_line, update_line
from sebiao_common.errors import SebiaoError

LOOP_S = 0.02
_EOF = object()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="the station's config.json (from `sebiao firmware provision`) / 读卡站配置")
    parser.add_argument("--broker", metavar="URL", help="mqtt://HOST:PORT, overrides the config's broker / 覆盖代理地址")
    parser.add_argument("--reader", choices=READERS, help="simulated reader chip (default: the config's) / 模拟读卡芯片")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the station's flash: its offline buffer (default ./sebiao-stations/STATION) / 离线缓存目录")
    parser.add_argument("--drain-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="at the end of the input, wait at most this long for unsent events (default 30)")
    parser.add_argument("--keep-running", action="store_true",
                        help="stay on after the end of the input, until Ctrl-C / 输入结束后继续运行")
    parser.add_argument("--release-key", metavar="FILE",
                        help='the release key\'s public half ({"e":65537,"n":"<hex>"}), copied onto the flash as '
                             "release_key.json, for updates over Wi-Fi / 固件签名公钥")


def run(args: argparse.Namespace) -> int:
    cfg = load_station_config(args.config)
    if args.broker:
        cfg = override_broker(cfg, args.broker)
    flash = Path(args.data_dir) if args.data_dir else Path("sebiao-stations") / cfg["station"]
    if args.release_key:
        install_release_key(flash, Path(args.release_key))
    slot = boot_slot(flash)
    try:
        return _run(args, cfg, flash, slot)
    except SebiaoError:
        raise
    except Exception as exc:
        _crashed(cfg["station"], flash, exc)
        raise


def _run(args: argparse.Namespace, cfg: dict, flash: Path, slot: str) -> int:
    vs = VirtualStation(cfg, flash, reader=args.reader)
    vs.board.reset = lambda: _reset(vs.id)
    vs.on_event = lambda action, tag, label: _say(event_line(vs.id, action, tag, label))
    vs.on_command = lambda cmd: _say(command_line(vs.id, cmd))
    vs.on_cycle = lambda seconds, interval_s, temps: _say(cycle_line(vs.id, seconds, interval_s, temps))
    commands: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_script, args=(sys.stdin, commands, vs.has_probe), name="station-stdin",
                     daemon=True).start()
    b = cfg["broker"]
    _say(f"[{vs.id}] 虚拟读卡站启动 / virtual station started: workshop {cfg['workshop']}, "
         f"broker {b['host']}:{b['port']}, reader {args.reader or cfg['reader']['type']}, flash {flash}, "
         f"firmware {vs.firmware_version} ({Path(slot).name if slot else 'factory'})")
    if vs.backlog:
        _say(f"[{vs.id}] 闪存中有 {vs.backlog} 条未发送事件 / {vs.backlog} unsent events on flash")
    vs.start()
    return _loop(vs, commands, args.drain_timeout, args.keep_running)


def _loop(vs: VirtualStation, commands: queue.SimpleQueue, drain_timeout: float, keep_running: bool) -> int:
    eof_at: float | None = None
    was_up = False
    update: dict | None = None
    try:
        while True:
            while eof_at is None:
                try:
                    item = commands.get_nowait()
                except queue.Empty:
                    break
                if item is _EOF:
                    eof_at = time.monotonic()
                else:
                    _announce(vs, item)
                    vs.apply(item)
            vs.step()
            if vs.station.update is not None and vs.station.update != update:
                update = dict(vs.station.update)
                _say(update_line(vs.id, update))
            if vs.connected != was_up:
                was_up = vs.connected
                _say(f"[{vs.id}] " + ("已连接代理 / connected to the broker" if was_up
                                      else f"与代理断开 / broker connection lost ({vs.station.link.last_error})"))
            if eof_at is not None and not keep_running and time.monotonic() - eof_at >= _settle_s(vs.cfg):
                if vs.backlog == 0 and vs.connected:
                    _say(f"[{vs.id}] 输入结束，事件已全部送达 / end of input, every event delivered")
                    return 0
                if time.monotonic() - eof_at > drain_timeout:
                    raise SebiaoError(f"station {vs.id}: {vs.backlog} events still unsent after {drain_timeout:g} s "
                                      f"(broker {vs.cfg['broker']['host']}:{vs.cfg['broker']['port']}: "
                                      f"{vs.station.link.last_error or 'not connected'}); they stay in "
                                      f"{vs.flash_dir} and go out on the next run / 事件保存在闪存目录中")
            time.sleep(LOOP_S)
    finally:
        vs.power_off()


def _crashed(station: str, flash: Path, exc: Exception) -> None:
    """As main.py on a board: a version on trial that raises notes why and resets; the boot rolls it back.
    Any other crash ends the command with its traceback."""
    import sebiao_boot

    trial_file = str(flash / "fw" / "trial")
    if not sebiao_boot.exists(trial_file):
        return
    trial = sebiao_boot.read_json(trial_file) or {}
    trial["error"] = "crash " + type(exc).__name__
    sebiao_boot.write_atomic(trial_file, trial)
    _say(f"[{station}] 试运行的固件出错 / the version on trial crashed: {type(exc).__name__}: {exc}")
    _reset(station)


def _reset(station: str) -> None:
    """The firmware resets the board: start again as a board boots (same arguments, same flash). The TCP
    connection drops without DISCONNECT, so the broker publishes the last will, as for a real reset."""
    _say(f"[{station}] 读卡站重启 / the station resets")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _settle_s(cfg: dict) -> float:
    """Long enough after the last line for the reader to see it (a removal takes the debounce)."""
    t = cfg["timing"]
    return (t["poll_ms"] * (t["absent_misses"] + 2) + t["absent_ms"]) / 1000


def _announce(vs: VirtualStation, command: Command) -> None:
    if isinstance(command, Temp):
        _say(probe_line(vs.id, command.celsius, command.seconds))
    elif isinstance(command, ProbeFault):
        zh, en = PROBE_FAULTS[command.fault]
        _say(f"[{vs.id}] {zh} / {en}")


def _read_script(stream: TextIO, commands: queue.SimpleQueue, has_probe: bool = False) -> None:
    for number, line in enumerate(stream, 1):
        try:
            command: Command | None = parse_line(line, number)
            if isinstance(command, PROBE_COMMANDS) and not has_probe:
                raise ScriptError(number, 'this station has no probe: add "probe": {} to its config.json')
        except ScriptError as exc:
            print(f"sebiao station: 第 {exc.line} 行已跳过 / line {exc.line} skipped: {exc.reason}",
                  file=sys.stderr, flush=True)
            continue
        if isinstance(command, Wait):
            time.sleep(command.seconds)
        elif command is not None:
            commands.put(command)
            if isinstance(command, Temp):
                time.sleep(command.seconds)  # the next line starts when the probe is there
    commands.put(_EOF)


def _say(text: str) -> None:
    print(text, flush=True)
