"""PostgreSQL with docs/cloud-ingest.md's two roles: the owner migrates, the workers' role owns nothing.

Against a real PostgreSQL: ``sebiao cloud migrate --grant-to`` as the owner;
then a real ``sebiao cloud`` process logged in as the workers' role ingests,
reviews, rectifies, drains to a real VictoriaMetrics and signs checkpoints,
and ``verify`` passes under that role; and that role's attempts to switch the
evidence guard off, or to change or remove evidence, are refused by PostgreSQL.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import SECRET, Cloud, world_batches
from cloud_server import CloudServer
from gateway_keys import gateway_token
from notify_receiver import NotifyReceiver
from PIL import Image
from servers import ROOT

from cloud_ingest.store import db, evidence, roles
from sebiao.cli import main

pytestmark = pytest.mark.slow

DOCS = ROOT / "docs" / "cloud-ingest.md"


def test_the_documented_grants_are_the_ones_migrate_gives() -> None:
    text = DOCS.read_text()
    block = re.search(r"```sql\n-- sebiao cloud migrate --grant-to sebiao_app\n(.*?)```", text, re.S)
    assert block, "docs/cloud-ingest.md shows the grants of `migrate --grant-to sebiao_app`"
    assert [line.rstrip(";") for line in block.group(1).strip().splitlines()] == roles.grant_sql("sebiao_app")


def test_every_table_says_what_the_workers_may_do() -> None:
    roles.grant_sql("sebiao_app")  # raises when a table of the schema has no line in roles.PRIVILEGES


def test_the_workers_role_runs_the_cloud_and_cannot_touch_the_evidence(pg_roles, victoria_metrics, capsys,
                                                                         tmp_path: Path) -> None:
    owner_config = tmp_path / "owner.yaml"
    owner_config.write_text(yaml.safe_dump({"database": {"url": pg_roles.url(pg_roles.owner)},
                                            "session_secret": SECRET}))
    done = subprocess.run([sys.executable, "-m", "sebiao", "cloud", "migrate", "--config", str(owner_config),
                           "--grant-to", pg_roles.app], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"granted {pg_roles.app}" in done.stdout

    app_url = pg_roles.url(pg_roles.app)
    # as the workers' role: the schema is current, so start-up needs no DDL; the server below runs on the
    # real clock, so the tokens are made at the real time
    cloud = Cloud(app_url, now=int(time.time() * 1000))
    tokens = cloud.tenants()
    cloud.client.close()
    cloud.engine.dispose()
    vm = victoria_metrics()
    office = NotifyReceiver()  # the district office's webhook: notify_outbox written, claimed, marked
    server = CloudServer(
        tmp_path, app_url, influx={"url": vm.url, "database": "sebiao", "retry_max_seconds": 1},
        notify={"districts": {"d1": {"digest_at": "00:00", "channels": [
            {"name": "office", "kind": "webhook", "url": f"{office.base}/in"}]}}},
        evidence={"signing_key": str(tmp_path / "evidence.key"),
                  "checkpoints": str(tmp_path / "checkpoints.jsonl"), "checkpoint_seconds": 0.2})
    assert main(["cloud", "keygen", "--config", str(server.config_path)]) == 0
    with server:
        for gateway, _, doc in world_batches():
            assert server.push(tokens[gateway], doc).status_code == 200
        alarm_id = next(a["id"] for a in server.get(tokens["insp1"], "/api/v1/alarms").json()
                        if a["workshop"] == "ws-a")
        assert server.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/ack", {"note": "已核实"}).status_code == 200
        r = server.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications",
                        {"note": "请说明整改措施", "due": int(time.time() * 1000) + 86_400_000})
        assert r.status_code == 201, r.text
        rect = r.json()["id"]
        assert server.post(tokens["owner-a"], f"/api/v1/rectifications/{rect}/answer",
                           {"action": "已消毒"}).status_code == 200
        assert server.post(tokens["insp1"], f"/api/v1/rectifications/{rect}/accept", {}).status_code == 200
        assert server.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/clear", {"note": "已整改"}).status_code == 200
        issued = server.post(tokens["admin"], "/api/v1/admin/tokens", gateway_token("ws-b"))
        assert issued.status_code == 201, issued.text
        assert server.post(tokens["admin"], f"/api/v1/admin/tokens/{issued.json()['id']}/revoke").status_code == 200
        graded = server.post(tokens["insp1"], "/api/v1/workshops/ws-a/grade",
                             {"grade": "silver", "effective": "2025-11-20", "reason": "年度评定"})
        assert graded.status_code == 201, graded.text  # the grading's lock and rows, as the workers' role
        assert server.get(tokens["gw-ws-a"], "/api/v1/grade").json()["grade"] == "silver"
        assert server.get(None, "/api/v1/public/workshops/ws-a/grades").status_code == 200
        rotated = server.post(tokens["admin"], "/api/v1/admin/workshops/ws-a/public-page/rotate")
        assert rotated.status_code == 200, rotated.text  # the public address replaced, as the workers' role
        assert httpx.get(rotated.json()["url"]).status_code == 200
        report = server.get(tokens["insp1"], "/api/v1/workshops/ws-a/report?from=2025-11-20&to=2025-11-30")
        assert report.status_code == 200, report.text
        _ledger_and_plan(server, tokens)  # their rows, photos and steps, as the workers' role
        engine = db.make_engine(app_url)
        try:
            def signed() -> bool:
                health = server.health()
                with db.read(engine) as conn:
                    head = evidence.head(conn)
                return health is not None and health["influx_outbox"]["depth"] == 0 and head is not None \
                    and health["evidence_checkpoints"]["seq"] == head[0] and not health["evidence_checkpoints"]["failures"]
            server.wait_for(signed, 30, "the outbox drained and the head signed, as the workers' role")
        finally:
            engine.dispose()
        office.wait_for(2)  # ws-a's critical alarm and d1's digest, sent as the workers' role
        server.stop()
    assert vm.export("tool_event_seq")  # the drain's FOR UPDATE and DELETE were allowed
    assert sorted(r.body["id"].split(":")[0] for r in office.accepted()) == ["digest", "ws-a"]
    office.stop()
    assert main(["cloud", "verify", "--config", str(server.config_path)]) == 0
    assert "verdict: evidence chain intact" in capsys.readouterr().out

    refused = [
        ("ALTER TABLE evidence_log DISABLE TRIGGER evidence_log_append_only", "must be owner of"),
        ("ALTER TABLE evidence_log DISABLE TRIGGER USER", "must be owner of"),
        ("DROP TRIGGER evidence_log_append_only ON evidence_log", "must be owner of"),
        ("ALTER TABLE evidence_log OWNER TO CURRENT_USER", "must be owner of"),
        ("DROP TABLE evidence_log", "must be owner of"),
        ("UPDATE evidence_log SET body = '{}' WHERE seq = 1", "permission denied for table evidence_log"),
        ("DELETE FROM evidence_log WHERE seq = 10", "permission denied for table evidence_log"),
        ("TRUNCATE evidence_log", "permission denied for table evidence_log"),
        ("DELETE FROM evidence_checkpoints", "permission denied for table evidence_checkpoints"),
        ("ALTER TABLE evidence_checkpoints DISABLE TRIGGER USER", "must be owner of"),
        ("UPDATE events SET tool = 'KN-W-01'", "permission denied for table events"),
        ("DELETE FROM alarm_transitions", "permission denied for table alarm_transitions"),
        ("UPDATE inspector_notes SET note = '无异常'", "permission denied for table inspector_notes"),
        ("UPDATE rectification_steps SET text = '无'", "permission denied for table rectification_steps"),
        ("UPDATE ledger_steps SET text = '无'", "permission denied for table ledger_steps"),
        ("UPDATE ledger_photos SET data = ''", "permission denied for table ledger_photos"),
        ("DELETE FROM ledger_items", "permission denied for table ledger_items"),
        ("UPDATE workshop_grades SET grade = 'gold'", "permission denied for table workshop_grades"),
        ("DELETE FROM workshop_grades", "permission denied for table workshop_grades"),
        ("CREATE TABLE shadow (x int)", "permission denied for schema public"),
        ("ALTER FUNCTION evidence_log_append_only() RENAME TO gone", "must be owner of"),
    ]
    with pg_roles.connect(pg_roles.app) as conn:
        for sql, words in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                conn.execute(sql)
            assert words in str(caught.value), (sql, str(caught.value))


def _ledger_and_plan(server, tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    r = server.post(tokens["insp1"], "/api/v1/ledger/items", {"workshop": "ws-a", "text": "抹布未分色"})
    assert r.status_code == 201, r.text
    item = r.json()["id"]
    r = server.post(tokens["owner-a"], f"/api/v1/ledger/items/{item}/answer",
                    {"text": "已更换", "photos": [{"type": "image/png", "data": base64.b64encode(png.getvalue()).decode()}]})
    assert r.status_code == 200, r.text
    assert server.post(tokens["insp1"], f"/api/v1/ledger/items/{item}/close", {}).status_code == 200
    assert server.post(tokens["insp1"], "/api/v1/workshops/ws-a/plan", {"summary": "升铜榜"}).status_code == 200
    r = server.post(tokens["insp1"], "/api/v1/workshops/ws-a/plan/goals",
                    {"text": "色标化", "target": "2026-11-30", "items": [item]})
    assert r.status_code == 201, r.text
    goal = r.json()["goals"][0]["id"]
    assert server.post(tokens["insp1"], f"/api/v1/plan-goals/{goal}", {"met": True}).status_code == 200
    progress = server.get(tokens["owner-a"], "/api/v1/workshops/ws-a/plan").json()["progress"]
    assert (progress["items_closed"], progress["goals_met"]) == (2, 1)  # this item and the accepted rectification
