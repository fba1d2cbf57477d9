"""A stand-in for MicroPython's `machine` on the ESP32, recording what is done."""

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
CAUSE = [WDT_RESET]
LOG = []


class Pin:
    OUT = 1
    IN = 0

    def __init__(self, number, mode=None, value=None):
        self.number = number
        self._v = value or 0
        LOG.append(("pin", number, mode, value))

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = v


class SPI:
    def __init__(self, bus, **kw):
        self.bus = bus
        self.kw = kw
        LOG.append(("spi", bus, kw.get("baudrate"), kw["sck"].number, kw["mosi"].number, kw["miso"].number))

    # nothing on the bus: MISO reads 0
    def write(self, buf):
        pass

    def read(self, n, write=0):
        return bytes(n)

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            buf[i] = 0

    def write_readinto(self, out, into):
        self.readinto(into)


class WDT:
    def __init__(self, timeout):
        self.timeout = timeout
        self.fed = 0
        LOG.append(("wdt", timeout))

    def feed(self):
        self.fed += 1


def reset_cause():
    return CAUSE[0]


def reset():
    LOG.append(("reset",))
