"""An MFRC522 at register level, over SPI, with an RF field of simulated cards.

Follows the NXP MFRC522 datasheet (rev. 3.9): SPI address byte (bit 7 = read,
bits 6..1 = register), the 64-byte FIFO, CommandReg (Idle, CalcCRC,
Transceive, SoftReset), BitFramingReg (StartSend, RxAlign, TxLastBits),
ComIrqReg/DivIrqReg with the Set1 bit, ErrorReg, CollReg, ControlReg
(RxLastBits), the timer (TAuto, TPrescaler, TReload; it starts at the end of
transmission and stops when an answer comes), the CRC coprocessor (presets from
ModeReg), TxControlReg (antenna), RFCfgReg (gain), VersionReg, and a hard reset
through RST. Time advances with bus traffic (~48 us per register access, as
on an ESP32 under MicroPython), so the chip timer expires after a realistic
number of polls and tests are deterministic.
"""

from .iso14443 import Field, crc_a, to_bits, from_bits

COMMAND, COMIEN, DIVIEN, COMIRQ, DIVIRQ, ERROR, STATUS1, STATUS2 = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
FIFODATA, FIFOLEVEL, WATERLEVEL, CONTROL, BITFRAMING, COLL = 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E
MODE, TXMODE, RXMODE, TXCONTROL, TXASK = 0x11, 0x12, 0x13, 0x14, 0x15
CRCH, CRCL, RFCFG, TMODE, TPRESCALER, TRELOADH, TRELOADL, VERSION = 0x21, 0x22, 0x26, 0x2A, 0x2B, 0x2C, 0x2D, 0x37

RESET_VALUES = {
    COMMAND: 0x20, COMIEN: 0x80, COMIRQ: 0x14, STATUS1: 0x21, WATERLEVEL: 0x08,
    CONTROL: 0x10, COLL: 0x80, MODE: 0x3F, TXCONTROL: 0x80, 0x16: 0x10, 0x17: 0x84,
    0x18: 0x84, 0x19: 0x4D, RFCFG: 0x48, 0x27: 0x88, 0x28: 0x20, 0x29: 0x20,
    CRCH: 0xFF, CRCL: 0xFF,
}

IDLE_CMD, CALCCRC, TRANSCEIVE, SOFTRESET = 0x00, 0x03, 0x0C, 0x0F
CRC_PRESETS = (0x0000, 0x6363, 0xA671, 0xFFFF)
US_PER_ACCESS = 40
US_PER_BYTE = 8


class MFRC522Sim:
    def __init__(self, field=None, version=0x92):
        self.field = field if field is not None else Field()
        self.version = version
        self.regs = bytearray(64)
        self.fifo = []
        self.now_us = 0
        self.timer_deadline = None
        self.powered = True
        self.wedged = False  # a latched-up chip: MISO stuck high until a hard reset
        self.addr = None
        self.reading = False
        self.selected = False
        self.transceives = 0
        self.resets = 0
        self._reset()

    def _reset(self):
        for i in range(64):
            self.regs[i] = RESET_VALUES.get(i, 0)
        self.regs[VERSION] = self.version
        self.fifo = []
        self.timer_deadline = None
        self.field.set_on(False)
        self.resets += 1

    # pins

    def cs(self, level):
        """Chip select (active low) edge."""
        self.selected = level == 0
        self.addr = None
        if self.selected:
            self.now_us += US_PER_ACCESS

    def rst(self, level):
        """NRSTPD: low = hard power-down, rising edge = reset."""
        if level == 0:
            self.powered = False
            self.field.set_on(False)
        else:
            self.powered = True
            self.wedged = False
            self._reset()

    # SPI

    def xfer(self, out):
        self.now_us += US_PER_BYTE
        if not self.selected or not self.powered:
            return 0x00
        if self.wedged:
            return 0xFF
        if self.addr is None:
            self.reading = bool(out & 0x80)
            self.addr = (out >> 1) & 0x3F
            return 0x00
        if self.reading:
            value = self.read_reg(self.addr)
            self.addr = (out >> 1) & 0x3F  # the next address rides along
            return value
        self.write_reg(self.addr, out)
        return 0x00

    # registers

    def read_reg(self, reg):
        if reg == FIFODATA:
            return self.fifo.pop(0) if self.fifo else 0
        if reg == FIFOLEVEL:
            return len(self.fifo)
        if reg == COMIRQ:
            if self.timer_deadline is not None and self.now_us >= self.timer_deadline:
                self.regs[COMIRQ] |= 0x01  # TimerIRq
                self.timer_deadline = None
        return self.regs[reg]

    def write_reg(self, reg, value):
        if reg == FIFODATA:
            if len(self.fifo) >= 64:
                self.regs[ERROR] |= 0x10  # BufferOvfl
            else:
                self.fifo.append(value)
            return
        if reg == FIFOLEVEL:
            if value & 0x80:
                self.fifo = []
                self.regs[ERROR] &= ~0x10 & 0xFF
            return
        if reg in (COMIRQ, DIVIRQ):
            mask = value & 0x7F
            if value & 0x80:
                self.regs[reg] |= mask
            else:
                self.regs[reg] &= ~mask & 0xFF
            return
        if reg == VERSION:
            return
        if reg == COMMAND:
            self.regs[COMMAND] = value & 0x3F
            self._command(value & 0x0F)
            return
        self.regs[reg] = value
        if reg == TXCONTROL:
            self.field.set_on(value & 0x03 != 0)
        if reg == BITFRAMING and value & 0x80 and self.regs[COMMAND] & 0x0F == TRANSCEIVE:
            self._transceive()

    def _command(self, cmd):
        if cmd == SOFTRESET:
            self._reset()
        elif cmd == CALCCRC:
            c = crc_a(self.fifo, CRC_PRESETS[self.regs[MODE] & 0x03])
            self.fifo = []
            self.regs[CRCL] = c & 0xFF
            self.regs[CRCH] = c >> 8
            self.regs[DIVIRQ] |= 0x04  # CRCIRq
        elif cmd == IDLE_CMD:
            self.timer_deadline = None

    def timer_us(self):
        prescaler = (self.regs[TMODE] & 0x0F) << 8 | self.regs[TPRESCALER]
        reload = self.regs[TRELOADH] << 8 | self.regs[TRELOADL]
        return (2 * prescaler + 1) * (reload + 1) * 1000000 // 13560000

    def _transceive(self):
        self.transceives += 1
        data = bytes(self.fifo)
        self.fifo = []
        framing = self.regs[BITFRAMING]
        tx_last = framing & 0x07
        rx_align = (framing >> 4) & 0x07
        if self.regs[TXMODE] & 0x80:
            c = crc_a(data)
            data += bytes([c & 0xFF, c >> 8])
            tx_last = 0
        nbits = len(data) * 8 - ((8 - tx_last) if tx_last else 0)
        self.regs[ERROR] = 0
        self.regs[COMIRQ] |= 0x40  # TxIRq
        answer, coll, parity = self.field.exchange(to_bits(data, nbits))
        if answer is None:
            if self.regs[TMODE] & 0x80:  # TAuto: timer runs from the end of transmission
                self.timer_deadline = self.now_us + self.timer_us()
            return
        bits = [0] * rx_align + answer
        coll_reg = self.regs[COLL] & 0x80
        err = 0
        if coll is not None:
            err |= 0x08  # CollErr
            pos = rx_align + coll + 1
            if pos > 32:
                coll_reg |= 0x20  # CollPosNotValid
            else:
                coll_reg |= pos & 0x1F
            if not self.regs[COLL] & 0x80:  # ValuesAfterColl = 0: bits after it are cleared
                for i in range(rx_align + coll + 1, len(bits)):
                    bits[i] = 0
        self.regs[COLL] = coll_reg
        if parity:
            err |= 0x02
        out = from_bits(bits)
        if self.regs[RXMODE] & 0x80 and len(answer) % 8 == 0 and len(out) >= 3:
            if crc_a(out[:-2]) != (out[-2] | out[-1] << 8):
                err |= 0x04
            out = out[:-2]
        self.fifo = list(out[:64])
        self.regs[CONTROL] = (self.regs[CONTROL] & 0xF8) | (len(bits) % 8)
        self.regs[ERROR] = err
        self.regs[COMIRQ] |= 0x20 | (0x02 if err else 0)  # RxIRq, ErrIRq

    # wiring for a driver

    def bus(self):
        """(spi, cs_pin, rst_pin) to hand to the driver."""
        from .bus import SimSPI, SimPin
        return SimSPI(self), SimPin(self.cs), SimPin(self.rst)
