"""End to end, on SQLite and PostgreSQL: an inspector sets the grade in the real cloud, the real gateway fetches
the signed statement and its display, in headless Chromium, shows the grade and its date; then a 降榜.

Real parts: the cloud process (``sebiao cloud``, with ``evidence:`` configured: its key signs the statements),
Mosquitto, the gateway process (``sebiao gateway``) with ``cloud.public_key`` the cloud's ``KEY.pub``, and
Debian's Chromium on the display and on the cloud's public pages.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_keys import gateway_key_command
from gateway_proc import GatewayProcess, write_config
from servers import example_config
from web_browser import TV, browser, open_page, screenshot

from cloud_ingest.access import admin
from cloud_ingest.review.grades import today

pytestmark = pytest.mark.slow


def _keys(tmp: Path) -> Path:
    """The cloud's evidence key (0600) and ``KEY.pub``, as ``sebiao cloud keygen`` writes them."""
    key = Ed25519PrivateKey.generate()
    private = tmp / "evidence.key"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    os.chmod(private, 0o600)
    public = tmp / "evidence.key.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private


def test_the_display_shows_the_grade_the_inspector_published(cloud_url: str, mosquitto, tmp_path: Path) -> None:
    ws = example_config().workshop.id
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))  # the process runs on the real clock: tokens expire
    tokens = cloud.tenants()
    cloud.as_admin(admin.create_workshop, {"id": ws, "name": "示例凉皮作坊", "district": "d1"}, cloud.now)
    public_key = gateway_key_command(tmp_path / "data")  # the gateway's signing key, as the installer makes it
    gateway_token = cloud.as_admin(admin.issue_token, {"kind": "gateway", "workshop": ws, "public_key": public_key},
                                   cloud.now)["token"]
    key = _keys(tmp_path)
    server = CloudServer(tmp_path, cloud_url, evidence={
        "signing_key": str(key), "checkpoints": str(tmp_path / "checkpoints.jsonl"), "checkpoint_seconds": 1})
    server.start()
    config = write_config(tmp_path / "w.yaml", mosquitto(), cloud={
        "url": server.url, "token": gateway_token, "public_key": str(key) + ".pub", "grade_poll_seconds": 2,
        "linger_seconds": 0, "timeout_seconds": 2, "retry_max_seconds": 1})
    gateway = GatewayProcess(config, tmp_path / "data").start()
    day = today(int(time.time() * 1000))
    try:
        with browser() as chrome:
            display = open_page(chrome, gateway.base + "/display", TV)
            display.wait_rendered()
            assert "等级由监管部门发布，暂无" in display.text_content("#grade")  # nothing published yet
            assert display.get_attribute("#grade", "data-grade") == ""

            r = server.post(tokens["insp1"], f"/api/v1/workshops/{ws}/grade",
                            {"grade": "gold", "effective": day, "reason": "年度评定：色标管理规范"})
            assert r.status_code == 201, r.text
            display.wait_for_function("() => document.querySelector('#grade').dataset.grade === 'gold'",
                                      timeout=20_000)
            text = display.text_content("#grade")
            assert "金榜" in text and f"{day} 起生效" in text and "监管部门" in text
            screenshot(display, "display-grade-gold", full_page=False)

            r = server.post(tokens["insp1"], f"/api/v1/workshops/{ws}/grade",
                            {"grade": "orange", "effective": day, "reason": "复查发现生熟砧板混用"})
            assert r.status_code == 201, r.text
            display.wait_for_function("() => document.querySelector('#grade').dataset.grade === 'orange'",
                                      timeout=20_000)
            assert "橙榜" in display.text_content("#grade")
            display.click("#lang")
            assert "Orange list" in display.text_content("#grade") and f"since {day}" in display.text_content("#grade")
            assert display.errors == []

            public = open_page(chrome, server.url + f"/public/workshops/{ws}", TV)  # no login
            rows = public.eval_on_selector_all("#grade-history tbody tr", "els => els.map(e => e.dataset.direction)")
            assert rows == ["down", "first"]
            assert "降榜" in public.text_content("#grade-history") and "复查发现生熟砧板混用" in public.text_content(
                "#grade-history")
            screenshot(public, "cloud-public-grade")
            district = open_page(chrome, server.url + "/public/districts/d1", TV)
            assert "示例凉皮作坊" in district.text_content("#district-grades")
        stored = gateway.rows("SELECT grade, effective FROM grade_statements ORDER BY seq")
        assert stored == [("gold", day), ("orange", day)]
        assert gateway.get("/healthz").json()["sinks"]["grade"]["last_error"] is None
    finally:
        gateway.stop()
        server.stop()
        cloud.client.close()
        cloud.engine.dispose()
