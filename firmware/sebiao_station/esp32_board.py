"""The Board of a real ESP32 (MicroPython): machine.SPI/Pin/WDT, network.WLAN,
socket, LittleFS at the flash root. See board.py for the interface."""

import gc
import os
import socket

import machine
import network

from . import sntp
from .board import Board
from .clock import system_clock


def _reset_causes():
    names = (("PWRON_RESET", "power_on"), ("HARD_RESET", "hard"), ("WDT_RESET", "watchdog"),
             ("DEEPSLEEP_RESET", "deepsleep"), ("SOFT_RESET", "soft"))
    out = {}
    for attr, name in names:
        if hasattr(machine, attr):
            out[getattr(machine, attr)] = name
    return out


class Esp32Board(Board):
    fs_root = ""

    def __init__(self):
        self.clock = system_clock()
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self.joining = None  # the (ssid, password) last asked for

    def reader_bus(self, cfg):
        p = cfg["pins"]
        r = cfg["reader"]
        spi = machine.SPI(r["spi_id"], baudrate=r["baudrate"], polarity=0, phase=0,
                          sck=machine.Pin(p["spi_sck"]), mosi=machine.Pin(p["spi_mosi"]),
                          miso=machine.Pin(p["spi_miso"]))
        cs = machine.Pin(p["reader_cs"], machine.Pin.OUT, value=1)
        rst = machine.Pin(p["reader_rst"], machine.Pin.OUT, value=1)
        return spi, cs, rst

    def pin(self, number):
        return machine.Pin(number, machine.Pin.OUT, value=0)

    def probe_bus(self, number):
        import onewire  # MicroPython's driver: open drain, bit timing in C (_onewire)
        return onewire.OneWire(machine.Pin(number))

    def wifi_connect(self, ssid, password):
        if self.joining is not None and self.joining != (ssid, password):
            try:  # another network (secrets.py): leave the one joined, or being joined, first
                self.wlan.disconnect()
            except OSError:
                pass
        self.joining = (ssid, password)
        try:
            self.wlan.connect(ssid, password)  # returns at once; isconnected() tells
        except OSError:
            pass

    def wifi_connected(self):
        return self.wlan.isconnected()

    def rssi(self):
        try:
            return self.wlan.status("rssi")
        except (OSError, ValueError, TypeError):
            return None

    def connect_tcp(self, host, port, timeout_ms):
        addr = socket.getaddrinfo(host, port)[0][-1]  # use an IP address: DNS has no timeout
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        try:
            s.connect(addr)
        except OSError:
            s.close()
            raise
        return s

    def ntp_ms(self, host, timeout_ms, port=123):
        return sntp.query(socket, host, timeout_ms, port)

    def watchdog(self, timeout_ms):
        return machine.WDT(timeout=timeout_ms)

    def reset_cause(self):
        return _reset_causes().get(machine.reset_cause(), "unknown")

    def free_heap(self):
        gc.collect()
        return gc.mem_free()

    def random32(self):
        if hasattr(os, "urandom"):  # the ESP32's hardware RNG
            return int.from_bytes(os.urandom(4), "big")
        return Board.random32(self)

    def reset(self):
        machine.reset()


def main(path="config.json"):
    """Boot entry (main.py): load the config, start the station, run forever."""
    from . import config
    from .app import Station
    board = Esp32Board()
    try:
        cfg = config.load(path)
    except config.ConfigError as exc:
        print("sebiao: config error:", str(exc))
        red = board.pin(config.get(config.DEFAULTS, "pins.led_red"))
        while True:  # no watchdog yet: blink until someone fixes the file
            red.value(1 - red.value())
            board.clock.sleep_ms(250)
    station = Station(board, cfg)
    station.start()
    serial = _serial_console(station)
    while True:
        station.step()
        serial()
        station.idle()  # up to LOOP_MS (50 ms), less when a command comes in


def _serial_console(station):
    """`sebiao label write` over USB: lines from stdin without blocking the loop (serial_cmd.py)."""
    import select
    import sys
    from .serial_cmd import SerialConsole

    console = SerialConsole(station, sys.stdout.write)
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    pending = []  # type: list

    def step():
        while poller.poll(0):
            ch = sys.stdin.read(1)
            if ch in ("\n", "\r"):
                if pending:
                    console.line("".join(pending))
                    del pending[:]
            elif len(pending) < 128:
                pending.append(ch)
        console.step()

    return step
