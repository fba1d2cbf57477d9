"""The gateway's own Ed25519 signing key, in its data dir: made once, never overwritten.

Every batch the cloud push sends is signed with it (``sebiao_common.batch_signature``);
the cloud knows only the public key, registered with the gateway's token. So the
cloud, or whoever holds its database, cannot make a batch this gateway did not
send. The key is made at the gateway's first start, or before it by
``sebiao gateway-key --data-dir DIR`` (which prints the public key for the
admin to paste), as ``gateway-signing-key.pem`` (PKCS#8 PEM, mode 0600). An
existing file is never replaced: a new key would need registering anew, and
the batches signed with the old one verify only with the old public key. A
file that is not an Ed25519 key, or that others may read, stops the start with
one line naming it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from edge_gateway.errors import StoreError
from sebiao_common import strict_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "gateway-signing-key.pem"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load_or_create(data_dir: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The data dir's key, made first if there is none; True when it was made now."""
    path = key_path(data_dir)
    if not os.path.lexists(path):
        try:
            _create(path)
            return load(data_dir), True
        except FileExistsError:
            pass  # made meanwhile by another process: read that one
    return load(data_dir), False


def load_or_create_apart(data_dir: Path) -> tuple[str, bool]:
    """``load_or_create`` in a forked child: the key's public text and whether it was made now; the same
    StoreError when the file is refused. A gateway without a cloud signs nothing, yet makes and checks its key
    at every start (so it is there to register, and a damaged file is named at once); cryptography then stays
    out of the gateway's memory, where it costs 11 MB resident."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read)
            _answer(write, data_dir)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    if not answer:
        raise StoreError(f"{key_path(data_dir)}: 检查签名密钥的子进程没有回答 / the check of the signing key ended "
                         "without an answer")
    kind, text, made = strict_json.loads(answer)
    if kind != "ok":
        raise StoreError(text)
    return text, made


def _answer(fd: int, data_dir: Path) -> None:
    from sebiao_common.batch_signature import public_text

    try:
        key, made = load_or_create(data_dir)
        answer = ["ok", public_text(key.public_key()), made]
    except StoreError as exc:
        answer = ["error", str(exc), False]
    except Exception as exc:  # noqa: BLE001 - the parent names it; a child has no one else to tell
        answer = ["error", f"{key_path(data_dir)}: {type(exc).__name__}: {exc}", False]
    data = strict_json.dumps(answer, ensure_ascii=False).encode()
    while data:
        data = data[os.write(fd, data):]


def load(data_dir: Path) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path(data_dir)
    try:
        mode = os.stat(path).st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: 无法读取网关签名密钥 / cannot read the gateway's signing key: "
                         f"{exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StoreError(f"{path}: 权限 {stat.S_IMODE(mode):o} 允许他人访问，请 chmod 600 / mode "
                         f"{stat.S_IMODE(mode):o} is open to others: chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise StoreError(f"{path}: 不是未加密的 PEM 私钥 / not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise StoreError(f"{path}: 不是 Ed25519 私钥 / not an Ed25519 private key")
    return key


def _create(path: Path) -> None:
    """Writes a new key with O_EXCL (never over another file), 0600 whatever the umask."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise
    except OSError as exc:
        raise StoreError(f"{path}: 无法写入网关签名密钥 / cannot write the gateway's signing key: "
                         f"{exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)
