"""Test gateways' signing keys: one fixed Ed25519 key per workshop, so any test can sign what it pushes.

``public(ws)`` is what an admin registers with ws's gateway token; ``signature_headers(body)`` signs
a batch as that workshop's gateway would (``sebiao_common.batch_signature``), reading the workshop and
batch id from the body (gzip or not). A body that is not a batch gets no signature: the cloud refuses
it for what it is before it looks for one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sebiao_common import batch_signature


def key(workshop: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sebiao test gateway " + workshop.encode()).digest())


def public(workshop: str) -> str:
    return batch_signature.public_text(key(workshop).public_key())


def gateway_token(workshop: str, **more: object) -> dict:
    """The body of ``POST /api/v1/admin/tokens`` for ws's gateway, its key registered."""
    return {"kind": "gateway", "workshop": workshop, "public_key": public(workshop), **more}


def inflated(body: bytes) -> bytes | None:
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return None


def signature_headers(body: bytes, signer: Ed25519PrivateKey | None = None) -> dict[str, str]:
    """``{X-Sebiao-Signature: …}`` for this body (gzip or inflated), signed by its workshop's test key or
    ``signer``; ``{}`` when the body is not a batch."""
    raw = inflated(body) or body
    try:
        doc = json.loads(raw)
        workshop, batch = doc["workshop"], doc["batch"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return {}
    if not isinstance(workshop, str) or not isinstance(batch, str):
        return {}
    return {batch_signature.HEADER: batch_signature.sign(signer or key(workshop), workshop, batch, raw)}


def signed(inflated: bytes):  # type: ignore[no-untyped-def]
    """What ``ingest.storing.store_batch`` takes of a request: this batch signed by its workshop's test key, its
    body gzipped as the gateway sends it (for tests that store without HTTP)."""
    from cloud_ingest.ingest.signature import Signed

    return Signed(header=signature_headers(inflated).get(batch_signature.HEADER), body=gzip.compress(inflated))


def gateway_key_command(data_dir: Path) -> str:
    """``sebiao gateway-key --data-dir DIR`` run as the installer runs it: the public key line it prints (the key
    made in the data dir if it was not there)."""
    from servers import ROOT

    done = subprocess.run([sys.executable, "-m", "sebiao", "gateway-key", "--data-dir", str(data_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]
