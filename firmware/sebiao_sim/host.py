"""A Board for running the station on a host (CPython): real TCP sockets and
clock, a directory as the flash, and a simulated reader whose field the caller
drives (place/remove tags), and a simulated DS18B20 probe on a 1-Wire line
(`board.probe.temp_c = 82.5`) for a station configured with "probe".
`sebiao station` builds on this.

    board = HostBoard("/tmp/st1", reader="mfrc522")
    station = Station(board, config.load("station.json"))
    station.start()
    board.place("04A224E2C65E80")
    while True:
        station.step(); board.clock.sleep_ms(50)

A power cut in the middle of an update: `HostBoard(..., power_cut="update chunk#3")`
(or the environment variable SEBIAO_POWER_CUT, read when the argument is None)
ends the process at once (os._exit(POWER_CUT_EXIT), nothing flushed, no MQTT
DISCONNECT) the 3rd time the firmware reaches checkpoint "update chunk"
("#N" left out: the first time). The names are in update.py, trial.py and
sebiao_boot.py.
"""

from sebiao_station.board import Board
from sebiao_station.clock import system_clock
from .bus import SimPin
from .ds18b20_sim import DS18B20Sim, OneWireLine, SimOneWire
from .iso14443 import Card


POWER_CUT_EXIT = 86


class HostBoard(Board):
    def __init__(self, fs_root, reader="mfrc522", clock=None, power_cut=None):
        import os
        self.power_cut = power_cut if power_cut is not None else os.environ.get("SEBIAO_POWER_CUT") or None
        self.passed = {}  # checkpoint name -> times reached
        self.clock = clock or system_clock()
        self.fs_root = fs_root
        try:
            os.mkdir(fs_root)
        except OSError:
            pass
        if reader == "pn532":
            from .pn532_sim import PN532Sim
            self.chip = PN532Sim()
        else:
            from .mfrc522_sim import MFRC522Sim
            self.chip = MFRC522Sim()
        self.field = self.chip.field
        self.cards = {}
        self.pins = {}
        self.probe = DS18B20Sim(clock=self.clock)
        self.probe_line = OneWireLine()
        self.probe_line.attach(self.probe)
        self.networks = None  # {ssid: password}: the Wi-Fi networks in reach; None: always joined
        self.joined = None  # the network joined, with networks

    # Wi-Fi (simulated only with `networks`: a new Wi-Fi set that does not connect, docs/fleet.md)

    def wifi_connect(self, ssid, password):
        if self.networks is not None:
            self.joined = ssid if self.networks.get(ssid) == password else None

    def wifi_connected(self):
        return self.networks is None or self.joined is not None

    # the simulated reader's field

    def place(self, uid, label=None):
        """A tag enters the field (an NTAG213, optionally holding a smart label)."""
        uid = uid.upper()
        card = self.cards.get(uid)
        if card is None:
            card = Card(uid)
            if label:
                from sebiao_station import provision
                data = provision.encode(label.get("tool", ""), label.get("kind", ""), label.get("color", ""))
                card.memory[16:16 + len(data)] = data
            self.cards[uid] = card
        self.field.place(card)
        return card

    def remove(self, uid):
        card = self.cards.get(uid.upper())
        if card is not None:
            self.field.remove(card)

    # Board

    def reader_bus(self, cfg):
        return self.chip.bus()

    def pin(self, number):
        p = SimPin(value=0)
        self.pins[number] = p
        return p

    def probe_bus(self, number):
        return SimOneWire(self.probe_line)

    def connect_tcp(self, host, port, timeout_ms):
        import socket
        if not self.wifi_connected():
            raise OSError(113)  # EHOSTUNREACH: no network
        s = socket.create_connection((host, port), timeout=timeout_ms / 1000)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def ntp_ms(self, host, timeout_ms, port=123):
        import time
        return int(time.time() * 1000)  # the host keeps its own clock in sync

    def random32(self):
        import random
        return random.SystemRandom().getrandbits(32)

    def checkpoint(self, name):
        self.passed[name] = self.passed.get(name, 0) + 1
        if self.power_cut is None:
            return
        want, _, nth = self.power_cut.partition("#")
        if name == want and self.passed[name] == int(nth or 1):
            import os
            os._exit(POWER_CUT_EXIT)
