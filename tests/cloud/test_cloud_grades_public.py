"""The public grade endpoints and pages attacked, on SQLite and PostgreSQL: ids of any length and shape,
query strings, and a district (or a history) far longer than a page.

Districts d1 (ws-a, ws-b) and d2 (ws-c) (``Cloud.tenants``); the cloud's clock is T0 (2025-11-26, CST).
"""

from __future__ import annotations

import re

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from starlette.testclient import TestClient

from cloud_ingest.access import admin
from cloud_ingest.review import grades

LONG = "ws-" + "a" * 5000


def _grade(cloud: Cloud, ws: str, grade: str, effective: str = "2025-11-26", reason: str = "年度评定") -> None:
    cloud.as_admin(grades.set_grade, ws, {"grade": grade, "effective": effective, "reason": reason}, cloud.now)


@pytest.mark.parametrize("path", [
    f"/api/v1/public/workshops/{LONG}/grades", f"/api/v1/public/districts/{LONG}/grades",
    f"/public/workshops/{LONG}", f"/public/districts/{LONG}",
    "/api/v1/public/workshops/WS-A/grades", "/public/workshops/ws_a%27%3Cb%3E",
    "/api/v1/public/workshops/" + "a" * 33 + "/grades",
])
def test_an_id_that_is_no_id_is_not_found_and_not_echoed(cloud: Cloud, path: str) -> None:
    cloud.tenants()
    answer = TestClient(cloud.client.app).get(path)
    assert answer.status_code == 404
    assert "a" * 33 not in answer.text and "WS-A" not in answer.text and "<b>" not in answer.text
    assert len(answer.content) < 20_000  # the 5000 characters of path are not sent back


def test_a_grading_of_a_long_id_is_not_found(cloud: Cloud) -> None:
    tokens = cloud.tenants()
    answer = cloud.post(tokens["admin"], f"/api/v1/workshops/{LONG}/grade",
                        {"grade": "gold", "effective": "2025-11-26", "reason": "x"})
    assert answer.status_code == 404 and LONG not in answer.text


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"), ("page=1e3", "page"),
    ("page=" + "9" * 5000, "page"), ("page=%EF%BC%91", "page"),  # a full-width digit is no page number
    ("limit=100000", "limit"), ("page=1&offset=5", "offset"),
])
def test_a_bad_query_is_refused_naming_it(cloud: Cloud, query: str, field: str) -> None:
    cloud.tenants()
    _grade(cloud, "ws-a", "gold")
    public = TestClient(cloud.client.app)
    for path in ("/api/v1/public/workshops/ws-a/grades", "/api/v1/public/districts/d1/grades"):
        answer = public.get(f"{path}?{query}")
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["path"] == field and len(answer.text) < 1000
    page = public.get(f"/public/districts/d1?{query}")  # the pages judge the page number only
    assert page.status_code == (400 if field == "page" else 200) and len(page.text) < 20_000


def test_a_page_shared_in_a_chat_app_opens_with_the_app_s_parameters(cloud: Cloud) -> None:
    cloud.tenants()
    _grade(cloud, "ws-a", "gold")
    public = TestClient(cloud.client.app)
    for path in ("/public/workshops/ws-a", "/public/districts/d1"):
        answer = public.get(f"{path}?from=singlemessage&isappinstalled=0")
        assert answer.status_code == 200 and "金榜" in answer.text


def test_a_big_district_comes_a_page_at_a_time(cloud: Cloud) -> None:
    cloud.tenants()
    many = grades.PAGE + 5
    for i in range(many):  # d1 holds ws-a, ws-b and these; each graded but ws-b
        ws = f"shop-{i:03d}"
        cloud.as_admin(admin.create_workshop, {"id": ws, "name": f"作坊 {i:03d}", "district": "d1"}, cloud.now)
        _grade(cloud, ws, ("gold", "silver", "bronze", "orange")[i % 4])
    _grade(cloud, "ws-a", "gold")
    _grade(cloud, "ws-c", "gold")  # another district's: never in d1's list
    public = TestClient(cloud.client.app)
    first = public.get("/api/v1/public/districts/d1/grades").json()
    assert (first["page"], first["pages"], first["total"]) == (1, 2, many + 1)
    assert len(first["workshops"]) == grades.PAGE
    second = public.get("/api/v1/public/districts/d1/grades", params={"page": 2}).json()
    listed = [w["workshop"] for w in first["workshops"] + second["workshops"]]
    assert len(listed) == len(set(listed)) == many + 1 and "ws-b" not in listed and "ws-c" not in listed
    ranks = [("gold", "silver", "bronze", "orange").index(w["grade"]) for w in first["workshops"] + second["workshops"]]
    assert ranks == sorted(ranks)  # best first across the pages
    assert public.get("/api/v1/public/districts/d1/grades", params={"page": 3}).status_code == 404

    page = public.get("/public/districts/d1")
    assert len(re.findall(r'<tr data-workshop="', page.text)) == grades.PAGE
    assert 'href="/public/districts/d1?page=2"' in page.text
    last = public.get("/public/districts/d1?page=2")
    assert len(re.findall(r'<tr data-workshop="', last.text)) == 6 and 'href="/public/districts/d1?page=1"' in last.text


def test_a_long_history_comes_a_page_at_a_time_its_grade_the_newest(cloud: Cloud) -> None:
    cloud.tenants()
    for i in range(grades.PAGE + 1):
        _grade(cloud, "ws-a", "gold" if i % 2 else "silver", reason=f"第 {i} 次评定")
    public = TestClient(cloud.client.app)
    first = public.get("/api/v1/public/workshops/ws-a/grades").json()
    assert (first["page"], first["pages"], first["total"], len(first["history"])) == (1, 2, grades.PAGE + 1, grades.PAGE)
    assert first["history"][0]["reason"] == f"第 {grades.PAGE} 次评定"
    second = public.get("/api/v1/public/workshops/ws-a/grades?page=2").json()
    assert [h["reason"] for h in second["history"]] == ["第 0 次评定"]
    assert second["grade"] == first["grade"] and second["grade"]["reason"] == f"第 {grades.PAGE} 次评定"
    page = public.get("/public/workshops/ws-a?page=2")
    assert page.status_code == 200 and "第 0 次评定" in page.text and f"第 {grades.PAGE} 次评定" not in page.text.split(
        'id="grade-history"')[1]
    assert public.get("/api/v1/public/workshops/ws-b/grades?page=2").status_code == 404  # ungraded: as unknown
