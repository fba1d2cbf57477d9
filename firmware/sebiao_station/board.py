"""The hardware the application sees. An ESP32 (esp32_board.py), the host
(sebiao_sim/host.py) and the tests each provide one. A Board has:

    clock                       clock.Clock
    fs_root                     where config.json and buf/ live ("" = flash root)
    reader_bus(cfg)             (spi, cs_pin, rst_pin) of the reader
    pin(number)                 an output pin (value(v))
    probe_bus(pin)              the 1-Wire bus of a temperature probe, shaped like
                                MicroPython's onewire.OneWire (only with "probe")
    wifi_connect(ssid, pw)      start joining; must not block
    wifi_connected()            bool
    rssi()                      dBm or None
    connect_tcp(host, port, timeout_ms)
                                a connected socket with settimeout, sendall,
                                recv, close (raises OSError)
    ntp_ms(host, timeout_ms, port)  epoch ms from (S)NTP, or 0
    watchdog(timeout_ms)        an object with feed()
    reset_cause()               "power_on", "watchdog", "hard", "soft", ...
    free_heap()                 bytes or None
    random32()                  a random 32-bit int (the boot id)
    reset()                     restart the device
    checkpoint(name)            a step of an update was done (power-cut tests; a no-op on a device)
"""


try:
    from typing import Any  # noqa: F401  (type comments only; MicroPython has no typing)
except ImportError:
    pass


class NoWatchdog:
    def feed(self):
        pass


class Board:
    """Defaults for what a host or test board may leave out."""

    fs_root = "."
    clock = None  # type: Any  # a clock.Clock, set by each board


    def wifi_connect(self, ssid, password):
        pass

    def wifi_connected(self):
        return True

    def rssi(self):
        return None

    def ntp_ms(self, host, timeout_ms, port=123):
        return 0

    def watchdog(self, timeout_ms):
        return NoWatchdog()

    def reset_cause(self):
        return "power_on"

    def free_heap(self):
        try:
            import gc
            return gc.mem_free()
        except (ImportError, AttributeError):
            return None

    def random32(self):
        import random
        return random.getrandbits(32)

    def reset(self):
        raise SystemExit("reset")

    def checkpoint(self, name):
        pass
