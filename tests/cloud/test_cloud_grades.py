"""The regulator's grades (分级定榜) on SQLite and PostgreSQL: who may set one, the 升榜/降榜 history, what is
public, the evidence entry, and the statement the gateway fetches, signed.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a (``Cloud.tenants``).
The cloud's clock is T0 (2025-11-26, China Standard Time).
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud, unguard
from sqlalchemy import select, text
from starlette.testclient import TestClient

from cloud_ingest.app import build_app
from cloud_ingest.config import EvidenceAnchor
from cloud_ingest.errors import Conflict, StorageError
from cloud_ingest.store import anchor, coverage, db, evidence
from cloud_ingest.store.schema import evidence_log
from sebiao_common.grade_statement import StatementRefused, load_public_key, verify

REASON = "2025 年度量化分级评定：色标管理规范，无跨区混用"


@pytest.fixture
def signed(cloud: Cloud, tmp_path):  # type: ignore[no-untyped-def]
    """The cloud with an evidence signing key: it signs grade statements too."""
    cloud.config = dataclasses.replace(cloud.config, evidence=EvidenceAnchor(
        signing_key=str(tmp_path / "evidence.key"), checkpoints=str(tmp_path / "checkpoints.jsonl")))
    anchor.generate(cloud.config)
    cloud.client = TestClient(build_app(cloud.engine, cloud.config, lambda: cloud.now))
    tokens = cloud.tenants()
    return cloud, tokens, load_public_key(str(tmp_path / "evidence.key.pub"), tmp_path)


def _grade(cloud: Cloud, token: str | None, ws: str, grade: str, effective: str, reason: str = REASON):  # type: ignore[no-untyped-def]
    return cloud.post(token, f"/api/v1/workshops/{ws}/grade",
                      {"grade": grade, "effective": effective, "reason": reason})


def test_an_inspector_grades_the_history_is_kept_and_published(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    first = _grade(cloud, tokens["insp1"], "ws-a", "silver", "2025-11-01")
    assert first.status_code == 201, first.text
    assert first.json()["direction"] == "first" and first.json()["grade_zh"] == "银榜"
    assert _grade(cloud, tokens["insp1"], "ws-a", "gold", "2025-11-20").json()["direction"] == "up"
    down = _grade(cloud, tokens["admin"], "ws-a", "orange", "2025-11-26", "复查发现生熟砧板混用，降为橙榜")
    assert down.status_code == 201 and down.json()["direction"] == "down" and down.json()["previous"] == "gold"

    public = cloud.get(None, "/api/v1/public/workshops/ws-a/grades")  # no token: the regulator's public claim
    assert public.status_code == 200
    body = public.json()
    assert body["grade"]["grade"] == "orange" and body["district"] == "d1"
    assert [(h["grade"], h["direction"], h["direction_zh"], h["effective"]) for h in body["history"]] == [
        ("orange", "down", "降榜", "2025-11-26"), ("gold", "up", "升榜", "2025-11-20"),
        ("silver", "first", "定榜", "2025-11-01")]
    assert body["history"][0]["reason"] == "复查发现生熟砧板混用，降为橙榜"
    assert "insp1" not in public.text and "admin" not in public.text  # who set it is not published

    district = cloud.get(None, "/api/v1/public/districts/d1/grades").json()
    assert [(w["workshop"], w["grade"]) for w in district["workshops"]] == [("ws-a", "orange")]  # ws-b: none
    assert cloud.get(None, "/api/v1/public/workshops/ws-b/grades").status_code == 404
    assert cloud.get(None, "/api/v1/public/districts/nowhere/grades").status_code == 404

    with db.read(cloud.engine) as conn:
        entries = [json.loads(r.body) for r in conn.execute(
            select(evidence_log).where(evidence_log.c.kind == "grade_set").order_by(evidence_log.c.seq))]
        assert evidence.verify(conn).ok
    assert [(e["grade"], e["previous"], e["direction"], e["by"]) for e in entries] == [
        ("silver", None, "first", "insp1"), ("gold", "silver", "up", "insp1"), ("orange", "gold", "down", "admin")]
    assert entries[2]["row"]["reason"] == "复查发现生熟砧板混用，降为橙榜"


@pytest.mark.parametrize("who, ws, status", [
    ("insp2", "ws-a", 404),    # another district's inspector: not even told it exists
    ("owner-a", "ws-a", 403),  # the owner may not grade its own workshop
    ("owner-c", "ws-a", 404),
    ("gw-ws-a", "ws-a", 403),  # a gateway token only pushes and fetches its statement
    (None, "ws-a", 401),
    ("insp1", "ws-c", 404),
    ("insp2", "ws-c", 201),
    ("admin", "ws-c", 201),
])
def test_only_the_district_s_inspectors_and_admins_grade(cloud: Cloud, who: str | None, ws: str,
                                                         status: int) -> None:
    tokens = cloud.tenants()
    answer = _grade(cloud, tokens[who] if who else None, ws, "bronze", "2025-11-26")
    assert answer.status_code == status, answer.text
    assert " / " in answer.json().get("error", " / ")  # Chinese first, then English
    graded = cloud.get(None, f"/api/v1/public/workshops/{ws}/grades").status_code
    assert graded == (200 if status == 201 else 404)


@pytest.mark.parametrize("body, status, path", [
    ({"grade": "platinum", "effective": "2025-11-26", "reason": REASON}, 400, "grade"),
    ({"grade": "gold", "effective": "26/11/2025", "reason": REASON}, 400, "effective"),
    ({"grade": "gold", "effective": "2025-W48-3", "reason": REASON}, 400, "effective"),  # an ISO week date
    ({"grade": "gold", "effective": "2025-02-30", "reason": REASON}, 400, "effective"),
    ({"grade": "gold", "reason": REASON}, 400, "effective"),
    ({"grade": "gold", "effective": "2025-11-26", "reason": "  "}, 400, "reason"),
    ({"grade": "gold", "effective": "2025-11-27", "reason": REASON}, 422, None),  # tomorrow: not yet in effect
    ({"grade": "gold", "effective": "2025-10-31", "reason": REASON}, 422, None),  # before the current grade's
])
def test_a_bad_grading_is_refused_and_nothing_is_kept(cloud: Cloud, body: dict, status: int,
                                                      path: str | None) -> None:
    tokens = cloud.tenants()
    assert _grade(cloud, tokens["insp1"], "ws-a", "silver", "2025-11-01").status_code == 201
    answer = cloud.post(tokens["insp1"], "/api/v1/workshops/ws-a/grade", body)
    assert answer.status_code == status, answer.text
    if path:
        assert answer.json()["path"] == path
    assert len(cloud.get(None, "/api/v1/public/workshops/ws-a/grades").json()["history"]) == 1


def test_the_history_cannot_be_changed_in_the_database(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    assert _grade(cloud, tokens["insp1"], "ws-a", "silver", "2025-11-01").status_code == 201
    for sql in ("UPDATE workshop_grades SET grade = 'gold'", "DELETE FROM workshop_grades"):
        with pytest.raises((Conflict, StorageError), match="append-only"):
            with db.write(cloud.engine) as conn:
                conn.execute(text(sql))
    assert cloud.get(None, "/api/v1/public/workshops/ws-a/grades").json()["grade"]["grade"] == "silver"


def test_sebiao_cloud_verify_sees_a_grading_changed_behind_the_chain_s_back(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    for grade, day in (("silver", "2025-11-01"), ("gold", "2025-11-20")):
        assert _grade(cloud, tokens["insp1"], "ws-a", grade, day).status_code == 201
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
    assert found.ok and found.rows["workshop_grades"] == 2, found.lines()
    assert "workshop_grades 2" in found.lines()[0]
    with db.write(cloud.engine) as conn:  # what the tables' owner can do: the guard off, the grade raised
        unguard(conn, "workshop_grades")
        conn.execute(text("UPDATE workshop_grades SET grade = 'gold' WHERE grade = 'silver'"))
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
    assert not found.ok
    assert any("workshop_grades row" in line and "(grade)" in line for line in found.lines()), found.lines()


def test_the_gateway_fetches_its_own_grade_signed(signed) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, key = signed
    assert cloud.get(tokens["gw-ws-a"], "/api/v1/grade").status_code == 404  # none published yet
    assert _grade(cloud, tokens["insp1"], "ws-a", "gold", "2025-11-20").status_code == 201
    first = cloud.get(tokens["gw-ws-a"], "/api/v1/grade")
    assert first.status_code == 200, first.text
    statement = verify(first.json(), key, "ws-a")
    assert (statement.grade, statement.effective, statement.issued_at) == ("gold", "2025-11-20", cloud.now)
    with pytest.raises(StatementRefused) as refused:  # ws-a's statement is not ws-b's
        verify(first.json(), key, "ws-b")
    assert refused.value.reason == "workshop"
    forged = {**first.json(), "grade": "silver"}
    with pytest.raises(StatementRefused) as refused:
        verify(forged, key, "ws-a")
    assert refused.value.reason == "signature"

    assert _grade(cloud, tokens["insp1"], "ws-a", "bronze", "2025-11-26").status_code == 201
    second = verify(cloud.get(tokens["gw-ws-a"], "/api/v1/grade").json(), key, "ws-a")
    assert second.grade == "bronze" and second.seq > statement.seq
    assert cloud.get(tokens["gw-ws-b"], "/api/v1/grade").status_code == 404
    assert cloud.get(tokens["insp1"], "/api/v1/grade").status_code == 403  # a statement is a gateway's
    assert cloud.get(None, "/api/v1/grade").status_code == 401


def test_without_a_signing_key_the_cloud_publishes_no_statement(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    assert _grade(cloud, tokens["insp1"], "ws-a", "gold", "2025-11-20").status_code == 201
    answer = cloud.get(tokens["gw-ws-a"], "/api/v1/grade")
    assert answer.status_code == 503 and "evidence.signing_key" in answer.json()["error"]


# -- the pages ------------------------------------------------------------------------------


class PageUser:
    """A page session through TestClient (its own cookie jar; the CSRF token read from the page)."""

    def __init__(self, cloud: Cloud, username: str) -> None:
        self.client = TestClient(cloud.client.app, follow_redirects=False)
        r = self.client.post("/login", data={"username": username, "password": f"pw-{username}-123456"})
        assert r.status_code == 303, r.text
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/workshops").text)
        assert found
        self.csrf = found.group(1)

    def grade(self, ws: str, **fields: str):  # type: ignore[no-untyped-def]
        return self.client.post(f"/workshops/{ws}/grade", data={"csrf": self.csrf, **fields})


def test_the_pages_grade_and_publish(cloud: Cloud) -> None:
    cloud.tenants()
    inspector = PageUser(cloud, "insp1")
    page = inspector.client.get("/workshops/ws-a/grade")
    assert page.status_code == 200 and 'id="form-grade"' in page.text and 'id="grade-none"' in page.text
    assert 'href="/workshops/ws-a/grade"' in inspector.client.get("/workshops").text
    done = inspector.grade("ws-a", grade="silver", effective="2025-11-01", reason="首次评定")
    assert done.status_code == 303 and done.headers["location"] == "/workshops/ws-a/grade"
    assert inspector.grade("ws-a", grade="bronze", effective="2025-11-26", reason="复查：清洗记录不全").status_code == 303
    refused = inspector.grade("ws-a", grade="gold", effective="2025-12-01", reason="未来日期")
    assert refused.status_code == 422 and "生效日期不能晚于今天" in refused.text

    anonymous = TestClient(cloud.client.app, follow_redirects=False)  # no session: the public pages
    public = anonymous.get("/public/workshops/ws-a")
    assert public.status_code == 200
    assert re.findall(r'data-direction="(\w+)"', public.text) == ["down", "first"]
    assert "铜榜" in public.text and "降榜" in public.text and "复查：清洗记录不全" in public.text
    assert "insp1" not in public.text
    district = anonymous.get("/public/districts/d1")
    assert district.status_code == 200 and re.findall(r'<tr data-workshop="([\w-]+)"', district.text) == ["ws-a"]
    assert anonymous.get("/public/workshops/ws-b").status_code == 404
    assert anonymous.get("/workshops/ws-a/grade").status_code == 303  # the form's page needs a session
    assert anonymous.post("/workshops/ws-a/grade", data={"grade": "gold"}).status_code == 303


def test_the_grade_form_only_for_the_district_s_inspectors(cloud: Cloud) -> None:
    cloud.tenants()
    owner = PageUser(cloud, "owner-a")
    page = owner.client.get("/workshops/ws-a/grade")
    assert page.status_code == 200 and 'id="form-grade"' not in page.text
    assert owner.grade("ws-a", grade="gold", effective="2025-11-26", reason="自评").status_code == 403
    other = PageUser(cloud, "insp2")
    assert other.client.get("/workshops/ws-a/grade").status_code == 404
    assert other.grade("ws-a", grade="gold", effective="2025-11-26", reason="越权").status_code == 404
    assert TestClient(cloud.client.app).get("/public/workshops/ws-a").status_code == 404  # nothing was set


def test_the_form_takes_a_reason_of_the_longest_length_in_chinese(cloud: Cloud) -> None:
    cloud.tenants()
    inspector = PageUser(cloud, "insp1")
    reason = "很" * 1999 + "😀"  # 2000 characters, 18 KB urlencoded
    done = inspector.grade("ws-a", grade="gold", effective="2025-11-26", reason=reason)
    assert done.status_code == 303, done.text[:500]
    assert cloud.get(None, "/api/v1/public/workshops/ws-a/grades").json()["grade"]["reason"] == reason
    too_long = inspector.grade("ws-a", grade="gold", effective="2025-11-26", reason=reason + "很")
    assert too_long.status_code == 400 and "2000" in too_long.text
