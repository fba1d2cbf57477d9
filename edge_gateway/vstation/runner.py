"""One virtual station: the firmware's ``Station`` on a ``HostBoard`` (simulated
reader, real sockets, a directory as its flash), stepped by the caller.

    vs = VirtualStation(cfg, Path("flash/rack-red-1"))
    vs.start()
    vs.apply(Place("04A224E2C65E80"))
    while ...: vs.step()

Hooks: ``on_event(action, tag, label)`` for each event the station records,
``on_command(cmd)`` for each command the gateway sends (feedback, provision),
``on_cycle(seconds, interval_s, temps_dc)`` for each probe cycle it records.

A station whose config has "probe" reads a simulated DS18B20 on a simulated
1-Wire line: ``Temp`` moves its temperature in a straight line over the
station's clock, ``ProbeFault`` makes it fail as a real probe can.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

from edge_gateway.tooling.firmware_files import use_firmware
from edge_gateway.vstation.script import Command, Place, ProbeFault, Remove, Temp, Wait
from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError

READERS = ("mfrc522", "pn532")
RELEASE_KEY = "release_key.json"


def boot_slot(flash_dir: Path) -> str:
    """What the board's ``main.py`` does before the station starts: ``sebiao_boot.select`` on the flash
    (trial, rollback, confirmed slot), then the chosen slot's ``sebiao_station`` first on ``sys.path``.
    Only for a process that runs this one station (``sebiao station``): the firmware modules loaded
    before (the config check) are dropped so the slot's own are imported. Returns the slot's directory
    ("" = the firmware folder, the factory version)."""
    use_firmware()
    import sebiao_boot

    Path(flash_dir).mkdir(parents=True, exist_ok=True)
    slot = sebiao_boot.select(str(flash_dir))
    if slot:
        sys.path.insert(0, slot)
        for name in [n for n in sys.modules if n == "sebiao_station" or n.startswith("sebiao_station.")]:
            del sys.modules[name]
    return slot


def install_release_key(flash_dir: Path, key_file: Path) -> None:
    """Put the release key's public half on the station's flash (as provisioning over USB does)."""
    try:
        key = strict_json.loads(Path(key_file).read_bytes())
    except (OSError, ValueError) as exc:
        raise SebiaoError(f"{key_file}: cannot read the release key ({exc}) / 无法读取固件签名公钥") from exc
    n = key.get("n") if isinstance(key, dict) else None
    try:
        modulus = int(n, 16) if isinstance(n, str) and n.isascii() and n.isalnum() else 0
    except ValueError:
        modulus = 0
    if modulus.bit_length() != 2048 or key.get("e") != 65537:
        raise SebiaoError(f'{key_file}: not a release key: want {{"e":65537,"n":"<hex of a 2048-bit modulus>"}} '
                          "(RSA-2048, docs/fleet.md) / 不是固件签名公钥")
    Path(flash_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(flash_dir) / (RELEASE_KEY + ".tmp")
    tmp.write_text(strict_json.dumps({"e": 65537, "n": "%0512x" % modulus}))
    tmp.replace(Path(flash_dir) / RELEASE_KEY)


class VirtualStation:
    def __init__(self, cfg: dict[str, Any], flash_dir: Path, reader: str | None = None,
                 clock: object = None) -> None:
        """``clock``: a firmware ``Clock`` for the board (None: the host's), passed on as it is."""
        use_firmware()
        import sebiao_station
        from sebiao_sim.host import HostBoard
        from sebiao_station.app import Station

        hooks = self

        class HostStation(Station):  # the link holds self.command: hook it here
            def command(self, cmd: dict) -> None:
                super().command(cmd)
                if hooks.on_command is not None:
                    hooks.on_command(cmd)

        cfg = _with_flash(cfg, Path(flash_dir))
        self.cfg = cfg
        self.firmware_version: str = sebiao_station.VERSION  # of the slot boot_slot() chose, if it ran
        self.id: str = cfg["station"]
        self.flash_dir = Path(flash_dir)
        self.flash_dir.parent.mkdir(parents=True, exist_ok=True)
        self.board = HostBoard(str(self.flash_dir), reader=reader or cfg["reader"]["type"], clock=clock)
        self.station = HostStation(self.board, cfg)
        self.station.on_event = self._event
        self.station.on_cycle = self._cycle
        self.on_event: Callable[[str, str, dict | None], None] | None = None
        self.on_command: Callable[[dict], None] | None = None
        self.on_cycle: Callable[[float, int, list[int]], None] | None = None
        self.ramp: tuple[int, float, float, float] | None = None  # (start tick, from °C, to °C, ms)

    @property
    def has_probe(self) -> bool:
        return self.station.probe is not None

    def _cycle(self, start_tick: int, end_tick: int, interval_s: int, temps_dc: list[int]) -> None:
        if self.on_cycle is not None:
            self.on_cycle(self.board.clock.ticks_diff(end_tick, start_tick) / 1000, interval_s, temps_dc)

    def _event(self, action: str, tag: str, label: dict | None) -> None:
        if self.on_event is not None:
            self.on_event(action, tag, label)

    def start(self) -> None:
        self.station.start()

    def step(self) -> bool:
        self._follow_ramp()
        return self.station.step()

    def apply(self, command: Command) -> None:
        if isinstance(command, Place):
            self.board.place(command.uid, command.label)
        elif isinstance(command, Remove):
            self.board.remove(command.uid)
        elif isinstance(command, Temp):
            self.ramp = (self.board.clock.ticks_ms(), self.board.probe.temp_c, command.celsius,
                         command.seconds * 1000)
            self._follow_ramp()
        elif isinstance(command, ProbeFault):
            probe = self.board.probe
            probe.present = command.fault != "absent"
            probe.crc_error = command.fault == "crc"
            probe.stuck_85 = command.fault == "stuck85"
            if probe.stuck_85:
                probe.raw = 0x0550  # a brown-out: the chip is back at its power-on value
        elif not isinstance(command, Wait):
            raise TypeError(f"not a station command: {command!r}")

    @property
    def probe_c(self) -> float:
        """The simulated probe's true temperature (what the station reads, when it reads well)."""
        return float(self.board.probe.temp_c)

    def _follow_ramp(self) -> None:
        if self.ramp is None:
            return
        start, frm, to, ms = self.ramp
        done = self.board.clock.ticks_diff(self.board.clock.ticks_ms(), start)
        if done >= ms:
            self.board.probe.temp_c = to
            self.ramp = None
        else:
            self.board.probe.temp_c = frm + (to - frm) * done / ms

    def run_for(self, seconds: float, step_ms: int = 20) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.step()
            time.sleep(step_ms / 1000)

    @property
    def backlog(self) -> int:
        """Events on its flash not yet acknowledged by the broker."""
        return self.station.buffer.depth

    @property
    def connected(self) -> bool:
        return self.station.link.up

    @property
    def leds(self) -> dict[str, int]:
        pins = self.cfg["pins"]
        return {name: self.board.pins[pins[name]].value() for name in ("led_red", "led_green", "buzzer")
                if pins[name] in self.board.pins}

    def power_off(self) -> None:
        """Drop the connection as a power cut would (the broker publishes the last will)."""
        self.station.link.client.close()


def _with_flash(cfg: dict[str, Any], flash_dir: Path) -> dict[str, Any]:
    """What came over the network and sits in the flash's config.json (remote settings, Wi-Fi, broker
    password: docs/fleet.md) over the config given: a virtual station comes back as a real one does.
    A flash config of another station, or one that cannot be read, is left alone."""
    from sebiao_station import config as fw_config
    from sebiao_station.settings import REMOTE

    path = flash_dir / "config.json"
    if not path.is_file():
        return cfg
    try:
        kept = fw_config.load(str(path))
    except fw_config.ConfigError:
        return cfg
    if (kept["workshop"], kept["station"]) != (cfg["workshop"], cfg["station"]):
        return cfg
    out = fw_config._copy(cfg)
    for name in REMOTE:
        section, key = name.split(".")
        out[section][key] = kept[section][key]
    out["settings_version"], out["wifi"] = kept["settings_version"], kept["wifi"]
    out["broker"]["password"] = kept["broker"]["password"]
    try:
        return fw_config.validate(out)
    except fw_config.ConfigError:
        return cfg
