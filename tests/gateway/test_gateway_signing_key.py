"""The gateway's signing key (``edge_gateway/store/signing_key.py``) with the real ``sebiao gateway`` and
``sebiao gateway-key``: made once, private, never replaced; a file that is not an Ed25519 key stops both with
one line naming it, and is left as it was."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import ROOT

from sebiao_common import batch_signature

pytestmark = pytest.mark.slow
KEY = "gateway-signing-key.pem"


def _public(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return batch_signature.public_text(key.public_key())  # type: ignore[arg-type]


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sebiao", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_the_gateway_makes_its_key_once_and_keeps_it(tmp_path, mosquitto):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "workshop.yaml", mosquitto())
    data = tmp_path / "data"
    gateway = GatewayProcess(config, data).start()  # first start, no key yet: it makes one
    # without a cloud the key is made and checked in a child: cryptography (11 MB) is not in the gateway
    assert "cryptography" not in Path(f"/proc/{gateway.proc.pid}/maps").read_text()
    gateway.stop()
    key = data / KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    made = key.read_bytes()
    assert _public(key) in gateway.log()  # the log says what to register
    assert gateway_key_command(data) == _public(key)  # the command shows the same key
    GatewayProcess(config, data).start().stop()
    assert key.read_bytes() == made  # never replaced


@pytest.mark.parametrize("content, words", [
    (b"not a key\n", "not an unencrypted PEM private key"),
    (X25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), "not an Ed25519 private key"),
])
def test_a_file_that_is_not_the_key_stops_start_up(tmp_path, mosquitto, content: bytes, words: str):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "workshop.yaml", mosquitto())
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    key = data / KEY
    key.write_bytes(content)
    key.chmod(0o600)
    before = hashlib.sha256(content).hexdigest()
    for result in (_run("gateway", "--config", str(config), "--data-dir", str(data), "--http", "127.0.0.1:0"),
                   _run("gateway-key", "--data-dir", str(data))):
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(key) in lines[0] and words in lines[0], result.stderr
    assert hashlib.sha256(key.read_bytes()).hexdigest() == before


def test_the_command_refuses_a_key_others_may_read(tmp_path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    gateway_key_command(data)
    (data / KEY).chmod(0o644)
    result = _run("gateway-key", "--data-dir", str(data))
    assert result.returncode == 2 and "chmod 600" in result.stderr and "644" in result.stderr, result.stderr
