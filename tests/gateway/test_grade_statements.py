"""The gateway shows only the grade the cloud signed: forged, foreign and replayed statements are refused.

Real parts: Mosquitto, the gateway process (``sebiao gateway``) and a real HTTP server on loopback standing
in for the cloud's ``GET /api/v1/grade``, which answers whatever the test puts there, signed with the cloud's
key, another key, or not signed at all. The real cloud's side is ``tests/cloud/test_grades_e2e.py``.
"""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_proc import GatewayProcess, write_config
from scripted_http import send_json
from servers import example_config

from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.cloud.config import cloud_settings
from sebiao_common.errors import ConfigError
from sebiao_common.grade_statement import GradeStatement, key_id

pytestmark = pytest.mark.slow
TOKEN = "sbg_" + "g" * 30
T = int(time.time() * 1000)  # statements signed now: the display shows only a grade the cloud confirmed lately


class StatementServer:
    """``GET /api/v1/grade``: answers ``self.answer`` (status, JSON body); counts the requests with the token."""

    def __init__(self) -> None:
        owner = self
        self.answer: tuple[int, object] = (404, {"error": "监管部门尚未发布本作坊的等级 / none yet"})
        self.asked = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path != "/api/v1/grade" or self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, body = 401, {"error": "bad token"}
                else:
                    status, body = owner.answer
                    owner.asked += 1
                send_json(self, status, body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signed(key: Ed25519PrivateKey, *, workshop: str, grade: str, effective: str, seq: int,
           kid: str | None = None, issued_at: int | None = None) -> dict:
    s = GradeStatement(workshop=workshop, grade=grade, effective=effective, seq=seq,
                       issued_at=T + seq if issued_at is None else issued_at)
    return s.wire(kid or key_id(key.public_key()), base64.b64encode(key.sign(s.note())).decode())


def _pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def published_key(tmp_path: Path) -> Ed25519PrivateKey:
    """A new signing key of the cloud, its public half in ``tmp_path/cloud.pub`` (the gateway's ``public_key``)."""
    key = Ed25519PrivateKey.generate()
    (tmp_path / "cloud.pub").write_text(_pem(key))
    return key


def test_forged_foreign_and_replayed_statements_are_refused_and_counted(mosquitto, tmp_path: Path) -> None:
    cloud_key, other_key = published_key(tmp_path), Ed25519PrivateKey.generate()
    ws = example_config().workshop.id
    server = StatementServer()
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud={
        "url": server.url, "token": TOKEN, "public_key": "cloud.pub", "grade_poll_seconds": 2,
        "timeout_seconds": 2, "retry_max_seconds": 1})
    gateway = GatewayProcess(config, tmp_path / "data").start()

    def shown() -> dict:
        return gateway.get("/display/data.json").json()["workshop"]

    def fetched_again() -> None:
        before = server.asked
        gateway.wait_for(lambda: server.asked >= before + 2, timeout=15, what="two more fetches")

    def refused(reason: str) -> float:
        return gateway.metric("sebiao_grade_statements_refused_total", f'reason="{reason}"')

    try:
        gateway.wait_for(lambda: server.asked >= 1, timeout=15, what="the fetch at start")
        none = shown()
        assert none["grade"] is None and none["grade_zh"] == "等级由监管部门发布，暂无"
        assert none["grade_en"] == "Grade published by the regulator: none yet"
        assert gateway.get("/healthz").json()["sinks"]["grade"]["last_error"] is None  # 404: nothing yet

        server.answer = (404, ["Not Found"])  # not the cloud's answer: an older cloud, or a wrong url
        gateway.wait_for(lambda: "is not found" in (gateway.get("/healthz").json()["sinks"]["grade"]["last_error"]
                                                    or ""), timeout=15, what="a foreign 404 named")

        server.answer = (200, signed(cloud_key, workshop=ws, grade="gold", effective="2025-11-20", seq=5))
        gateway.wait_for(lambda: shown()["grade"] == "gold", timeout=15, what="the gold grade shown")
        assert shown()["grade_effective"] == "2025-11-20" and shown()["grade_zh"] == "金榜"

        attacks = [
            ("key", signed(other_key, workshop=ws, grade="orange", effective="2025-11-26", seq=9)),
            ("signature", signed(other_key, workshop=ws, grade="orange", effective="2025-11-26", seq=9,
                                 kid=key_id(cloud_key.public_key()))),  # the cloud's key id, another key's signature
            ("signature", {**signed(cloud_key, workshop=ws, grade="gold", effective="2025-11-20", seq=9),
                           "grade": "orange"}),  # a genuine statement, its grade changed
            ("workshop", signed(cloud_key, workshop="ws-next-door", grade="orange", effective="2025-11-26", seq=9)),
            ("older", signed(cloud_key, workshop=ws, grade="orange", effective="2025-11-01", seq=3)),  # replayed
            ("older", signed(cloud_key, workshop=ws, grade="orange", effective="2025-11-20", seq=5)),  # same seq
            ("malformed", {"grade": "orange"}),
        ]
        for reason, doc in attacks:
            before = refused(reason)
            server.answer = (200, doc)
            gateway.wait_for(lambda: refused(reason) > before, timeout=15, what=f"a refusal ({reason})")
            assert shown()["grade"] == "gold", reason  # the verified grade stays
            error = gateway.get("/healthz").json()["sinks"]["grade"]["last_error"]
            assert error and f"({reason})" in error
        assert gateway.count("grade_statements") == 1

        server.answer = (200, signed(cloud_key, workshop=ws, grade="gold", effective="2025-11-20", seq=5))
        fetched_again()  # the one kept, signed again: nothing new, nothing wrong
        assert gateway.get("/healthz").json()["sinks"]["grade"]["last_error"] is None

        server.answer = (200, signed(cloud_key, workshop=ws, grade="bronze", effective="2025-11-26", seq=6))
        gateway.wait_for(lambda: shown()["grade"] == "bronze", timeout=15, what="the 降榜 shown")
        assert shown()["grade_effective"] == "2025-11-26"
        assert gateway.metric("sebiao_grade_statements_verified_total") == 2

        gateway.stop()  # what was verified is kept across a restart, and shown before the cloud answers
        server.answer = (503, {"error": "down"})
        gateway.start()
        assert shown()["grade"] == "bronze"
        fetched_again()
        assert "503" in gateway.get("/healthz").json()["sinks"]["grade"]["last_error"]
    finally:
        gateway.stop()
        server.close()


def _config(tmp_path: Path, **cloud: object):  # type: ignore[no-untyped-def]
    import yaml

    data = yaml.safe_load((Path(__file__).parents[2] / "examples" / "workshop.yaml").read_text("utf-8"))
    data["cloud"] = {"url": "http://127.0.0.1:9", "token": TOKEN, **cloud}
    return parse_config(data, str(tmp_path / "workshop.yaml"))


@pytest.mark.parametrize("value, reason", [
    ("missing.pub", "cannot read"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
    ("rsa.pub", "not an Ed25519 public key"),
])
def test_a_malformed_public_key_is_a_config_error(tmp_path: Path, value: str, reason: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "rsa.pub").write_bytes(rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ConfigError) as info:
        cloud_settings(_config(tmp_path, public_key=value))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'workshop.yaml'}: cloud.public_key: 不是云端的 Ed25519 公钥"), message
    assert reason in message


def test_a_public_key_inline_or_in_a_file_is_taken(tmp_path: Path) -> None:
    key = published_key(tmp_path)
    for value in ("cloud.pub", _pem(key)):
        settings = cloud_settings(_config(tmp_path, public_key=value))
        assert settings is not None and settings.public_key is not None
        assert key_id(settings.public_key) == key_id(key.public_key())
    assert cloud_settings(_config(tmp_path)).public_key is None  # no key: no grade fetched, none shown
