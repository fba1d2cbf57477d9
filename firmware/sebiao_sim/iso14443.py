"""ISO/IEC 14443-3 type A cards (NTAG213/215 and plain 4/7/10-byte UIDs) as
state machines: IDLE -> READY(level) -> ACTIVE, HALT; REQA/WUPA, anticollision
and SELECT per cascade level, NTAG READ/WRITE, HLTA. Frames are bit strings so
that short frames, partial anticollision frames and collisions are exact.

Several cards share a Field. The state rules that multi-tag inventory rests on:
REQA (26h) wakes IDLE cards only, WUPA (52h) wakes IDLE and HALT cards; a READY
card whose UID does not match a partial anticollision frame stays READY and
silent; a SELECT naming another card's UID sends a READY card back to IDLE (or
HALT, if WUPA woke it from HALT); HLTA puts the ACTIVE card in HALT, where only
WUPA or leaving the field (power off) wakes it; any unexpected frame sends a
READY/ACTIVE card back to IDLE/HALT."""

IDLE = 0
READY = 1
ACTIVE = 2
HALT = 3

SEL = (0x93, 0x95, 0x97)
CT = 0x88
NTAG_PAGES = {"ntag213": 45, "ntag215": 135, "plain": 0}
NTAG_CC = {"ntag213": b"\xe1\x10\x12\x00", "ntag215": b"\xe1\x10\x3e\x00"}


def crc_a(data, preset=0x6363):
    """ISO/IEC 14443-3 CRC_A (as the MFRC522 coprocessor computes with preset 6363h)."""
    crc = preset
    for b in data:
        b ^= crc & 0xFF
        b = (b ^ (b << 4)) & 0xFF
        crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xFFFF
    return crc


def with_crc(data):
    c = crc_a(data)
    return bytes(data) + bytes([c & 0xFF, c >> 8])


def crc_ok(data):
    return len(data) >= 3 and crc_a(data[:-2]) == (data[-2] | data[-1] << 8)


def to_bits(data, nbits=None):
    """bytes -> list of bits, LSB first in each byte (air order)."""
    out = []
    for b in data:
        for i in range(8):
            out.append((b >> i) & 1)
    if nbits is not None:
        out = out[:nbits]
    return out


def from_bits(bits):
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i >> 3] |= 1 << (i & 7)
    return bytes(out)


def uid_levels(uid):
    """The 4-byte cascade-level contents (with CT) of a 4, 7 or 10-byte UID."""
    if len(uid) == 4:
        return [uid]
    if len(uid) == 7:
        return [bytes([CT]) + uid[0:3], uid[3:7]]
    if len(uid) == 10:
        return [bytes([CT]) + uid[0:3], bytes([CT]) + uid[3:6], uid[6:10]]
    raise ValueError("a UID has 4, 7 or 10 bytes")


def bcc(four):
    return four[0] ^ four[1] ^ four[2] ^ four[3]


class Card:
    def __init__(self, uid, kind="ntag213", sak=None, memory=None):
        if isinstance(uid, str):
            uid = bytes(int(uid[i:i + 2], 16) for i in range(0, len(uid), 2))
        self.uid = bytes(uid)
        self.kind = kind
        self.levels = uid_levels(self.uid)
        self.atqa = bytes([{4: 0x04, 7: 0x44, 10: 0x84}[len(self.uid)], 0x00])
        self.final_sak = (0x00 if kind in NTAG_PAGES and kind != "plain" else 0x08) if sak is None else sak
        self.state = IDLE
        self.level = 0
        self.halted = False
        n = NTAG_PAGES.get(kind, 0)
        self.memory = bytearray(n * 4)
        if n:
            self._factory_pages()
        if memory:
            self.memory[16:16 + len(memory)] = memory
        self.writes = 0

    def hex(self):
        return "".join("%02X" % b for b in self.uid)

    def _factory_pages(self):
        u = self.uid + bytes(10)
        if len(self.uid) == 7:  # NTAG: UID0-2 BCC0 | UID3-6 | BCC1 ...
            self.memory[0:3] = u[0:3]
            self.memory[3] = CT ^ u[0] ^ u[1] ^ u[2]
            self.memory[4:8] = u[3:7]
            self.memory[8] = u[3] ^ u[4] ^ u[5] ^ u[6]
        self.memory[12:16] = NTAG_CC.get(self.kind, b"\0\0\0\0")
        self.memory[16:20] = b"\x03\x00\xfe\x00"  # empty NDEF message

    def power_off(self):
        self.state = IDLE
        self.halted = False

    # one frame in (as bits), the answer out (as bits) or None for silence
    def receive(self, bits):
        nbits = len(bits)
        data = from_bits(bits)
        if nbits == 7:
            cmd = data[0]
            if cmd == 0x26 and self.state == IDLE or cmd == 0x52 and self.state in (IDLE, HALT):
                self.halted = self.state == HALT
                self.state = READY
                self.level = 0
                return to_bits(self.atqa)
            if self.state in (READY, ACTIVE):
                self._back()
            return None
        if self.state == READY:
            return self._ready(bits, data)
        if self.state == ACTIVE:
            return self._active(data)
        return None

    def _back(self):
        self.state = HALT if self.halted else IDLE

    def _ready(self, bits, data):
        if len(data) < 2 or data[0] != SEL[self.level]:
            self._back()
            return None
        nvb = data[1]
        cl = self.levels[self.level]
        full = cl + bytes([bcc(cl)])
        if nvb == 0x70 and len(bits) == 72:  # SELECT
            if not crc_ok(data) or data[2:7] != full:
                # a bad frame, or another card's UID: back to IDLE (HALT if woken
                # from HALT), silent; as NXP's datasheets put it, the unselected
                # cards return to IDLE and wait for the next REQA
                self._back()
                return None
            if self.level + 1 < len(self.levels):
                self.level += 1
                return to_bits(with_crc(bytes([0x04])))
            self.state = ACTIVE
            return to_bits(with_crc(bytes([self.final_sak])))
        known = ((nvb >> 4) - 2) * 8 + (nvb & 0x0F)
        if known < 0 or known > 32 or len(bits) != 16 + known:
            self._back()
            return None
        mine = to_bits(full)
        if bits[16:] != mine[:known]:
            return None  # not us: stay quiet, stay READY
        return mine[known:]

    def _active(self, data):
        if not crc_ok(data):
            self._back()
            return None
        cmd = data[0]
        if cmd == 0x50 and len(data) == 4:  # HLTA
            self.state = HALT
            self.halted = True
            return None
        pages = len(self.memory) // 4
        if cmd == 0x30 and len(data) == 4 and pages:  # READ: 4 pages, rolling over
            page = data[1]
            if page >= pages:
                self._back()
                return [0, 0, 0, 0]  # NAK
            out = bytearray()
            for i in range(4):
                p = (page + i) % pages
                out.extend(self.memory[p * 4:p * 4 + 4])
            return to_bits(with_crc(out))
        if cmd == 0xA2 and len(data) == 8 and pages:  # WRITE one page
            page = data[1]
            if page < 4 or page >= pages - 5:  # UID/lock/CC and config pages are not ours
                self._back()
                return [0, 0, 0, 0]
            self.memory[page * 4:page * 4 + 4] = data[2:6]
            self.writes += 1
            return [0, 1, 0, 1]  # ACK = 0xA, 4 bits
        self._back()
        return [0, 0, 0, 0]


class Field:
    """The RF field of one reader and the cards in it. An answer from several
    cards at once is merged bit by bit; differing bits are collisions."""

    def __init__(self):
        self.cards = []
        self.on = True
        self.noise = 0  # the next n answers come back corrupted (parity error)
        self.crc_noise = 0  # the next n answers come back with one bit flipped

    def place(self, card):
        card.power_off()
        if card not in self.cards:
            self.cards.append(card)
        return card

    def remove(self, card):
        if card in self.cards:
            self.cards.remove(card)
        card.power_off()

    def set_on(self, on):
        if not on:
            for c in self.cards:
                c.power_off()
        self.on = on

    def exchange(self, bits):
        """(answer bits or None, first collision index or None, parity error)."""
        if not self.on:
            return None, None, False
        answers = []
        for card in self.cards:
            a = card.receive(bits)
            if a is not None:
                answers.append(a)
        if not answers:
            return None, None, False
        n = max(len(a) for a in answers)
        merged = []
        coll = None
        for i in range(n):
            vals = set(a[i] for a in answers if i < len(a))
            if len(vals) > 1 or len(vals) == 1 and any(i >= len(a) for a in answers):
                if coll is None:
                    coll = i
                merged.append(1)
            else:
                merged.append(vals.pop())
        parity = False
        if self.noise:
            self.noise -= 1
            parity = True
        elif self.crc_noise and len(merged) > 16:
            self.crc_noise -= 1
            merged[len(merged) // 2] ^= 1
        return merged, coll, parity
