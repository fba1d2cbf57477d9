"""A PN532 at frame level over SPI (LSB first on the wire), driving the same
simulated cards: it answers status reads, ACKs every well-formed frame, and
runs InListPassiveTarget (WUPA, anticollision, SELECT; with MaxTg = 2 it
halts the first target and activates a second with REQA, as the PN532 keeps up
to two), InDataExchange to target 1 or 2 (CRC added and checked as the PN532
does; switching targets halts the active one and re-selects the other by its
UID after WUPA), RFConfiguration (field on/off), SAMConfiguration,
GetFirmwareVersion. Bad checksums get no ACK."""

from .iso14443 import Field, SEL, bcc, to_bits, from_bits, with_crc, crc_ok, uid_levels



def _reverse(b):
    r = 0
    for _ in range(8):
        r = (r << 1) | (b & 1)
        b >>= 1
    return r


_REV = bytes(_reverse(i) for i in range(256))


def _frame(data):
    n = len(data)
    return b"\x00\x00\xff" + bytes((n, (-n) & 0xFF)) + bytes(data) + bytes(((-sum(data)) & 0xFF, 0))


class PN532Sim:
    def __init__(self, field=None):
        self.field = field if field is not None else Field()
        self.field.set_on(True)
        self.selected = False
        self.rx = bytearray()
        self.out = []  # frames waiting to be read
        self.reading = None
        self.mode = None
        self.target = None
        self.targets = []  # uids the PN532 holds as Tg 1, 2
        self.commands = []
        self.silent = False  # a dead chip: never ready

    def cs(self, level):
        if level == 0:
            self.selected = True
            self.mode = None
            self.rx = bytearray()
        else:
            if self.selected and self.mode == 0x01:
                self._command(bytes(self.rx))
            if self.selected and self.mode == 0x03 and self.out:
                self.out.pop(0)
            self.selected = False

    def rst(self, level):
        if level:
            self.out = []
            self.silent = False
            self.field.set_on(True)

    def xfer(self, wire):
        b = _REV[wire]
        if not self.selected or self.silent:
            return 0
        if self.mode is None:
            self.mode = b
            self.pos = 0
            return 0
        if self.mode == 0x01:
            self.rx.append(b)
            return 0
        if self.mode == 0x02:
            return _REV[0x01 if self.out else 0x00]
        if self.mode == 0x03:
            data = self.out[0] if self.out else b""
            v = data[self.pos] if self.pos < len(data) else 0
            self.pos += 1
            return _REV[v]
        return 0

    def _command(self, raw):
        i = raw.find(b"\x00\xff")
        if i < 0 or i + 4 > len(raw):
            return
        n, lcs = raw[i + 2], raw[i + 3]
        body = raw[i + 4:i + 4 + n]
        if (n + lcs) & 0xFF or len(body) != n or i + 5 + n > len(raw) or (sum(body) + raw[i + 4 + n]) & 0xFF:
            return  # no ACK: the host will time out and retry
        if n < 2 or body[0] != 0xD4:
            return
        self.out.append(b"\x00\x00\xff\x00\xff\x00")
        cmd, params = body[1], body[2:]
        self.commands.append(cmd)
        resp = self._run(cmd, params)
        self.out.append(_frame(bytes((0xD5, cmd + 1)) + resp))

    def _exchange(self, data, nbits=None):
        bits = to_bits(data, nbits)
        answer, coll, parity = self.field.exchange(bits)
        return answer, coll, parity

    def _halt_target(self):
        if self.target is not None:
            self._exchange(with_crc(b"\x50\x00"))
            self.target = None

    def _reselect(self, uid):
        """WUPA, then SELECT by the known UID through its cascade levels."""
        if self._exchange(b"\x52", 7)[0] is None:
            return False
        for level, cl in enumerate(uid_levels(uid)):
            answer, coll, parity = self._exchange(with_crc(bytes((SEL[level], 0x70)) + cl + bytes((bcc(cl),))))
            if answer is None or coll is not None:
                return False
        self.target = uid
        return True

    def _activate(self, req=b"\x52"):
        """WUPA/REQA, anticollision (on a collision we take the 1 branch), SELECT."""
        answer, coll, parity = self._exchange(req, 7)
        if answer is None:
            return None
        atqa = from_bits(answer)
        uid = bytearray()
        for level in range(3):
            known = []  # type: list
            while True:
                n = len(known)
                nvb = ((2 + n // 8) << 4) | (n % 8)
                frame_bits = to_bits(bytes((SEL[level], nvb))) + known
                answer, coll, parity = self.field.exchange(frame_bits)
                if answer is None:
                    return None
                if coll is None:
                    known = known + answer
                    break
                known = known + answer[:coll] + [1]
            cl = from_bits(known)
            answer, coll, parity = self._exchange(with_crc(bytes((SEL[level], 0x70)) + cl))
            if answer is None or coll is not None:
                return None
            sak = from_bits(answer)
            if sak[0] & 0x04:
                uid.extend(cl[1:4])
                continue
            uid.extend(cl[0:4])
            return atqa, sak[0], bytes(uid)
        return None

    def _run(self, cmd, params):
        if cmd == 0x02:
            return b"\x32\x01\x06\x07"
        if cmd == 0x14:
            return b""
        if cmd == 0x32:
            if params[:1] == b"\x01":
                self.field.set_on(bool(params[1] & 0x01))
                if not params[1] & 0x01:
                    self.target = None
                    self.targets = []
            return b""
        if cmd == 0x4A:
            self.target = None
            self.targets = []
            out = b""
            for n in range(min(max(params[0], 1), 2)):
                if n:
                    self._halt_target()
                got = self._activate(b"\x26" if n else b"\x52")
                if got is None:
                    break
                atqa, sak, uid = got
                self.target = uid
                self.targets.append(uid)
                out += bytes((n + 1, atqa[1], atqa[0], sak, len(uid))) + uid
            return bytes((len(self.targets),)) + out
        if cmd == 0x40:
            tg = params[0] if params else 0
            if not 1 <= tg <= len(self.targets):
                return b"\x27"  # not a valid target
            if self.target != self.targets[tg - 1]:
                self._halt_target()
                if not self._reselect(self.targets[tg - 1]):
                    return b"\x01"  # timeout: it left
            answer, coll, parity = self._exchange(with_crc(params[1:]))
            if answer is None:
                return b"\x01"  # timeout
            if parity:
                return b"\x03"
            if len(answer) == 4:  # 4-bit ACK/NAK
                return b"\x00" if from_bits(answer)[0] == 0x0A else b"\x14"
            data = from_bits(answer)
            if not crc_ok(data):
                return b"\x02"
            return b"\x00" + data[:-2]
        if cmd == 0x52:
            self.target = None
            self.targets = []
            return b"\x00"
        return b"\x7f"

    def bus(self):
        from .bus import SimSPI, SimPin
        return SimSPI(self), SimPin(self.cs), SimPin(self.rst)
