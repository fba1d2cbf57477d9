"""Whether the gateway's own clock is synchronised, as the Linux kernel knows it (``adjtimex``, read only).

Whatever disciplines the clock — systemd-timesyncd, chrony, ntpd — tells the kernel, and the kernel keeps
``STA_UNSYNC`` set until one does; ``adjtimex`` with no modes only reads, needs no privilege, never blocks, and
is the same on Debian, Raspberry Pi OS and in a container (which shares the host's clock). ``timedatectl show
-p NTPSynchronized`` reads the same flag, through D-Bus and a process. Elsewhere (not Linux) the state is
"unknown", which counts as not synchronised.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

from edge_gateway.timeserver.sntp import OwnClock

STA_UNSYNC = 0x0040
STA_NANO = 0x2000
TIME_ERROR = 5


class _Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


def _adjtimex():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.adjtimex
    except (OSError, AttributeError):
        return None


_ADJTIMEX = _adjtimex()


def read_own_clock() -> OwnClock:
    """The kernel's view now (a few microseconds: it is read at each answer's policy refresh)."""
    if _ADJTIMEX is None:
        return OwnClock(synchronised=False, source="unknown: adjtimex is not available here")
    tx = _Timex()
    state = _ADJTIMEX(ctypes.byref(tx))
    if state < 0:
        return OwnClock(synchronised=False, source=f"unknown: adjtimex failed (errno {ctypes.get_errno()})")
    offset_us = tx.offset // 1000 if tx.status & STA_NANO else tx.offset
    synced = state != TIME_ERROR and not tx.status & STA_UNSYNC
    return OwnClock(synchronised=synced, source="adjtimex", offset_us=int(offset_us) if synced else None,
                    max_error_us=int(tx.maxerror) if synced else None)
