"""Reader drivers. Each takes the SPI bus and pins as arguments and offers:

    init() -> bool            configure; False if the chip does not answer right
    poll() -> (kind, uid)     one presence check (kind from presence.py)
    read4(page) -> bytes      NTAG READ: 16 bytes (4 pages) of the selected tag
    write_page(page, data)    NTAG WRITE: one 4-byte page
    health() -> dict          for the status heartbeat
    healthy                   False after repeated chip faults that resets did not cure
"""


class ReaderError(Exception):
    pass


class ReaderChip:
    """What both drivers share: the reset pin, counting chip faults until a
    re-init, and the health report. A driver sets TYPE and the reset pulse."""

    TYPE = ""
    RESET_LOW_MS, RESET_HIGH_MS = 10, 20  # RST held low, then time to start

    def __init__(self, spi, cs, rst, clock, max_polls, reinit_after, more_stats=()):
        self.spi = spi
        self.cs = cs
        self.rst = rst
        self.clock = clock
        self.max_polls = max_polls
        self.reinit_after = reinit_after
        self.faults = 0  # consecutive chip faults
        self.stats = {"polls": 0, "rf_errors": 0, "chip_faults": 0, "reinits": 0, "hard_resets": 0}
        for name in more_stats:
            self.stats[name] = 0
        self.version = 0
        self.healthy = False
        self._active = False
        cs.value(1)

    def init(self):
        raise NotImplementedError

    def _sleep(self, ms):
        if self.clock is not None:
            self.clock.sleep_ms(ms)

    def hard_reset(self):
        if self.rst is None:
            return False
        self.rst.value(0)
        self._sleep(self.RESET_LOW_MS)
        self.rst.value(1)
        self._sleep(self.RESET_HIGH_MS)
        self.stats["hard_resets"] += 1
        return True

    def _fault(self):
        self.faults += 1
        self.stats["chip_faults"] += 1
        if self.faults >= self.reinit_after:
            self.recover()

    def recover(self):
        """Soft re-init; if the chip still does not answer right, pull RST."""
        self.stats["reinits"] += 1
        if not self.init() and self.hard_reset():
            self.init()
        if self.healthy:
            self.faults = 0
        return self.healthy

    def health(self):
        h = {"type": self.TYPE, "ok": self.healthy, "version": self.version}
        for k in self.stats:
            h[k] = self.stats[k]
        return h


def make_reader(cfg, spi, cs, rst, clock):
    kind = cfg["reader"]["type"]
    if kind == "pn532":
        from .pn532 import PN532
        return PN532(spi, cs, rst=rst, clock=clock)
    from .mfrc522 import MFRC522
    return MFRC522(spi, cs, rst=rst, clock=clock, gain=cfg["reader"]["gain"])
