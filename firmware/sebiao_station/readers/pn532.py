"""PN532 over SPI: normal information frames with checksums, ACK frames, the
status byte handshake; InListPassiveTarget for presence, InDataExchange for
NTAG READ/WRITE. The PN532 clocks bits LSB first; we reverse them in software
so the bus can stay MSB first (any SPI peripheral works).

Between polls that found a tag we switch the RF field off and on: the tag
powers up IDLE and answers the next InListPassiveTarget, whatever the PN532
did to it before (no reliance on HLTA/WUPA details of the firmware).

Inventory: InListPassiveTarget with MaxTg = 2, the most the PN532 can hold
(user manual UM0701-02, 7.3.5): it activates one target, halts it, activates
a second, and keeps both; InDataExchange names the target (Tg 1 or 2) and the
PN532 re-activates it as needed. So a PN532 station follows at most 2 tags;
with a third in the field the same two are found each cycle (the anticollision
is deterministic) and the third is reported only when one of them leaves.
Use an MFRC522 for racks holding more than two tools per reader.
"""

from ..presence import SEEN, MISS, NOISE
from . import ReaderChip, ReaderError

DW, SR, DR = 0x01, 0x02, 0x03  # SPI: data write, status read, data read
ACK = b"\x00\x00\xff\x00\xff\x00"
HOST, CHIP = 0xD4, 0xD5
GET_FIRMWARE, SAM_CONFIG, RF_CONFIG = 0x02, 0x14, 0x32
IN_DATA_EXCHANGE, IN_LIST, IN_RELEASE = 0x40, 0x4A, 0x52
RF_ERRORS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x13, 0x14, 0x23)  # timeout, CRC, parity, ...



def _reverse(b):
    r = 0
    for _ in range(8):
        r = (r << 1) | (b & 1)
        b >>= 1
    return r


_REV = bytes(_reverse(i) for i in range(256))


def rev(data):
    return bytes(_REV[b] for b in data)


def frame(data):
    """Normal information frame around TFI+PD bytes."""
    n = len(data)
    return (b"\x00\x00\xff" + bytes(((n) & 0xFF, (-n) & 0xFF)) + bytes(data)
            + bytes(((-sum(data)) & 0xFF, 0x00)))


def unframe(raw):
    """The TFI+PD bytes of the first frame in raw; raises ReaderError on a bad frame."""
    i = bytes(raw).find(b"\x00\xff")
    if i < 0 or i + 4 > len(raw):
        raise ReaderError("no frame start")
    n, lcs = raw[i + 2], raw[i + 3]
    if (n + lcs) & 0xFF:
        raise ReaderError("length checksum")
    body = bytes(raw[i + 4:i + 4 + n])
    if len(body) != n or i + 5 + n > len(raw) or (sum(body) + raw[i + 4 + n]) & 0xFF:
        raise ReaderError("data checksum")
    return body


def parse_targets(got):
    """[(Tg, uid hex)] from an InListPassiveTarget answer (106 kbps type A), or
    None if it is malformed. Each target: Tg, SENS_RES(2), SEL_RES, NFCIDLength,
    NFCID1, and an ATS (length byte first) when SEL_RES says ISO 14443-4."""
    out = []
    i = 1
    for _ in range(got[0]):
        if i + 5 > len(got):
            return None
        n = got[i + 4]
        if n not in (4, 7, 10) or i + 5 + n > len(got):
            return None
        out.append((got[i], "".join("%02X" % b for b in got[i + 5:i + 5 + n])))
        sak = got[i + 3]
        i += 5 + n
        if sak & 0x20 and i < len(got):
            i += got[i]
    return out


class PN532(ReaderChip):
    TYPE = "pn532"
    RESET_LOW_MS, RESET_HIGH_MS = 10, 20

    def __init__(self, spi, cs, rst=None, clock=None, max_polls=200, reinit_after=3):
        super().__init__(spi, cs, rst, clock, max_polls, reinit_after)
        self._tg = 1  # the target InDataExchange talks to

    def _xfer(self, out, nread=0):
        self.cs.value(0)
        self._sleep(1)  # the PN532 wants ~1 ms after CS before the first clock
        self.spi.write(rev(out))
        back = b""
        if nread:
            back = rev(self.spi.read(nread))
        self.cs.value(1)
        return back

    def _ready(self):
        for _ in range(self.max_polls):
            if self._xfer(bytes((SR,)), 1)[0] & 0x01:
                return True
            self._sleep(1)
        return False

    def command(self, cmd, params=b"", nread=32):
        """Send a command, check the ACK, return the response's data after D5 cmd+1."""
        self._xfer(bytes((DW,)) + frame(bytes((HOST, cmd)) + bytes(params)))
        if not self._ready():
            raise ReaderError("no ACK (PN532 not ready)")
        if self._xfer(bytes((DR,)), 6) != ACK:
            raise ReaderError("bad ACK")
        if not self._ready():
            raise ReaderError("no response")
        body = unframe(self._xfer(bytes((DR,)), nread))
        if len(body) < 2 or body[0] != CHIP or body[1] != cmd + 1:
            raise ReaderError("unexpected response %r" % (body[:2],))
        return body[2:]

    def init(self):
        try:
            fw = self.command(GET_FIRMWARE)
            self.version = fw[0] if fw else 0
            self.command(SAM_CONFIG, b"\x01\x14\x00")  # normal mode, no IRQ pin
            # MxRtyATR, MxRtyPSL, MxRtyPassiveActivation=1: a poll returns at once if empty
            self.command(RF_CONFIG, b"\x05\xff\x01\x01")
            self.healthy = self.version == 0x32
        except ReaderError:
            self.healthy = False
        self._active = False
        return self.healthy

    def set_gain(self, gain):
        pass  # the PN532's RF settings stay at their defaults

    def poll(self):
        self.stats["polls"] += 1
        try:
            if self._active:
                self.command(RF_CONFIG, b"\x01\x00")  # field off ...
                self.command(RF_CONFIG, b"\x01\x01")  # ... and on: the tag restarts IDLE
                self._active = False
            got = self.command(IN_LIST, b"\x01\x00")  # one target, 106 kbps type A
        except ReaderError:
            self._fault()
            return NOISE, None
        self.faults = 0
        if not got or got[0] == 0:
            return MISS, None
        # Tg, SENS_RES(2), SEL_RES, NFCIDLength, NFCID1
        if len(got) < 6 or len(got) < 6 + got[5] or got[5] not in (4, 7, 10):
            self.stats["rf_errors"] += 1
            return NOISE, None
        self._active = True
        return SEEN, "".join("%02X" % b for b in got[6:6 + got[5]])

    def inventory(self, visit=None, max_tags=2):
        """One poll cycle: (uids, clean), as MFRC522.inventory, for up to 2 tags."""
        self.stats["polls"] += 1
        max_tg = 2 if max_tags >= 2 else 1
        try:
            if self._active:
                self.command(RF_CONFIG, b"\x01\x00")  # field off ...
                self.command(RF_CONFIG, b"\x01\x01")  # ... and on: every tag restarts IDLE
                self._active = False
            got = self.command(IN_LIST, bytes((max_tg, 0x00)), 48)
        except ReaderError:
            self._fault()
            return [], False
        self.faults = 0
        if not got or got[0] == 0:
            return [], True
        self._active = True
        targets = parse_targets(got)
        if targets is None:
            self.stats["rf_errors"] += 1
            return [], False
        uids = []  # type: list
        for tg, tag in targets:
            uids.append(tag)
            if visit is not None:
                self._tg = tg
                visit(tag)
        self._tg = 1
        # Clean even with two found: a third tag is never seen while those two
        # stay, so it cannot flap; calling the cycle unclean would stop a tag
        # that left from ever being reported removed.
        return uids, True

    def _exchange(self, data, nread=40):
        try:
            got = self.command(IN_DATA_EXCHANGE, bytes((self._tg,)) + bytes(data), nread)
        except ReaderError as exc:
            self._fault()
            raise exc
        if not got or got[0] & 0x3F:
            self.stats["rf_errors"] += 1
            raise ReaderError("tag error 0x%02X" % (got[0] if got else 0xFF))
        return got[1:]

    def read4(self, page):
        back = self._exchange(bytes((0x30, page)))
        if len(back) != 16:
            raise ReaderError("READ page %d: %d bytes" % (page, len(back)))
        return back

    def write_page(self, page, data):
        if len(data) != 4:
            raise ValueError("a page is 4 bytes")
        self._exchange(bytes((0xA2, page)) + bytes(data))
