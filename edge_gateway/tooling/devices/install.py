"""``sebiao firmware install``: every station of a workshop onto its board in one run.

The station configs are provisioned first (``provision.py``), then the run waits for boards: a port with an
ESP32 USB bridge (``ports.esp32_ports``) or one named by ``--port`` that appears is a board plugged in. Each
board gets the station its own ``config.json`` names (so a board plugged in again keeps its station), else
the station it was given earlier in the run or a previous run (by chip id), else the next station to do in
the config's order. It is flashed (``--image``), deployed and read back (``board.py``), one board at a time;
a board that fails is reported and the run goes on. ``install_record.py`` keeps what is done, so a second
run does the rest. Progress is one line per board, Chinese first, and a table at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edge_gateway.broker.credentials import Credentials
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.tooling.devices import board as boards
from edge_gateway.tooling.devices.bundle import MANIFEST, load_manifest
from edge_gateway.tooling.devices.flash import ESP32_ADDRESS
from edge_gateway.tooling.devices.install_record import file_sha256, load_record, record_path
from edge_gateway.tooling.devices.ports import SerialPort, esp32_ports, system_ports
from edge_gateway.tooling.devices.provision import ProvisionOptions, station_reader, write_station_configs
from sebiao_common.errors import ConfigError, SebiaoError

DONE, FAILED, SKIPPED, EARLIER, WAITING = "done", "failed", "skipped", "earlier", "waiting"
RESULT_WORDS = {DONE: "完成 / done", FAILED: "失败 / failed", SKIPPED: "跳过 / skipped",
                EARLIER: "已完成（之前）/ done before", WAITING: "未连接 / no board"}


@dataclass(frozen=True, kw_only=True)
class InstallOptions:
    bundle: Path
    out: Path  # the station configs' directory (as `provision --out`); the record is <out>.install.json
    provision: ProvisionOptions = ProvisionOptions()
    stations: tuple[str, ...] = ()  # only these (config order kept); () = every station
    redo: tuple[str, ...] = ()  # install these again even if the record says done
    ports: tuple[str, ...] = ()  # watched besides the USB bridges found by VID:PID
    image: Path | None = None  # flash this MicroPython image first
    release_key: Path | None = None  # release_key.json for updates over Wi-Fi (docs/fleet.md), onto every board
    address: int = ESP32_ADDRESS
    baud: int = 460800
    wait_s: float = 300.0  # stop when no new board has come for this long
    poll_s: float = 0.5


@dataclass(frozen=True, kw_only=True)
class Attempt:
    station: str | None
    port: str
    board: str | None
    reader: str | None
    result: str
    error: str = ""


@dataclass(kw_only=True)
class Installer:
    config: WorkshopConfig
    creds: Credentials
    options: InstallOptions
    lister: Callable[[], list[SerialPort]] = system_ports
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    say: Callable[[str], None] = lambda text: print(text, flush=True)  # a line, or the end of one
    part: Callable[[str], None] = lambda text: print(text, end="", flush=True)  # a step, as it starts
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        known = [s.id for s in self.config.stations]
        for flag, names in (("--stations", self.options.stations), ("--redo", self.options.redo)):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ConfigError(flag, "", f"no station {', '.join(unknown)} in {self.config.file} "
                                  f"(stations: {', '.join(known)})", f"配置中没有读卡站 {', '.join(unknown)}")
        chosen = set(self.options.stations or known) | set(self.options.redo)
        self.selected = [s for s in known if s in chosen]
        load_manifest(self.options.bundle)  # a bundle, before anything else
        self.bundle_sha = file_sha256(self.options.bundle / MANIFEST)
        self.firmware = str(load_manifest(self.options.bundle).get("firmware", ""))
        self.readers = {s: station_reader(self.config, s, self.options.provision) for s in self.selected}
        self.record = load_record(record_path(self.options.out), self.config.workshop.id)
        self.bound: dict[str, str] = {}  # chip id -> station given to it in this run

    def config_path(self, station: str) -> Path:
        return self.options.out / station / "config.json"

    def done(self, station: str) -> bool:
        return self.record.is_done(station, self.bundle_sha, file_sha256(self.config_path(station)))

    def prepare(self) -> None:
        """Provision every station's config.json, and list the stations to do (the record's done ones out)."""
        write_station_configs(self.config, self.creds, self.options.out, self.options.provision)
        for station in self.options.redo:
            self.record.stations.pop(station, None)
        self.todo = [s for s in self.selected if not self.done(s)]

    def run(self) -> list[Attempt]:
        self.prepare()
        self.say(f"共 {len(self.selected)} 个读卡站，待安装 {len(self.todo)} 个；请逐块插入 ESP32 板卡 / "
                 f"{len(self.selected)} stations, {len(self.todo)} to install: plug the boards in, one after another")
        handled: set[str] = set()  # ports dealt with while they stay plugged in
        last = self.clock()
        while any(not self.done(s) for s in self.todo):
            present = esp32_ports(self.options.ports, self.lister)
            handled &= set(present)  # unplugged, then plugged again: a new board
            fresh = [p for p in present if p not in handled]
            for port in fresh:
                handled.add(port)
                self.attempts.append(self.board(port))
                last = self.clock()
                if all(self.done(s) for s in self.todo):
                    break
            if not fresh:
                if self.clock() - last >= self.options.wait_s:
                    self.say(f"{self.options.wait_s:.0f} 秒内没有新板卡，结束 / no new board for "
                             f"{self.options.wait_s:.0f} s, stopping")
                    break
                self.sleep(self.options.poll_s)
        return self.attempts

    def board(self, port: str) -> Attempt:
        try:
            info = boards.probe(port)
        except SebiaoError as exc:
            if self.options.image is None:
                self.say(f"[-] {port}：板卡无应答，没有 MicroPython？加 --image 先烧录 / the board did not answer "
                         f"(no MicroPython on it? add --image): {exc}")
                return Attempt(station=None, port=port, board=None, reader=None, result=FAILED, error=str(exc))
            info = boards.BoardInfo(board_id=None)  # a blank board: the image comes first
        station, why = self.choose(info)
        if station is None:
            self.say(f"[-] {port}（{info.board_id or '?'}）：{why}")
            return Attempt(station=info.station, port=port, board=info.board_id, reader=None, result=SKIPPED,
                           error=why)
        if info.board_id:
            self.bound[info.board_id] = station
        return self.install(port, station, info.board_id)

    def choose(self, info: boards.BoardInfo) -> tuple[str | None, str]:
        own = info.station if info.workshop == self.config.workshop.id else None
        if own is None and info.board_id:
            own = self.bound.get(info.board_id) or self.record.board_of(info.board_id)
        if own is not None and self.config.station(own) is not None:
            if own not in self.selected:
                return None, f"此板卡是 {own}，不在 --stations 中 / this board is {own}, not among --stations"
            if own not in self.todo or self.done(own):
                return None, f"此板卡是 {own}，已安装 / this board is {own}, already installed (--redo {own})"
            return own, ""
        taken = set(self.bound.values())
        for station in self.todo:
            if station not in taken and not self.done(station):
                return station, ""
        return None, "没有待安装的读卡站 / no station left to install"

    def install(self, port: str, station: str, board_id: str | None) -> Attempt:
        reader = self.readers[station]
        number = self.todo.index(station) + 1
        self.part(f"[{number}/{len(self.todo)}] {port} → {station}（{reader.upper()}）")
        try:
            if self.options.image is not None:
                from edge_gateway.tooling.devices.flash import flash

                self.part("烧录… ")
                board_id = flash(port, self.options.image, self.options.address, self.options.baud,
                                 quiet=True) or board_id
            self.part("部署… 校验… ")  # one mpremote session: the copies, then the read-back
            info = boards.deploy_verified(port, self.options.bundle, self.config_path(station),
                                          release_key=self.options.release_key)
            board_id = info.board_id or board_id
        except (SebiaoError, OSError) as exc:
            self.say(f"失败 / failed: {exc}")
            self.record.note(station, self.entry(port, board_id, reader, FAILED, str(exc), station), self.clock())
            return Attempt(station=station, port=port, board=board_id, reader=reader, result=FAILED, error=str(exc))
        if board_id:
            self.bound[board_id] = station
        self.record.note(station, self.entry(port, board_id, reader, DONE, "", station), self.clock())
        self.say("完成 / done")
        return Attempt(station=station, port=port, board=board_id, reader=reader, result=DONE)

    def entry(self, port: str, board_id: str | None, reader: str, result: str, error: str, station: str) -> dict:
        return {"result": result, "port": port, "board": board_id or "", "reader": reader,
                "firmware": self.firmware, "bundle_sha256": self.bundle_sha,
                "config_sha256": file_sha256(self.config_path(station)), "error": error}

    def summary(self) -> list[Attempt]:
        """One row per selected station (its last attempt in this run, else the record's word), then the
        boards that got no station."""
        last = {a.station: a for a in self.attempts if a.result in (DONE, FAILED) and a.station}
        rows = []
        for station in self.selected:
            if station in last:
                rows.append(last[station])
            elif station not in self.todo or self.done(station):
                entry = self.record.stations.get(station, {})
                rows.append(Attempt(station=station, port=entry.get("port", ""), board=entry.get("board") or None,
                                    reader=self.readers[station], result=EARLIER))
            else:
                rows.append(Attempt(station=station, port="", board=None, reader=self.readers[station],
                                    result=WAITING))
        return rows + [a for a in self.attempts if a not in last.values() and a.station not in last]


def summary_table(rows: list[Attempt]) -> list[str]:
    head = ("读卡站 / station", "端口 / port", "板卡 / board (MAC)", "读卡器 / reader", "结果 / result",
            "错误 / error")
    cells = [head] + [(r.station or "-", r.port or "-", r.board or "-", (r.reader or "-").upper(),
                       RESULT_WORDS[r.result], r.error.replace("\n", " ")[:160]) for r in rows]
    widths = [max(_width(c[i]) for c in cells) for i in range(len(head) - 1)]
    return ["  ".join(c[i] + " " * (widths[i] - _width(c[i])) for i in range(len(head) - 1)) + "  " + c[-1]
            for c in cells]


def _width(text: str) -> int:
    """Columns on a terminal: a CJK character takes two."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)
