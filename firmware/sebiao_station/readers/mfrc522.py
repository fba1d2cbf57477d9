"""Our own MFRC522 driver for ISO 14443-A tags (NTAG213/215), hardware SPI.

Why not an existing one: we need a multi-tag inventory (WUPA, anticollision,
SELECT, HLTA, REQA ... every cycle, so every tag resting on the rack answers
every cycle), the full cascade for 4/7/10-byte UIDs with collision resolution,
CRC from the chip's coprocessor, a transceive loop that is bounded twice (the
chip timer, and a poll count in case the chip itself is gone), and health
checks with re-init and a hard reset through RST.

Inventory (one poll cycle), ISO/IEC 14443-3:
  0. if the last cycle left cards HALTed (or half-selected), the RF field is
     switched off for 5 ms and on again (5 ms to power up): every card is IDLE.
     Why not WUPA alone: a card woken from HALT by WUPA is in READY*, and when
     another card is selected it falls back to HALT, where the REQA of step 4
     cannot reach it; only the first card would ever be found again;
  1. WUPA (after a reset, the same as REQA) wakes every card in the field;
  2. anticollision + SELECT single out one card (the others go back to IDLE);
     it is ACTIVE: `visit(uid)` may READ/WRITE it (the smart label);
  3. HLTA: it is HALTed and stays silent to REQA for the rest of the cycle;
  4. REQA wakes the IDLE cards only; go to 2 while something answers, up to
     `max_tags` cards. Silence ends the cycle; after a collision we ask twice,
     as a card still READY takes the first REQA as an unexpected frame and
     only goes back to IDLE.
A cycle with tags costs the 10 ms field reset, one select per tag, and one or
two 1 ms REQA timeouts; an empty reader costs one 1 ms WUPA timeout.
"""

from ..presence import SEEN, MISS, NOISE
from . import ReaderChip, ReaderError

COMMAND, COMIRQ, DIVIRQ, ERROR, STATUS2 = 0x01, 0x04, 0x05, 0x06, 0x08
FIFODATA, FIFOLEVEL, CONTROL, BITFRAMING, COLL = 0x09, 0x0A, 0x0C, 0x0D, 0x0E
MODE, TXMODE, RXMODE, TXCONTROL, TXASK = 0x11, 0x12, 0x13, 0x14, 0x15
CRCH, CRCL, RFCFG, TMODE, TPRESCALER, TRELOADH, TRELOADL, VERSION = 0x21, 0x22, 0x26, 0x2A, 0x2B, 0x2C, 0x2D, 0x37

IDLE, CALCCRC, TRANSCEIVE, SOFTRESET = 0x00, 0x03, 0x0C, 0x0F
KNOWN_VERSIONS = (0x91, 0x92, 0x88, 0x12)  # v1.0, v2.0, FM17522 clone, common clone

OK, TIMEOUT, COLLISION, RFERR, CHIPERR = 0, 1, 2, 3, 4

# 25 us timer ticks (13.56 MHz / (2*169+1)); a tag answers in < 1 ms
PRESCALER = 0xA9
TICKS_SHORT = 200  # 5 ms: anticollision, SELECT, READ
TICKS_REQ = 40  # 1 ms: REQA/WUPA (ATQA comes after ~86 us) and HLTA (silence = done, ISO: 1 ms)
REQA, WUPA = b"\x26", b"\x52"
FIELD_OFF_MS = 5  # ISO/IEC 14443-3 field reset (t_RESET) before a cycle
FIELD_ON_MS = 5  # cards power up and are ready for REQA within 5 ms
TICKS_WRITE = 800  # 20 ms: NTAG WRITE programs its EEPROM (~4 ms) before ACK


class MFRC522(ReaderChip):
    TYPE = "mfrc522"
    RESET_LOW_MS, RESET_HIGH_MS = 2, 50  # 50 ms: oscillator start-up

    def __init__(self, spi, cs, rst=None, clock=None, gain=4, max_polls=1000,
                 reinit_after=3, check_every=50):
        super().__init__(spi, cs, rst, clock, max_polls, reinit_after, ("truncated", "field_resets"))
        self.gain = gain
        self.check_every = check_every
        self._buf2 = bytearray(2)
        self._collided = False
        self._touched = False  # cards may be out of IDLE: reset the field first
        self._ticks = None
        self.uid = None
        self.sak = None

    # registers

    def _w(self, reg, value):
        self.cs.value(0)
        self.spi.write(bytes(((reg << 1) & 0x7E, value)))
        self.cs.value(1)

    def _r(self, reg):
        buf = self._buf2
        self.cs.value(0)
        self.spi.write_readinto(bytes((((reg << 1) & 0x7E) | 0x80, 0)), buf)
        self.cs.value(1)
        return buf[1]

    def _read_fifo(self, n):
        if n == 0:
            return b""
        addr = ((FIFODATA << 1) & 0x7E) | 0x80
        out = bytearray(n + 1)
        self.cs.value(0)
        self.spi.write_readinto(bytes([addr] * n + [0]), out)
        self.cs.value(1)
        return bytes(out[1:])

    def _write_fifo(self, data):
        self.cs.value(0)
        self.spi.write(bytes([(FIFODATA << 1) & 0x7E]) + bytes(data))
        self.cs.value(1)

    # set-up and health

    def init(self):
        self._w(COMMAND, SOFTRESET)
        for _ in range(self.max_polls):
            if not self._r(COMMAND) & 0x10:  # PowerDown cleared: reset done
                break
        self._w(TMODE, 0x80)  # TAuto: the timer starts when transmission ends
        self._w(TPRESCALER, PRESCALER)
        self._set_timer(TICKS_SHORT)
        self._w(TXASK, 0x40)  # 100 % ASK, as type A needs
        self._w(MODE, 0x3D)  # CRC preset 6363h (CRC_A)
        self._w(TXMODE, 0x00)
        self._w(RXMODE, 0x00)  # we check CRCs ourselves
        self._w(RFCFG, (self.gain & 0x07) << 4)
        self._w(TXCONTROL, self._r(TXCONTROL) | 0x03)  # antenna on
        self._active = False
        self.version = self._r(VERSION)
        self.healthy = self.version in KNOWN_VERSIONS and self._r(TXCONTROL) & 0x03 == 0x03
        return self.healthy

    def set_gain(self, gain):
        self.gain = gain
        self._w(RFCFG, (gain & 0x07) << 4)

    def check(self):
        """Version register, antenna and crypto bits; repairs what it can."""
        version = self._r(VERSION)
        if version not in KNOWN_VERSIONS:
            return False
        if self._r(TXCONTROL) & 0x03 != 0x03:
            self._w(TXCONTROL, self._r(TXCONTROL) | 0x03)
        if self._r(STATUS2) & 0x08:  # MFCrypto1On left set: we never authenticate
            self._w(STATUS2, self._r(STATUS2) & ~0x08 & 0xFF)
        return self._r(TXCONTROL) & 0x03 == 0x03

    # core exchange

    def _set_timer(self, ticks):
        if ticks != self._ticks:
            self._w(TRELOADH, ticks >> 8)
            self._w(TRELOADL, ticks & 0xFF)
            self._ticks = ticks

    def transceive(self, data, last_bits=0, rx_align=0, ticks=TICKS_SHORT):
        """(status, bytes, valid bits in the last byte, CollReg)."""
        self._set_timer(ticks)
        self._w(COMMAND, IDLE)
        self._w(COMIRQ, 0x7F)  # clear all interrupt bits
        self._w(FIFOLEVEL, 0x80)  # flush
        self._write_fifo(data)
        framing = (rx_align << 4) | last_bits
        self._w(BITFRAMING, framing)
        self._w(COMMAND, TRANSCEIVE)
        self._w(BITFRAMING, 0x80 | framing)  # StartSend
        irq = 0
        for _ in range(self.max_polls):
            irq = self._r(COMIRQ)
            if irq == 0xFF:  # MISO stuck high: no chip there
                break
            if irq & 0x30:  # RxIRq or IdleIRq
                break
            if irq & 0x01:  # TimerIRq: nobody answered
                self._w(COMMAND, IDLE)
                return TIMEOUT, b"", 0, 0
        else:
            irq = 0xFF
        self._w(BITFRAMING, framing)
        if irq == 0xFF:
            self._w(COMMAND, IDLE)
            return CHIPERR, b"", 0, 0
        err = self._r(ERROR)
        if err == 0xFF:
            return CHIPERR, b"", 0, 0
        n = self._r(FIFOLEVEL)
        back = self._read_fifo(min(n, 64))
        last = self._r(CONTROL) & 0x07
        self._w(COMMAND, IDLE)
        if err & 0x13:  # BufferOvfl, ParityErr, ProtocolErr
            return RFERR, back, last, 0
        if err & 0x08:  # CollErr
            return COLLISION, back, last, self._r(COLL)
        return OK, back, last, 0

    def crc(self, data):
        """CRC_A from the chip's coprocessor, as 2 bytes (low first)."""
        self._w(COMMAND, IDLE)
        self._w(DIVIRQ, 0x04)  # clear CRCIRq
        self._w(FIFOLEVEL, 0x80)
        self._write_fifo(data)
        self._w(COMMAND, CALCCRC)
        for _ in range(self.max_polls):
            if self._r(DIVIRQ) & 0x04:
                break
        else:
            raise ReaderError("CRC coprocessor did not finish")
        self._w(COMMAND, IDLE)
        return bytes((self._r(CRCL), self._r(CRCH)))

    def _with_crc(self, data):
        return bytes(data) + self.crc(data)

    def _crc_ok(self, data):
        return len(data) >= 3 and self.crc(data[:-2]) == bytes(data[-2:])

    # ISO 14443-3

    def wupa(self):
        return self.transceive(WUPA, last_bits=7, ticks=TICKS_REQ)

    def reqa(self):
        return self.transceive(REQA, last_bits=7, ticks=TICKS_REQ)

    def halt(self):
        # a silent tag means it obeyed; a READY tag (an unfinished select) takes
        # HLTA as an unexpected frame and goes back to IDLE/HALT
        self.transceive(self._with_crc(b"\x50\x00"), ticks=TICKS_REQ)
        self._active = False

    def _anticollision(self, sel):
        """The 5 bytes (CLn + BCC) of one cascade level, resolving collisions by
        taking the 1 branch. Returns (status, bytes)."""
        known = bytearray(5)
        known_bits = 0
        self._w(COLL, self._r(COLL) & 0x7F)  # ValuesAfterColl = 0
        for _ in range(33):
            nbytes = known_bits // 8
            extra = known_bits % 8
            nvb = ((2 + nbytes) << 4) | extra
            frame = bytes((sel, nvb)) + bytes(known[:nbytes + (1 if extra else 0)])
            status, back, last, coll = self.transceive(frame, last_bits=extra, rx_align=extra)
            if status in (TIMEOUT, RFERR, CHIPERR):
                return status, None
            if not back:
                return RFERR, None
            # merge: the first byte we got back shares its low `extra` bits with ours
            mask = (0xFF << extra) & 0xFF
            for i in range(len(back)):
                j = nbytes + i
                if j >= 5:
                    break
                if i == 0:
                    known[j] = (known[j] & ~mask & 0xFF) | (back[0] & mask)
                else:
                    known[j] = back[i]
            if status == OK:
                return OK, bytes(known)
            self._collided = True
            if coll & 0x20:  # CollPosNotValid
                return RFERR, None
            pos = coll & 0x1F or 32
            bit = nbytes * 8 + pos  # 1-based, counted from the start of CLn
            if bit <= known_bits or bit > 40:
                return RFERR, None
            byte_i = (bit - 1) // 8
            bit_i = (bit - 1) % 8
            known[byte_i] = (known[byte_i] & ((1 << bit_i) - 1)) | (1 << bit_i)
            for k in range(byte_i + 1, 5):
                known[k] = 0
            known_bits = bit
        return RFERR, None

    def select(self):
        """Anticollision and SELECT through the cascade levels: (status, uid bytes, sak)."""
        uid = bytearray()
        for sel in (0x93, 0x95, 0x97):
            status, cl = self._anticollision(sel)
            if status != OK:
                return status, None, None
            if cl[0] ^ cl[1] ^ cl[2] ^ cl[3] != cl[4]:
                return RFERR, None, None
            status, back, last, _ = self.transceive(self._with_crc(bytes((sel, 0x70)) + cl))
            if status != OK:
                return status, None, None
            if len(back) != 3 or not self._crc_ok(back):
                return RFERR, None, None
            sak = back[0]
            if sak & 0x04:  # UID not complete: the cascade tag comes first
                if cl[0] != 0x88:
                    return RFERR, None, None
                uid.extend(cl[1:4])
                continue
            uid.extend(cl[0:4])
            return OK, bytes(uid), sak
        return RFERR, None, None

    def field_reset(self):
        """RF off and on: every card in the field powers up IDLE."""
        tx = self._r(TXCONTROL)
        self._w(TXCONTROL, tx & 0xFC)
        self._sleep(FIELD_OFF_MS)
        self._w(TXCONTROL, tx | 0x03)
        self._sleep(FIELD_ON_MS)
        self._active = False
        self._touched = False
        self.stats["field_resets"] += 1

    def _checked(self):
        self.stats["polls"] += 1
        if self.check_every and self.stats["polls"] % self.check_every == 0:
            if not self.check():
                self._fault()
                return False
        return True

    def inventory(self, visit=None, max_tags=8):
        """One poll cycle over every tag in the field: (uids, clean).

        uids: the hex UIDs read validly, in the order found; `visit(uid)` is
        called for each while it is selected (it may read4/write_page; it
        handles ReaderError itself). clean: False if anything answered that
        could not be read (CRC/parity/collision error, a tag going quiet
        half-way), on a chip fault, or if more than `max_tags` tags answered:
        a tag missing from an unclean cycle may still be there."""
        if not self._checked():
            return [], False
        if self._touched or self._active:  # tags HALTed (or half-selected) by the last cycle
            self.field_reset()
        uids = []  # type: list
        first = True
        asked_again = False
        self._collided = False
        while True:
            status, atqa, _, _ = self.wupa() if first else self.reqa()
            first = False
            if status == TIMEOUT:
                if self._collided and not asked_again:
                    asked_again = True
                    continue
                self.faults = 0
                return uids, True
            asked_again = False
            if status == COLLISION:
                self._collided = True
            if status == CHIPERR:
                self._fault()
                return uids, False
            self._active = True  # something answered: rest it before the next WUPA
            self._touched = True
            if len(uids) >= max_tags:  # more tags than we follow
                self.stats["truncated"] += 1
                return uids, False
            if status == RFERR or (status == OK and len(atqa) != 2):
                self.stats["rf_errors"] += 1
                return uids, False
            # COLLISION on ATQA: several tags answered; anticollision picks one
            status, uid, sak = self.select()
            if status != OK:
                if status == CHIPERR:
                    self._fault()
                else:
                    self.stats["rf_errors"] += 1
                return uids, False
            self.faults = 0
            self.uid = uid
            self.sak = sak
            tag = "".join("%02X" % b for b in uid)
            if tag in uids:  # a HALTed tag answered REQA: its state was lost
                self.stats["rf_errors"] += 1
                return uids, False
            uids.append(tag)
            if visit is not None:
                visit(tag)
            self.halt()

    def poll(self):
        """One single-tag check: (SEEN, uid hex) | (MISS, None) | (NOISE, None).
        The selected tag stays ACTIVE for read4/write_page until the next poll.
        (The station uses inventory(); this serves tools and tests.)"""
        if not self._checked():
            return NOISE, None
        if self._active:
            self.halt()
        status, atqa, _, _ = self.wupa()
        if status == TIMEOUT:
            self.faults = 0
            return MISS, None
        if status == CHIPERR:
            self._fault()
            return NOISE, None
        if status == RFERR or (status == OK and len(atqa) != 2):
            self.stats["rf_errors"] += 1
            self._active = True
            return NOISE, None
        # Something answered: whatever happens next, put it to rest before the next
        # WUPA (HLTA sends READY tags to IDLE and ACTIVE ones to HALT; WUPA wakes both).
        self._active = True
        # COLLISION on ATQA: several tags answered; anticollision picks one
        status, uid, sak = self.select()
        if status == OK:
            self.faults = 0
            self.uid = uid
            self.sak = sak
            return SEEN, "".join("%02X" % b for b in uid)
        if status == CHIPERR:
            self._fault()
        elif status == TIMEOUT:
            # answered WUPA then went quiet: it is leaving or at the edge of the field
            self.stats["rf_errors"] += 1
        else:
            self.stats["rf_errors"] += 1
        return NOISE, None

    # NTAG

    def read4(self, page):
        status, back, _, _ = self.transceive(self._with_crc(bytes((0x30, page))))
        if status != OK or len(back) != 18 or not self._crc_ok(back):
            raise ReaderError("READ page %d failed (status %d, %d bytes)" % (page, status, len(back)))
        return back[:16]

    def write_page(self, page, data):
        if len(data) != 4:
            raise ValueError("a page is 4 bytes")
        status, back, last, _ = self.transceive(self._with_crc(bytes((0xA2, page)) + bytes(data)),
                                                ticks=TICKS_WRITE)
        if status != OK or len(back) != 1 or last != 4 or back[0] & 0x0F != 0x0A:
            raise ReaderError("WRITE page %d not acknowledged" % page)
