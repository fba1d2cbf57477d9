"""一坊一策 through the real app (SQLite and PostgreSQL): the district's inspector writes the plan and its
goals over the workshop's ledger items, the owner reads it, progress follows the items, the PDF prints it;
another district's inspector and another workshop's owner see nothing, the owner edits nothing."""

from __future__ import annotations

import io
import json

import pdfplumber
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from sqlalchemy import select

from cloud_ingest.store import db
from cloud_ingest.store.schema import evidence_log

DAY_MS = 86_400_000


def _item(cloud, tokens, workshop: str = "ws-a", who: str = "insp1", text: str = "砧板未分色") -> int:  # type: ignore[no-untyped-def]
    r = cloud.post(tokens[who], "/api/v1/ledger/items", {"workshop": workshop, "text": text, "category": "facilities",
                                                         "responsible": "李师傅", "due": cloud.now + DAY_MS})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_plan_of_a_workshop(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    a, b = _item(cloud, tokens), _item(cloud, tokens, text="抹布混用")
    other = _item(cloud, tokens, "ws-c", "insp2")
    # nothing written yet: the owner still reads the items and the progress
    empty = cloud.get(tokens["owner-a"], "/api/v1/workshops/ws-a/plan").json()
    assert (empty["summary"], empty["goals"], empty["progress"]) == (None, [], {
        "items_closed": 0, "items_total": 2, "goals_met": 0, "goals_total": 0})
    r = cloud.post(tokens["insp1"], "/api/v1/workshops/ws-a/plan", {"summary": "三个月内完成色标化改造，争取升铜榜"})
    assert r.status_code == 200 and r.json()["summary"].startswith("三个月"), r.text
    r = cloud.post(tokens["insp1"], "/api/v1/workshops/ws-a/plan/goals",
                   {"text": "全部砧板、抹布按色标更换", "target": "2026-11-30", "items": [a, b]})
    assert r.status_code == 201, r.text
    goal = r.json()["goals"][0]
    assert (goal["text"], goal["target"], goal["items"], goal["met"]) == ("全部砧板、抹布按色标更换", "2026-11-30",
                                                                        [a, b], False)
    # the answer and the closing of an item move the progress; a goal is met by the inspector
    cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{a}/answer", {"text": "已更换"})
    cloud.post(tokens["insp1"], f"/api/v1/ledger/items/{a}/close", {})
    r = cloud.post(tokens["insp1"], f"/api/v1/plan-goals/{goal['id']}", {"met": True})
    assert r.status_code == 200, r.text
    plan = cloud.get(tokens["owner-a"], "/api/v1/workshops/ws-a/plan").json()
    assert plan["progress"] == {"items_closed": 1, "items_total": 2, "goals_met": 1, "goals_total": 1}
    assert [i["id"] for i in plan["items"]] == [a, b] and plan["goals"][0]["met_by"] == "insp1"
    with db.read(cloud.engine) as conn:
        kinds = [json.loads(body)["what"] for body in conn.execute(
            select(evidence_log.c.body).where(evidence_log.c.kind == "plan").order_by(evidence_log.c.seq)).scalars()]
    assert kinds == ["summary", "goal", "goal"]  # the summary, the goal added, the goal met

    # refused: the owner edits nothing, others see nothing, another workshop's item is no link
    refused = [
        ("owner-a", "/api/v1/workshops/ws-a/plan", {"summary": "自己写"}, 403),
        ("owner-a", "/api/v1/workshops/ws-a/plan/goals", {"text": "x", "target": "2026-01-01"}, 403),
        ("owner-a", f"/api/v1/plan-goals/{goal['id']}", {"met": False}, 403),
        ("insp2", "/api/v1/workshops/ws-a/plan", {"summary": "别区"}, 404),
        ("insp2", f"/api/v1/plan-goals/{goal['id']}", {"met": False}, 404),
        ("insp1", "/api/v1/workshops/ws-a/plan/goals", {"text": "x", "target": "2026-01-01", "items": [other]}, 400),
        ("insp1", "/api/v1/workshops/ws-a/plan/goals", {"text": "x", "target": "明年"}, 400),
        ("insp1", "/api/v1/workshops/ws-a/plan/goals", {"text": " ", "target": "2026-01-01"}, 422),
    ]
    for who, path, body, status in refused:
        r = cloud.post(tokens[who], path, body)
        assert r.status_code == status, (who, path, r.text)
    for who in ("owner-c", "insp2"):
        assert cloud.get(tokens[who], "/api/v1/workshops/ws-a/plan").status_code == 404
        assert cloud.get(tokens[who], "/api/v1/workshops/ws-a/plan.pdf").status_code == 404

    # printable: Chinese first, every page numbered, text at 10 pt or more, signature and date lines
    r = cloud.get(tokens["owner-a"], "/api/v1/workshops/ws-a/plan.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    with pdfplumber.open(io.BytesIO(r.content)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
        sizes = {round(c["size"], 1) for page in pdf.pages for c in page.chars}
        pages = len(pdf.pages)
    assert text.index("一坊一策") < text.index("Improvement plan")
    for words in ("三个月内完成色标化改造", "全部砧板、抹布按色标更换", "砧板未分色", "李师傅", "已销号",
                  "作坊负责人签字", "检查员签字", "日期 / date", "第 1 页 / 共", "1 / 2 items closed"):
        assert words in text, words
    assert all(f"第 {n} 页" in text for n in range(1, pages + 1))
    assert min(sizes) >= 10, sizes
