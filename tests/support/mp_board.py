"""A simulated ESP32 running MicroPython, as mpremote sees it on its USB serial port: a pseudo-terminal whose
far end speaks MicroPython's REPL protocols, byte by byte, from a thread.

- friendly REPL: Ctrl-C answers a prompt, Ctrl-A enters the raw REPL ("raw REPL; CTRL-B to exit\\r\\n>");
- raw REPL: code, then Ctrl-D -> "OK", the code's stdout, \\x04, its traceback, \\x04, ">"; Ctrl-D on an empty
  buffer soft-resets ("OK\\r\\nMPY: soft reboot\\r\\n" and the raw banner again), Ctrl-B goes back to friendly;
- raw-paste (Ctrl-E "A" Ctrl-A): "R\\x01", a 2-byte window, a \\x01 for every window consumed, \\x04 to end;
  with ``raw_paste=False`` it is refused ("R\\x00") and mpremote falls back to the plain raw REPL.

The received code runs in CPython against the board's flash, a directory: ``os`` (mkdir, remove, rename,
stat, ilistdir, listdir, statvfs…), ``open``, ``time.sleep_ms``, ``machine.unique_id()`` (the MAC) and
``machine.reset()``; ``binascii``, ``hashlib``, ``json``, ``sys`` are CPython's. Errors are reported as
MicroPython does (``OSError: [Errno 2] ENOENT``), which mpremote parses. ``capacity`` bytes of flash:
writing beyond raises ``OSError: [Errno 28] ENOSPC`` (a board that fails mid-deploy). A SLIP frame puts
it in the ESP32's ROM loader for esptool (esp_rom.py).

    board = SimBoard(tmp_path / "flash", mac="a4cf12000001")
    board.port            # /dev/pts/N, for mpremote
    board.unplug()
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import select
import shutil
import struct
import threading
import time
import traceback
import tty
from pathlib import Path

from esp_rom import RomLoader

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY = (b"MicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32\r\n"
            b"Type \"help()\" for more information.\r\n>>> ")
TRACEBACK = 'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n'
WINDOW = 256
REAL_MODULES = ("binascii", "hashlib", "json", "sys", "gc", "struct", "errno")


class _Reset(BaseException):
    """machine.reset(): the board reboots at once."""


class SimBoard:
    def __init__(self, flash: Path, *, mac: str = "a4cf12000001", capacity: int | None = None,
                 raw_paste: bool = True, blank: bool = False) -> None:
        self.flash = Path(flash)
        self.flash.mkdir(parents=True, exist_ok=True)
        self.mac = bytes.fromhex(mac)
        self.capacity = capacity
        self.raw_paste = raw_paste
        self.mute = False  # True: no MicroPython on it, nothing answers
        self.refuse_loader = False  # True: esptool cannot get it into its ROM loader
        self.mangle: str | None = None  # this file's last byte flips when written (a bad flash)
        # in the ROM loader (esptool), else None; a blank chip (blank=True) has nothing else to run
        self.rom: RomLoader | None = RomLoader(self.mac, self._send) if blank else None
        self.images: list[RomLoader] = []  # each esptool session that wrote an image, oldest first
        self.resets = 0  # hard resets (machine.reset())
        self.execs = 0
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self._mode = "friendly"
        self._buf = bytearray()
        self._paste: bytearray | None = None  # raw-paste data received so far
        self._paste_window = 0
        self._globals: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"simboard-{mac}", daemon=True)
        self._thread.start()

    # -- the wire --------------------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.master, 4096)
            except (OSError, ValueError):
                return
            for byte in data:
                self._byte(byte)

    def unplug(self) -> None:
        """The USB cable pulled: the port goes away."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- the REPL state machine ------------------------------------------------------------------------------
    def _byte(self, b: int) -> None:
        if self.mute:
            return
        if self.rom is not None:
            return self._rom_byte(b)
        if b == 0xC0 and not self.refuse_loader:  # esptool's first SLIP frame: the board is in its ROM loader
            self.rom = RomLoader(self.mac, self._send)
            self._mode, self._paste, self._buf = "rom", None, bytearray()
            return self.rom.byte(b)
        if self._paste is not None:
            return self._paste_byte(b)
        if self._mode == "friendly":
            if b == 0x01:
                self._mode, self._buf = "raw", bytearray()
                self._send(b"\r\n" + RAW_BANNER)
            elif b == 0x03:
                self._send(b"\r\n>>> ")
            return
        if b == 0x01:
            self._buf = bytearray()
            self._send(b"\r\n" + RAW_BANNER)
        elif b == 0x02:
            self._mode = "friendly"
            self._send(b"\r\n" + FRIENDLY)
        elif b == 0x03:
            self._buf = bytearray()
        elif b == 0x04 and not self._buf:
            self._globals = {}
            self._send(b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER)
        elif b == 0x04:
            code, self._buf = bytes(self._buf), bytearray()
            self._send(b"OK")
            self._run(code)
        elif self._buf == b"\x05A" and b == 0x01:
            self._buf = bytearray()
            if self.raw_paste:
                self._paste, self._paste_window = bytearray(), 0
                self._send(b"R\x01" + struct.pack("<H", WINDOW))
            else:
                self._send(b"R\x00")
        else:
            self._buf.append(b)

    def _rom_byte(self, b: int) -> None:
        """In the loader; a byte outside a frame once an image is written: the board was reset (a pseudo-
        terminal has no RTS line for esptool's hard reset, as if the EN button were pressed) and boots
        MicroPython, on a flash that is empty if it was erased."""
        if self.rom.written and self.rom._frame is None and b != 0xC0:
            self.images.append(self.rom)
            if self.rom.erased:
                shutil.rmtree(self.flash)
                self.flash.mkdir()
            self.rom, self._mode, self._globals = None, "friendly", {}
            return self._byte(b)
        self.rom.byte(b)

    def _paste_byte(self, b: int) -> None:
        if b == 0x04:
            code, self._paste = bytes(self._paste), None
            self._send(b"\x04")
            return self._run(code)
        self._paste.append(b)
        self._paste_window += 1
        if self._paste_window == WINDOW:
            self._paste_window = 0
            self._send(b"\x01")

    def _run(self, code: bytes) -> None:
        self.execs += 1
        out = self._out = io.StringIO()  # what print() writes during this run
        err = ""
        try:
            env = self._globals
            env.setdefault("__builtins__", self._builtins())
            exec(compile(code.decode("utf-8"), "<stdin>", "exec"), env)
        except _Reset:
            self.resets += 1
            self._globals, self._mode = {}, "friendly"
            self._send(out.getvalue().encode() + b"\r\nets Jun  8 2016 00:22:57\r\n\r\nrst:0xc (SW_CPU_RESET)\r\n"
                       + FRIENDLY)
            return
        except OSError as exc:  # as MicroPython words it: mpremote finds the errno's name
            err = TRACEBACK + f"OSError: [Errno {exc.errno}] {errno.errorcode.get(exc.errno or 0, exc.errno)}\r\n"
        except Exception as exc:
            err = TRACEBACK + traceback.format_exception_only(type(exc), exc)[-1].strip() + "\r\n"
        self._send(out.getvalue().replace("\n", "\r\n").encode() + b"\x04" + err.encode() + b"\x04>")

    # -- what the code sees ----------------------------------------------------------------------------------
    def _builtins(self) -> dict:
        board = self
        table = dict(vars(builtins))
        modules = {"os": _FlashOS(board), "machine": _Machine(board), "time": _Time()}
        real_import = builtins.__import__

        def _import(name, globals=None, locals=None, fromlist=(), level=0):
            if name in modules:
                return modules[name]
            if name in REAL_MODULES:
                return real_import(name, globals, locals, fromlist, level)
            raise ImportError(f"no module named '{name}'")

        def _print(*args, sep=" ", end="\n", file=None):
            board._out.write(sep.join(str(a) for a in args) + end)

        table.update(__import__=_import, open=lambda path, mode="r": board.open(path, mode), print=_print)
        return table

    def path(self, name: str) -> Path:
        parts = [p for p in str(name).split("/") if p not in ("", ".")]
        if ".." in parts:
            raise OSError(errno.EINVAL, name)
        return self.flash.joinpath(*parts)

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.flash.rglob("*") if p.is_file())

    def open(self, name: str, mode: str = "r"):
        path = self.path(name)
        if not path.parent.is_dir():
            raise OSError(errno.ENOENT, name)
        handle = open(path, mode)
        return _Written(handle, self, path) if ("w" in mode or "a" in mode) else handle


class _Written:
    """A file being written on the flash: limited by ``capacity``, spoilt on close if it is ``mangle``."""

    def __init__(self, handle, board: SimBoard, path: Path) -> None:
        self._handle, self._board, self._path = handle, board, path

    def write(self, data) -> int:
        self._handle.flush()
        if self._board.capacity is not None and self._board.used() + len(data) > self._board.capacity:
            raise OSError(errno.ENOSPC, "no space")
        return self._handle.write(data)

    def close(self) -> None:
        self._handle.close()
        if self._board.mangle and self._path == self._board.path(self._board.mangle):
            data = bytearray(self._path.read_bytes())
            data[-1] ^= 0xFF
            self._path.write_bytes(bytes(data))

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _FlashOS:
    """MicroPython's ``os`` on the board's flash (a littlefs root)."""

    sep = "/"

    def __init__(self, board: SimBoard) -> None:
        self._b = board

    def _p(self, name: str) -> Path:
        return self._b.path(name)

    def mkdir(self, name: str) -> None:
        try:
            os.mkdir(self._p(name))
        except FileExistsError:
            raise OSError(errno.EEXIST, name) from None
        except FileNotFoundError:
            raise OSError(errno.ENOENT, name) from None

    def remove(self, name: str) -> None:
        os.remove(self._p(name))

    def rmdir(self, name: str) -> None:
        os.rmdir(self._p(name))

    def rename(self, old: str, new: str) -> None:
        os.rename(self._p(old), self._p(new))

    def stat(self, name: str) -> tuple:
        path = self._p(name)
        if not path.exists():
            raise OSError(errno.ENOENT, name)
        kind = 0x4000 if path.is_dir() else 0x8000
        size = 0 if path.is_dir() else path.stat().st_size
        return (kind, 0, 0, 0, 0, 0, size, 0, 0, 0)

    def ilistdir(self, name: str = ""):
        path = self._p(name)
        if not path.is_dir():
            raise OSError(errno.ENOENT, name)
        for child in sorted(path.iterdir()):
            yield (child.name, 0x4000 if child.is_dir() else 0x8000, 0,
                   0 if child.is_dir() else child.stat().st_size)

    def listdir(self, name: str = "") -> list[str]:
        return [entry[0] for entry in self.ilistdir(name)]

    def getcwd(self) -> str:
        return "/"

    def chdir(self, name: str) -> None:
        if name not in ("/", ""):
            raise OSError(errno.ENOENT, name)

    def statvfs(self, name: str = "/") -> tuple:
        total = (self._b.capacity or 2 * 1024 * 1024) // 4096
        free = max(total - self._b.used() // 4096, 0)
        return (4096, 4096, total, free, free, 0, 0, 0, 0, 255)

    def uname(self) -> tuple:
        return ("esp32", "esp32", "1.24.1", "v1.24.1 on 2024-11-29", "Generic ESP32 module with ESP32")

    def sync(self) -> None:
        pass


class _Machine:
    def __init__(self, board: SimBoard) -> None:
        self._b = board

    def unique_id(self) -> bytes:
        return self._b.mac

    def reset(self) -> None:
        raise _Reset()

    def soft_reset(self) -> None:
        raise _Reset()


class _Time:
    def sleep_ms(self, ms: int) -> None:
        time.sleep(ms / 1000)

    def sleep(self, s: float) -> None:
        time.sleep(s)

    def ticks_ms(self) -> int:
        return int(time.monotonic() * 1000) & 0x3FFFFFFF

    def ticks_diff(self, a: int, b: int) -> int:
        return a - b
