"""Signed checkpoints: the chain's head, signed with a key the database never holds.

A hash chain proves that it is whole from its first entry to its last, not
that its last entry is the one that was written: whoever may write the table
can cut its end off or change an entry and recompute every hash after it.
Like a transparency log's signed tree head (C2SP ``tlog-checkpoint``), a
checkpoint is the head ``(seq, hash)`` signed with Ed25519::

    sebiao evidence log\\n<seq>\\n<hash>\\n<at>\\n      (the signed note; at: cloud clock, ms)

A checkpoint whose entry is no longer there shows a cut chain; one whose
entry has another hash shows a rewritten chain. Nobody without the private key
can make a checkpoint for the rewritten chain, and the key lives in a file
(mode 0600) outside the database, made by ``sebiao cloud keygen``; the public
key (``KEY.pub``) is all ``verify`` needs.

Every worker process signs the head every ``checkpoint_seconds`` when it has
moved (``Checkpointer``, started with the app) and writes the checkpoint twice:
into ``evidence_checkpoints`` (append-only like the chain) and as one JSON line
appended to the ``checkpoints`` file outside the database (opened
``O_APPEND``, so the file may carry the append-only attribute, ``chattr +a``).
A checkpoint is written after the entries it signs were committed: it never
attests a head that a rollback took back.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, insert

from cloud_ingest.config import CloudConfig, EvidenceAnchor
from cloud_ingest.errors import StorageError
from cloud_ingest.store import db, evidence
from cloud_ingest.store.schema import evidence_checkpoints
from sebiao_common import strict_json
from sebiao_common.errors import ConfigError

log = logging.getLogger(__name__)
ORIGIN = "sebiao evidence log"
FIELD = "evidence.signing_key"


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    seq: int
    hash: str
    at: int
    key_id: str
    signature: str  # base64 of the Ed25519 signature of ``note(seq, hash, at)``

    def json(self) -> str:
        return strict_json.dumps({"origin": ORIGIN, "seq": self.seq, "hash": self.hash, "at": self.at,
                           "key": self.key_id, "sig": self.signature}, separators=(",", ":"))

    def verifies(self, keys: dict[str, Ed25519PublicKey]) -> bool:
        key = keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(self.signature, validate=True), note(self.seq, self.hash, self.at))
        except (InvalidSignature, ValueError):
            return False
        return True


def note(seq: int, head: str, at: int) -> bytes:
    return f"{ORIGIN}\n{seq}\n{head}\n{at}\n".encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- keys ---------------------------------------------------------------------------------


def public_path(signing_key: str) -> str:
    return signing_key + ".pub"


def generate(config: CloudConfig) -> tuple[str, str, str]:
    """Writes a new key pair where ``evidence.signing_key`` says (0600; ``KEY.pub`` 0644), never over an old one;
    returns the two paths and the key id."""
    where = settings(config)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    pub = public_path(where.signing_key)
    for path in (where.signing_key, pub):
        if os.path.lexists(path):
            raise ConfigError(config.file, FIELD, f"{path} 已存在，不覆盖（旧检查点只能用旧公钥核对） / {path} "
                              "already exists and is kept: checkpoints signed with it verify only with its "
                              "public key")
    _write_new(config, where.signing_key, private, 0o600)
    _write_new(config, pub, public, 0o644)
    return where.signing_key, pub, key_id(key.public_key())


def _write_new(config: CloudConfig, path: str, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise ConfigError(config.file, FIELD, f"无法写入 {path} / cannot write {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # whatever the umask took away or left


class Signer:
    """The private key of ``evidence.signing_key``, refused when others may read it (like ssh's own keys)."""

    def __init__(self, config: CloudConfig) -> None:
        path = settings(config).signing_key
        try:
            mode = os.stat(path).st_mode
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(config.file, FIELD, f"无法读取 {path}（可用 sebiao cloud keygen 生成） / cannot read "
                              f"{path}: {exc.strerror} (make it with `sebiao cloud keygen`)") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(config.file, FIELD, f"{path} 的权限 {stat.S_IMODE(mode):o} 允许他人访问，请 chmod 600 "
                              f"/ {path} has mode {stat.S_IMODE(mode):o}, open to others: chmod 600 it")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ConfigError(config.file, FIELD, f"{path} 不是未加密的 PEM 私钥 / {path} is not an unencrypted "
                              f"PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(config.file, FIELD, f"{path} 不是 Ed25519 私钥 / {path} is not an Ed25519 key")
        self._key = key
        self.key_id = key_id(key.public_key())

    def sign_other(self, message: bytes) -> str:
        """The base64 signature of another signed note of this cloud (a grade statement,
        ``sebiao_common.grade_statement``): its first line names what it is and is never the evidence log's,
        so a checkpoint and a statement signed with the one key can never stand for each other."""
        if message.split(b"\n", 1)[0] == ORIGIN.encode():
            raise ValueError("only sign() makes checkpoints")
        return base64.b64encode(self._key.sign(message)).decode()

    def sign(self, seq: int, head: str, at: int) -> Checkpoint:
        signature = base64.b64encode(self._key.sign(note(seq, head, at))).decode()
        return Checkpoint(seq=seq, hash=head, at=at, key_id=self.key_id, signature=signature)


def load_public_key(path: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(path, "", f"无法读取公钥 / cannot read the public key: {exc.strerror}") from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(path, "", f"不是 PEM 公钥 / not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(path, "", "不是 Ed25519 公钥 / not an Ed25519 public key")
    return key


def settings(config: CloudConfig) -> EvidenceAnchor:
    if config.evidence is None:
        raise ConfigError(config.file, "evidence", "配置中没有 evidence 段 / the config has no 'evidence:' section "
                          "(signing_key, checkpoints)")
    return config.evidence


# -- writing ------------------------------------------------------------------------------


def append_line(path: str, checkpoint: Checkpoint) -> None:
    """One line, appended whole (one ``write`` under an exclusive lock: several workers may share the file),
    and flushed to the disk."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (checkpoint.json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def sign_head(engine: Engine, signer: Signer, path: str, at: int,
              last: tuple[int, str] | None = None) -> Checkpoint | None:
    """Signs the committed head unless it is ``last``; writes the checkpoint to the table, then the file."""
    with db.write(engine) as conn:
        head = evidence.head(conn)
        if head is None or head == last:
            return None
        checkpoint = signer.sign(head[0], head[1], at)
        conn.execute(insert(evidence_checkpoints).values(seq=checkpoint.seq, hash=checkpoint.hash, at=at,
                                                         key_id=checkpoint.key_id, signature=checkpoint.signature))
    try:
        append_line(path, checkpoint)
    except OSError as exc:
        raise StorageError("无法写入检查点文件", f"cannot append to the checkpoint file {path}: {exc.strerror}") from exc
    return checkpoint


class Checkpointer:
    """This process's thread: signs the head every ``checkpoint_seconds`` when it moved, and once at the end.
    A failure (database away, file not writable) is logged, counted, shown on /healthz and tried again."""

    def __init__(self, engine: Engine, config: CloudConfig, clock: Callable[[], int]) -> None:
        self.settings = settings(config)
        self.signer = Signer(config)  # a bad key stops the start, not the thread later
        self.engine, self.clock = engine, clock
        self.last: Checkpoint | None = None
        self.failures = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sebiao-cloud-checkpoints", daemon=True)

    def start(self) -> "Checkpointer":
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def round(self) -> None:
        last = (self.last.seq, self.last.hash) if self.last else None
        try:
            self.last = sign_head(self.engine, self.signer, self.settings.checkpoints, self.clock(), last) or self.last
            self.last_error = None
        except StorageError as exc:
            self.failures += 1
            self.last_error = str(exc)
            log.error("evidence checkpoint: %s", exc)

    def health(self) -> dict:
        return {"evidence_checkpoints": {"running": self._thread.is_alive(), "failures": self.failures,
                                         "last_error": self.last_error,
                                         "seq": self.last.seq if self.last else None,
                                         "at": self.last.at if self.last else None}}

    def _run(self) -> None:
        while not self._stop.wait(self.settings.checkpoint_seconds):
            self.round()
        self.round()  # the head as it is at shutdown


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Found:
    """One checkpoint as read, with where it was read (``file:line`` or ``evidence_checkpoints id N``)."""

    where: str
    checkpoint: Checkpoint | None  # None: the line is not a checkpoint
    torn: bool = False  # the file's last line, without its newline: a write cut short by a crash


def read_file(path: str) -> Iterator[Found]:
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ConfigError(path, "", f"无法读取检查点文件 / cannot read the checkpoint file: {exc.strerror}") from exc
    with f:
        for number, raw in enumerate(f, 1):
            torn = not raw.endswith(b"\n")
            yield Found(where=f"{path}:{number}", checkpoint=_parse(raw), torn=torn)


def _parse(raw: bytes) -> Checkpoint | None:
    try:
        doc = strict_json.loads(raw)
        if doc["origin"] != ORIGIN:
            return None
        seq, at = doc["seq"], doc["at"]
        if not (type(seq) is int and type(at) is int):
            return None
        return Checkpoint(seq=seq, hash=str(doc["hash"]), at=at, key_id=str(doc["key"]), signature=str(doc["sig"]))
    except (ValueError, KeyError, TypeError):
        return None
