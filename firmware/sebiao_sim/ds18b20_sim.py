"""A DS18B20 temperature probe on a simulated 1-Wire line, at the level of
reset pulses and time slots: the chip answers ROM commands (READ ROM 0x33,
MATCH ROM 0x55, SKIP ROM 0xCC, SEARCH ROM 0xF0) and function commands (CONVERT
T 0x44, READ SCRATCHPAD 0xBE, WRITE SCRATCHPAD 0x4E, COPY 0x48, RECALL 0xB8,
READ POWER SUPPLY 0xB4) bit by bit, as the data sheet (Maxim 19-7487) says.

    line = OneWireLine()
    probe = DS18B20Sim(clock=board.clock); line.attach(probe)
    ow = SimOneWire(line)            # the shape of MicroPython's onewire.OneWire
    probe.temp_c = 82.5

The scratchpad holds 85 °C from power-on until the first conversion ends (as
the chip does); a conversion takes 750 ms of the clock at 12 bits (93.75 ms at
9). Faults: `present = False` (no presence pulse, silent line), `crc_error`
(a data bit flipped on the wire, CRC byte unchanged), `stuck_85` (conversions
never update the scratchpad: the chip browning out at the start of each).
"""

from sebiao_station.ds18b20 import crc8  # the chip's CRC-8 is the driver's (checked against Maxim's AN27)

ROM_FAMILY = 0x28
_CONV_MS = {0: 94, 1: 188, 2: 375, 3: 750}  # by the config register's R1 R0


def make_rom(serial):
    """A ROM code: family 0x28, a 48-bit serial (LSB first), CRC."""
    body = bytes([ROM_FAMILY]) + bytes((serial >> (8 * i)) & 0xFF for i in range(6))
    return body + bytes([crc8(body)])


def _bits(data):
    out = []
    for byte in data:
        for i in range(8):
            out.append((byte >> i) & 1)
    return out


class DS18B20Sim:
    def __init__(self, serial=0x0000A1B2C3D4, clock=None, temp_c=20.0):
        self.rom = make_rom(serial)
        self.clock = clock  # a Clock (ticks_ms); None: conversions finish at once
        self.temp_c = temp_c
        self.present = True
        self.crc_error = False
        self.stuck_85 = False
        self.th, self.tl, self.config = 0x4B, 0x46, 0x7F  # factory: 12 bits
        self.raw = 0x0550  # 85 °C: the power-on value
        self.converting = None  # (start tick, raw at the start) while converting
        self.conversions = 0
        self._reset_state()

    # the line's side

    def _reset_state(self):
        self.state = "rom"
        self.rx = []  # bits of the byte being received
        self.tx = []  # bits waiting to be read out
        self.match_i = 0
        self.search_i = 0
        self.search_phase = 0
        self.want = 0  # bytes still expected by WRITE SCRATCHPAD
        self.wbuf = []

    def reset(self):
        """A reset pulse: True if the chip answers with a presence pulse."""
        self._finish_conversion()
        self._reset_state()
        return self.present

    def write_bit(self, bit):
        if not self.present or self.state == "idle":
            return
        if self.state == "match":
            if bit != (self.rom[self.match_i // 8] >> (self.match_i % 8)) & 1:
                self.state = "idle"  # not us: silent until the next reset
                return
            self.match_i += 1
            if self.match_i == 64:
                self.state = "func"
            return
        if self.state == "search":
            if self.search_phase == 2:
                mine = (self.rom[self.search_i // 8] >> (self.search_i % 8)) & 1
                if bit != mine:
                    self.state = "idle"
                    return
                self.search_i += 1
                self.search_phase = 0
                if self.search_i == 64:
                    self.state = "func"
            return
        self.rx.append(bit)
        if len(self.rx) == 8:
            byte = sum(b << i for i, b in enumerate(self.rx))
            self.rx = []
            self._byte(byte)

    def read_bit(self):
        """The chip's answer in a read slot: 0 pulls the line low, 1 leaves it to the pull-up."""
        if not self.present or self.state == "idle":
            return 1
        if self.state == "search":
            mine = (self.rom[self.search_i // 8] >> (self.search_i % 8)) & 1
            if self.search_phase == 0:
                self.search_phase = 1
                return mine
            if self.search_phase == 1:
                self.search_phase = 2
                return mine ^ 1
            return 1
        if self.tx:
            return self.tx.pop(0)
        if self.state == "converting":
            return 1 if self._finish_conversion() else 0
        return 1

    # commands

    def _byte(self, byte):
        if self.state == "rom":
            if byte == 0x33:
                self.tx = _bits(self.rom)
                self.state = "func"
            elif byte == 0xCC:
                self.state = "func"
            elif byte == 0x55:
                self.state, self.match_i = "match", 0
            elif byte == 0xF0:
                self.state, self.search_i, self.search_phase = "search", 0, 0
            else:
                self.state = "idle"
        elif self.state == "func":
            self._function(byte)
        elif self.state == "write":
            self.wbuf.append(byte)
            if len(self.wbuf) == 3:
                self.th, self.tl, self.config = self.wbuf[0], self.wbuf[1], (self.wbuf[2] & 0x60) | 0x1F
                self.state = "idle"

    def _function(self, byte):
        if byte == 0x44:
            self._finish_conversion()
            self.converting = (self._now(), self._measure())
            self.state = "converting"
        elif byte == 0xBE:
            self._finish_conversion()
            self.tx = _bits(self.scratchpad_on_wire())
            self.state = "reading"
        elif byte == 0x4E:
            self.state, self.wbuf = "write", []
        elif byte == 0xB4:
            self.tx = [1]  # powered from VDD, not parasitic
            self.state = "reading"
        else:  # COPY / RECALL (EEPROM, instant here) and anything unknown
            self.state = "idle"

    def _now(self):
        return self.clock.ticks_ms() if self.clock is not None else 0

    def _measure(self):
        bits = 9 + ((self.config >> 5) & 3)
        raw = int(round(self.temp_c * 16))
        raw &= ~((1 << (12 - bits)) - 1)  # lower resolution: undefined low bits read 0
        return raw & 0xFFFF

    def _finish_conversion(self):
        """True when no conversion is running (any running one is done now)."""
        if self.converting is None:
            return True
        start, raw = self.converting
        if self.clock is not None and self.clock.ticks_diff(self._now(), start) < _CONV_MS[(self.config >> 5) & 3]:
            return False
        self.converting = None
        self.conversions += 1
        if not self.stuck_85:
            self.raw = raw
        return True

    def scratchpad(self):
        body = bytes([self.raw & 0xFF, self.raw >> 8, self.th, self.tl, self.config, 0xFF, 0x0C, 0x10])
        return body + bytes([crc8(body)])

    def scratchpad_on_wire(self):
        data = bytearray(self.scratchpad())
        if self.crc_error:
            data[0] ^= 0x04  # a bit flipped by noise on a long cable
        return bytes(data)


class OneWireLine:
    """The wire: open drain with a pull-up, so a read slot is the AND of every chip's answer."""

    def __init__(self):
        self.devices = []
        self.resets = 0

    def attach(self, device):
        self.devices.append(device)
        return device

    def reset(self):
        self.resets += 1
        present = False
        for d in self.devices:
            if d.reset():
                present = True
        return present

    def writebit(self, bit):
        for d in self.devices:
            d.write_bit(1 if bit else 0)

    def readbit(self):
        v = 1
        for d in self.devices:
            v &= d.read_bit()
        return v

    def readbyte(self):
        v = 0
        for i in range(8):
            v |= self.readbit() << i
        return v

    def writebyte(self, value):
        for i in range(8):
            self.writebit((value >> i) & 1)


class OneWireError(Exception):
    pass


class SimOneWire:
    """MicroPython's onewire.OneWire (micropython/drivers/onewire/onewire.py, MIT)
    over a simulated line instead of the `_onewire` C module."""

    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, line):
        self.line = line

    def reset(self, required=False):
        present = self.line.reset()
        if required and not present:
            raise OneWireError
        return present

    def readbit(self):
        return self.line.readbit()

    def readbyte(self):
        return self.line.readbyte()

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = self.line.readbyte()

    def writebit(self, value):
        self.line.writebit(value)

    def writebyte(self, value):
        self.line.writebyte(value)

    def write(self, buf):
        for b in buf:
            self.line.writebyte(b)

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self):
        devices = []
        diff = 65
        rom = None
        for _ in range(0xFF):
            rom, diff = self._search_rom(rom, diff)
            if rom:
                devices.append(rom)
            if diff == 0:
                break
        return devices

    def _search_rom(self, l_rom, diff):
        if not self.reset():
            return None, 0
        self.writebyte(self.SEARCH_ROM)
        if not l_rom:
            l_rom = bytearray(8)
        rom = bytearray(8)
        next_diff = 0
        i = 64
        for byte in range(8):
            r_b = 0
            for bit in range(8):
                b = self.readbit()
                if self.readbit():
                    if b:  # nobody answered, or noise on the line
                        return None, 0
                elif not b:  # a collision: two chips differ at this bit
                    if diff > i or ((l_rom[byte] & (1 << bit)) and diff != i):
                        b = 1
                        next_diff = i
                self.writebit(b)
                if b:
                    r_b |= 1 << bit
                i -= 1
            rom[byte] = r_b
        return rom, next_diff

    def crc8(self, data):
        return crc8(data)
