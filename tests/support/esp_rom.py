"""The ESP32's serial ROM loader, as esptool sees it: SLIP frames (0xC0 … 0xC0, 0xDB escapes), commands
``<BBHI`` (direction 0, op, length, checksum) + data, responses ``<BBHI`` (direction 1, op, length, value) +
data + status bytes (4 from the ROM, 2 from the flasher stub).

Enough of it for ``esptool.cmds``: SYNC (eight answers), GET_SECURITY_INFO refused as the ESP32's ROM does
(so esptool reads the chip magic 0x00F01D83 at 0x40001000), READ_REG / WRITE_REG on a register table (the
factory MAC in eFuse words 1 and 2; the SPI flash's JEDEC id in W0, its command register always idle),
MEM_BEGIN / MEM_DATA / MEM_END (the stub upload, answered by the stub's "OHAI"), then the stub's commands:
SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE, ERASE_FLASH, FLASH_DEFL_BEGIN / DATA / END (zlib), SPI_FLASH_MD5.
The flash is a bytearray; ``erased`` says whether ERASE_FLASH came. Used by mp_board.SimBoard, which switches
to it when a SLIP frame arrives (a real board gets there by esptool's DTR/RTS reset; a pseudo-terminal has
no such lines, so esptool warns and goes on).
"""

from __future__ import annotations

import hashlib
import struct
import zlib

MAGIC_REG, MAGIC_ESP32 = 0x40001000, 0x00F01D83
EFUSE_BASE = 0x3FF5A000
SPI_BASE = 0x3FF42000  # SPI1: esptool's flash commands (CMD at +0, W0 at +0x80)
JEDEC_4MB = 0x164020  # manufacturer 0x20, 4 MB
FLASH_SIZE = 4 * 1024 * 1024
OPS = {"FLASH_BEGIN": 0x02, "FLASH_DATA": 0x03, "FLASH_END": 0x04, "MEM_BEGIN": 0x05, "MEM_END": 0x06,
       "MEM_DATA": 0x07, "SYNC": 0x08, "WRITE_REG": 0x09, "READ_REG": 0x0A, "SPI_SET_PARAMS": 0x0B,
       "SPI_ATTACH": 0x0D, "CHANGE_BAUDRATE": 0x0F, "FLASH_DEFL_BEGIN": 0x10, "FLASH_DEFL_DATA": 0x11,
       "FLASH_DEFL_END": 0x12, "SPI_FLASH_MD5": 0x13, "GET_SECURITY_INFO": 0x14, "ERASE_FLASH": 0xD0}


def slip(payload: bytes) -> bytes:
    return b"\xc0" + payload.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


class RomLoader:
    def __init__(self, mac: bytes, send) -> None:
        self.send = send
        self.stub = False
        self.flash = bytearray(b"\xff" * FLASH_SIZE)
        self.erased = False
        self.written: list[tuple[int, int]] = []  # (address, length) of each image written
        self.regs = {MAGIC_REG: MAGIC_ESP32, SPI_BASE + 0x80: JEDEC_4MB,
                     EFUSE_BASE + 4: int.from_bytes(mac[2:6], "big"),
                     EFUSE_BASE + 8: int.from_bytes(mac[0:2], "big")}
        self._frame: bytearray | None = None
        self._escape = False
        self._defl: zlib._Decompress | None = None
        self._at = 0
        self._start = 0

    def byte(self, b: int) -> None:
        """One byte from the host."""
        if self._frame is None:
            if b == 0xC0:
                self._frame = bytearray()
            return
        if b == 0xC0:
            frame, self._frame = bytes(self._frame), None
            if frame:
                self.command(frame)
            else:
                self._frame = bytearray()  # two delimiters in a row: the second opens the next frame
            return
        if self._escape:
            self._frame.append({0xDC: 0xC0, 0xDD: 0xDB}.get(b, b))
            self._escape = False
        elif b == 0xDB:
            self._escape = True
        else:
            self._frame.append(b)

    def reply(self, op: int, value: int = 0, data: bytes = b"", status: bytes = b"\x00\x00") -> None:
        body = data + status + (b"" if self.stub else b"\x00\x00")
        self.send(slip(struct.pack("<BBHI", 1, op, len(body), value) + body))

    def command(self, frame: bytes) -> None:
        if len(frame) < 8 or frame[0] != 0:
            return
        _, op, size, _ = struct.unpack("<BBHI", frame[:8])
        data = frame[8:8 + size]
        if op == OPS["SYNC"]:
            for _ in range(8):
                self.reply(op, 0 if self.stub else 0x20120707)
        elif op == OPS["GET_SECURITY_INFO"] and not self.stub:
            self.reply(op, status=b"\x01\x05")  # the ESP32's ROM does not know it
        elif op == OPS["READ_REG"]:
            self.reply(op, self.regs.get(struct.unpack("<I", data[:4])[0], 0))
        elif op == OPS["WRITE_REG"]:
            for i in range(0, len(data) - 15, 16):
                addr, value, mask, _ = struct.unpack("<IIII", data[i:i + 16])
                if addr not in (SPI_BASE, SPI_BASE + 0x80):  # CMD: done at once; W0: answers the JEDEC id
                    self.regs[addr] = (self.regs.get(addr, 0) & ~mask) | (value & mask)
            self.reply(op)
        elif op == OPS["MEM_END"]:
            self.reply(op)
            self.stub = True
            self.send(slip(b"OHAI"))
        elif op == OPS["ERASE_FLASH"]:
            self.flash[:] = b"\xff" * FLASH_SIZE
            self.erased = True
            self.reply(op)
        elif op == OPS["FLASH_DEFL_BEGIN"]:
            self._defl, self._at = zlib.decompressobj(), struct.unpack("<IIII", data[:16])[3]
            self._start = self._at
            self.reply(op)
        elif op == OPS["FLASH_DEFL_DATA"]:
            length = struct.unpack("<I", data[:4])[0]
            chunk = self._defl.decompress(data[16:16 + length])
            self.flash[self._at:self._at + len(chunk)] = chunk
            self._at += len(chunk)
            self.reply(op)
        elif op == OPS["FLASH_DEFL_END"]:
            self.written.append((self._start, self._at - self._start))
            self.reply(op)
        elif op == OPS["SPI_FLASH_MD5"]:
            addr, size = struct.unpack("<II", data[:8])
            digest = hashlib.md5(self.flash[addr:addr + size]).digest()
            self.reply(op, data=digest if self.stub else digest.hex().encode())
        else:  # MEM_BEGIN/DATA, SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE, …: done
            self.reply(op)
