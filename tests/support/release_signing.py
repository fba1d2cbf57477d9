"""Signed firmware releases for the station's tests, built exactly as docs/fleet.md says (the
gateway's own builder lives in edge_gateway/fleet/; this one is independent of it on purpose, so
the two meet only at the contract): ``manifest.json``, ``manifest.sig`` (RSASSA-PKCS1-v1_5,
SHA-256, RSA-2048, e = 65537, made with ``cryptography``), ``files/<path>``.

    key = new_key()
    build_release(tmp / "rel", "0.2.0", firmware_files("0.2.0"), key)
    (flash / "release_key.json").write_text(public_json(key))

``python tests/support/release_signing.py`` writes tests/vectors/release_v1.json, the signed
vectors the firmware tests read under MicroPython (which has no ``cryptography``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "release_v1.json"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_dict(key: rsa.RSAPrivateKey) -> dict:
    numbers = key.public_key().public_numbers()
    return {"e": numbers.e, "n": "%0512x" % numbers.n}


def public_json(key: rsa.RSAPrivateKey) -> str:
    return json.dumps(public_dict(key), separators=(",", ":"))


def sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def manifest(version: str, files: dict[str, bytes]) -> bytes:
    listed = [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in files.items()]
    return json.dumps({"v": 1, "version": version, "files": listed}, separators=(",", ":")).encode()


def build_release(out: Path, version: str, files: dict[str, bytes], key: rsa.RSAPrivateKey) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    data = manifest(version, files)
    (out / "manifest.json").write_bytes(data)
    (out / "manifest.sig").write_bytes(sign(key, data))
    for p, b in files.items():
        (out / "files" / p).parent.mkdir(parents=True, exist_ok=True)
        (out / "files" / p).write_bytes(b)
    return out


def firmware_files(version: str, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The repository's sebiao_station as release files, its VERSION set to ``version``."""
    src = ROOT / "firmware" / "sebiao_station"
    files = {}
    for f in sorted(src.rglob("*.py")):
        data = f.read_bytes()
        if f.name == "__init__.py" and f.parent == src:
            data = re.sub(rb'VERSION = "[^"]*"', b'VERSION = "%s"' % version.encode(), data)
        files["sebiao_station/" + f.relative_to(src).as_posix()] = data
    files.update(extra or {})
    return files


def make_vectors() -> dict:
    key, other = new_key(), new_key()
    files = {"sebiao_station/__init__.py": 'VERSION = "0.2.0"\n',
             "sebiao_station/app.py": "# the new app\n" + "x = 1\n" * 300,
             "sebiao_station/readers/__init__.py": "# readers\n"}
    data = manifest("0.2.0", {p: b.encode() for p, b in files.items()})
    sig = sign(key, data)
    tampered = data.replace(b'"0.2.0"', b'"0.2.1"')
    return {"comment": "signed with cryptography by tests/support/release_signing.py; see fwrelease.py",
            "key": public_dict(key), "version": "0.2.0", "files": files, "manifest": data.decode(),
            "sig": sig.hex(), "other_key_sig": sign(other, data).hex(), "tampered_manifest": tampered.decode()}


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(make_vectors(), indent=1) + "\n")
    print("wrote", VECTORS)
