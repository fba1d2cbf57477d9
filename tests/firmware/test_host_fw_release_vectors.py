"""The signed release vectors the firmware tests use under MicroPython (tests/vectors/release_v1.json)
are what ``cryptography`` says they are: a valid RSASSA-PKCS1-v1_5 SHA-256 signature by the listed
RSA-2048 key over the manifest, whose files have the listed sizes and hashes; the other signatures
are not valid. Regenerate with ``python tests/support/release_signing.py``."""

import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from release_signing import VECTORS


def _public(vec):
    return rsa.RSAPublicNumbers(vec["key"]["e"], int(vec["key"]["n"], 16)).public_key()


def test_release_vectors_are_true():
    vec = json.loads(VECTORS.read_text())
    key = _public(vec)
    assert key.key_size == 2048 and vec["key"]["e"] == 65537 and len(vec["key"]["n"]) == 512
    manifest = vec["manifest"].encode()
    key.verify(bytes.fromhex(vec["sig"]), manifest, padding.PKCS1v15(), hashes.SHA256())
    for sig, data in ((vec["other_key_sig"], manifest), (vec["sig"], vec["tampered_manifest"].encode())):
        with pytest.raises(InvalidSignature):
            key.verify(bytes.fromhex(sig), data, padding.PKCS1v15(), hashes.SHA256())
    listed = json.loads(manifest)
    assert listed["v"] == 1 and listed["version"] == vec["version"]
    assert {f["path"]: (f["size"], f["sha256"]) for f in listed["files"]} == {
        p: (len(b.encode()), hashlib.sha256(b.encode()).hexdigest()) for p, b in vec["files"].items()}
