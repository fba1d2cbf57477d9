"""What a release must be (docs/fleet.md "Releases"): its manifest's signature by the release key, and a
manifest whose every path, size and hash is within bounds. Pure and table-tested; update.py uses it while
it downloads, and it loads only with update.py.
"""

import hashlib

try:
    from typing import Any  # noqa: F401  (type comments only; MicroPython has no typing)
except ImportError:
    pass

MAX_MANIFEST = 8192
SIG_BYTES = 256  # RSA-2048
MAX_FILES = 64
MAX_FILE = 65536
MAX_TOTAL = 524288
# DER of DigestInfo(sha256, NULL params), RFC 8017 §9.2 note 1
DIGEST_INFO = b"\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"
PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"


class Failed(Exception):
    pass


def verify(message, sig, key):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2) against key {"e":65537,"n":"<hex>"}: the whole
    encoded message is rebuilt and compared, never parsed, so no padding trick gets through."""
    try:
        n = int(key["n"], 16)
        e = key["e"]
    except (KeyError, TypeError, ValueError):
        return False
    if e != 65537 or not (1 << 2047) <= n < (1 << 2048) or len(sig) != SIG_BYTES:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em = b"\x00\x01" + b"\xff" * (SIG_BYTES - 3 - len(DIGEST_INFO) - 32) + b"\x00" + DIGEST_INFO
    em += hashlib.sha256(message).digest()
    return pow(s, e, n) == int.from_bytes(em, "big")


def good_path(p):
    if not isinstance(p, str) or len(p) > 128:
        return False
    parts = p.split("/")
    if len(parts) < 2 or parts[0] != "sebiao_station":
        return False
    for part in parts:
        if part in ("", ".", ".."):
            return False
        for c in part:
            if c not in PATH_CHARS:
                return False
    return True


def check_manifest(data, version):
    """The signed manifest's files as [(path, size, sha256 hex)]; Failed("manifest ...") if anything is off."""
    import json
    try:
        m = json.loads(bytes(data).decode())
    except (ValueError, UnicodeError):
        raise Failed("manifest json")
    if not isinstance(m, dict) or m.get("v") != 1:
        raise Failed("manifest v")
    if m.get("version") != version:
        raise Failed("manifest version")
    files = m.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        raise Failed("manifest files")
    out = []
    seen = set()
    total = 0
    for f in files:
        p = f.get("path") if isinstance(f, dict) else None  # type: Any
        if not good_path(p) or p in seen:
            raise Failed("manifest path")
        seen.add(p)
        size = f.get("size")
        if type(size) is not int or not 0 <= size <= MAX_FILE:
            raise Failed("manifest size " + p)
        total += size
        if total > MAX_TOTAL:
            raise Failed("manifest total")
        digest = f.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or [c for c in digest if c not in "0123456789abcdef"]:
            raise Failed("manifest sha256 " + p)
        out.append((p, size, digest))
    if "sebiao_station/__init__.py" not in seen and "sebiao_station/__init__.mpy" not in seen:
        raise Failed("manifest no sebiao_station/__init__")
    return out
