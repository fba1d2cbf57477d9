"""Our DS18B20 driver on a 1-Wire bus shaped like MicroPython's onewire.OneWire
(reset, readbyte/writebyte, readinto, write, select_rom, scan): the ESP32 gives
onewire.OneWire(machine.Pin(n)), the host and the tests sebiao_sim's SimOneWire.

Non-blocking, for the main loop: start() sends CONVERT T, the caller waits
CONVERT_MS (750 ms at 12 bits) without holding the loop, then read_dc() reads
the scratchpad and returns tenths of °C. Every failure is a ProbeError naming
what went wrong; the station counts it and goes on.

A reading is refused when:
- nobody answers the reset pulse ("no presence");
- the scratchpad is all 0xFF (the line floats: a broken wire) or all 0x00 (the
  line is held low: a short), or its CRC-8 does not match ("crc");
- it is 85.0 °C, the value the chip holds from power-on until a conversion
  completes (a brown-out resets it), unless the reading before it was already
  near 85 °C: a hot-wash or cabinet does pass through 85 °C for real;
- it is outside the chip's rated -55..125 °C (libraries report -127 for
  "disconnected"; no chip can say it).
"""

CONVERT_T = 0x44
READ_SCRATCHPAD = 0xBE
WRITE_SCRATCHPAD = 0x4E
SKIP_ROM = 0xCC
CONFIG_12_BIT = 0x7F
CONVERT_MS = 750
POWER_ON_RAW = 0x0550  # 85 °C
NEAR_85_DC = 30  # a previous reading within 3 °C of 85 makes 85.0 believable
MIN_DC, MAX_DC = -550, 1250


class ProbeError(Exception):
    pass


def crc8(data):
    """Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1, reflected), as the chip computes it."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def raw_to_dc(raw):
    """A 16-bit two's complement reading in 1/16 °C to tenths of °C, rounded half away from zero."""
    if raw & 0x8000:
        raw -= 0x10000
    tenths = abs(raw) * 10
    dc = (tenths + 8) // 16
    return -dc if raw < 0 else dc


def check_scratchpad(data, last_dc=None):
    """The temperature in tenths of °C from the 9 scratchpad bytes, or ProbeError."""
    if len(data) != 9:
        raise ProbeError("short read")
    if all(b == 0xFF for b in data):
        raise ProbeError("no answer")
    if all(b == 0 for b in data):
        raise ProbeError("line held low")
    if crc8(data[:8]) != data[8]:
        raise ProbeError("crc")
    raw = data[0] | (data[1] << 8)
    dc = raw_to_dc(raw)
    if raw == POWER_ON_RAW and (last_dc is None or abs(last_dc - 850) > NEAR_85_DC):
        raise ProbeError("85 power-on value")
    if not MIN_DC <= dc <= MAX_DC:
        raise ProbeError("out of range")
    return dc


class DS18B20:
    def __init__(self, ow, rom=None):
        """`rom`: the probe's 8-byte ROM code (MATCH ROM), or None for the only
        chip on the bus (SKIP ROM)."""
        self.ow = ow
        self.rom = bytes(rom) if rom else None
        self.configured = False
        self.last_dc = None  # the last good reading

    def _address(self):
        if not self.ow.reset():
            raise ProbeError("no presence")
        if self.rom:
            self.ow.writebyte(0x55)
            self.ow.write(self.rom)
        else:
            self.ow.writebyte(SKIP_ROM)

    def start(self):
        """Set 12-bit resolution if not done yet, then CONVERT T."""
        if not self.configured:
            self._address()
            self.ow.write(bytes([WRITE_SCRATCHPAD, 0x4B, 0x46, CONFIG_12_BIT]))  # TH, TL: the factory alarms
            self.configured = True
        self._address()
        self.ow.writebyte(CONVERT_T)

    def read_dc(self):
        """READ SCRATCHPAD: tenths of °C, or ProbeError."""
        self._address()
        self.ow.writebyte(READ_SCRATCHPAD)
        data = bytearray(9)
        self.ow.readinto(data)
        try:
            dc = check_scratchpad(data, self.last_dc)
        except ProbeError:
            self.configured = False  # a chip that lost power lost its resolution too
            raise
        if data[4] != CONFIG_12_BIT:
            self.configured = False  # coarser than asked: set it again before the next conversion
        self.last_dc = dc
        return dc
