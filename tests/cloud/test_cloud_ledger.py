"""The issue ledger (挂账销号) on SQLite and PostgreSQL, through the real app: the workflow of an item
entered by hand and of an alarm's item, the photos, the overdue lists, and the attacks.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a, owner-c ws-c.
"""

from __future__ import annotations

import base64
import io
import json
from itertools import product

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import alarm, batch
from PIL import Image
from sqlalchemy import func, select, text

from cloud_ingest.errors import Conflict, Forbidden
from cloud_ingest.review.ledger import next_state
from cloud_ingest.review.photos import MAX_PHOTO
from cloud_ingest.store import audit, db
from cloud_ingest.store.schema import evidence_log, ledger_photos

DAY_MS = 86_400_000

# -- the state machine, pure ----------------------------------------------------------

STATES = (None, "open", "answered", "returned", "closed")
ACTIONS = ("open", "answer", "close", "return")
ROLES = ("admin", "inspector", "owner", "gateway")
ALLOWED = {
    (None, "open", "admin"): "open", (None, "open", "inspector"): "open",
    ("open", "answer", "owner"): "answered", ("returned", "answer", "owner"): "answered",
    ("answered", "close", "admin"): "closed", ("answered", "close", "inspector"): "closed",
    ("answered", "return", "admin"): "returned", ("answered", "return", "inspector"): "returned",
}
MAY = {"open": {"admin", "inspector"}, "answer": {"owner"}, "close": {"admin", "inspector"},
       "return": {"admin", "inspector"}}


@pytest.mark.parametrize("state,action,role", list(product(STATES, ACTIONS, ROLES)))
def test_state_machine(state: str | None, action: str, role: str) -> None:
    if (state, action, role) in ALLOWED:
        assert next_state(state, action, role) == ALLOWED[(state, action, role)]
        return
    expected = Conflict if role in MAY[action] else Forbidden
    with pytest.raises(expected):
        next_state(state, action, role)


# -- helpers --------------------------------------------------------------------------

def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def photo(data: bytes, kind: str | None = "image/png") -> dict:
    return {"type": kind, "data": base64.b64encode(data).decode()} if kind else {
        "data": base64.b64encode(data).decode()}


@pytest.fixture
def world(cloud):  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm()])).status_code == 200
    ids = {a["workshop"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()}
    return cloud, tokens, ids["ws-a"]


def _open(cloud, tokens, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"workshop": "ws-a", "source": "inspection", "ref": "JC-2025-031", "text": "白色容器放在生肉区",
            "category": "colour_coding", "severity": "major", "responsible": "王师傅", "due": cloud.now + DAY_MS,
            **extra}
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", body)
    assert r.status_code == 201, r.text
    return r.json()


def _kinds(cloud, since: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return list(conn.execute(select(evidence_log.c.kind).where(evidence_log.c.seq > since)
                                 .order_by(evidence_log.c.seq)).scalars())


def _audit_ok(cloud) -> str:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        report = audit.audit(conn, keys={}, files=[])
    assert report.ok, report.text()
    return report.text()


# -- the workflow ---------------------------------------------------------------------

def test_an_inspection_finding_from_open_to_closed(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, _ = world
    before = len(_kinds(cloud))
    item = _open(cloud, tokens)
    assert (item["state"], item["workshop"], item["district"], item["source"], item["ref"], item["category"],
            item["severity"], item["responsible"], item["created_by"], item["overdue"]) == (
        "open", "ws-a", "d1", "inspection", "JC-2025-031", "colour_coding", "major", "王师傅", "insp1", False)
    iid = item["id"]
    cloud.now += 1000
    picture = png()
    r = cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{iid}/answer",
                   {"text": "白色容器已移回成品区", "photos": [photo(picture)]})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    shown = r.json()["photos"]
    assert [(p["type"], p["size"], p["by"]) for p in shown] == [("image/png", len(picture), "owner-a")]
    cloud.now += 1000
    r = cloud.post(tokens["insp1"], f"/api/v1/ledger/items/{iid}/return", {"note": "请拍清楚标签"})
    assert r.status_code == 200 and r.json()["state"] == "returned", r.text
    r = cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{iid}/answer", {"text": "已重拍"})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    r = cloud.post(tokens["insp1"], f"/api/v1/ledger/items/{iid}/close", {})
    done = r.json()
    assert r.status_code == 200 and (done["state"], done["closed_by"]) == ("closed", "insp1"), r.text
    assert [(s["action"], s["state"], s["by"]) for s in done["steps"]] == [
        ("open", "open", "insp1"), ("answer", "answered", "owner-a"), ("return", "returned", "insp1"),
        ("answer", "answered", "owner-a"), ("close", "closed", "insp1")]
    # every step in the chain, the photo's hash in its answer's entry; the audit checks the steps' rows
    assert _kinds(cloud, before) == ["ledger_item", "ledger_open", "ledger_answer", "ledger_return",
                                     "ledger_answer", "ledger_close"]
    with db.read(cloud.engine) as conn:
        body = json.loads(conn.execute(select(evidence_log.c.body).where(evidence_log.c.kind == "ledger_answer")
                                       .order_by(evidence_log.c.seq)).scalars().first())
    assert body["photos"][0]["sha256"] == shown[0]["sha256"]
    assert "ledger_steps 5" in _audit_ok(cloud)
    # the photo: to the owner and the district's inspector, as the image it is; to nobody else
    for who in ("owner-a", "insp1", "admin"):
        r = cloud.get(tokens[who], shown[0]["url"])
        assert r.status_code == 200 and r.content == picture and r.headers["content-type"] == "image/png"
        assert r.headers["x-content-type-options"] == "nosniff" and "sandbox" in r.headers["content-security-policy"]
    for who in ("owner-c", "insp2", None):
        assert cloud.get(tokens.get(who), shown[0]["url"]).status_code in (401, 404)
    # the list, filtered, and what others see of it
    assert [i["id"] for i in cloud.get(tokens["owner-a"], "/api/v1/ledger/items").json()] == [iid]
    assert cloud.get(tokens["insp1"], "/api/v1/ledger/items", state="closed").json()[0]["id"] == iid
    assert cloud.get(tokens["insp2"], "/api/v1/ledger/items").json() == []
    assert cloud.get(tokens["owner-c"], "/api/v1/ledger/items", workshop="ws-a").json() == []


def test_an_alarm_rectification_is_a_ledger_item(world) -> None:  # type: ignore[no-untyped-def]
    """The old rectification API makes the alarm's item; the ledger's steps on it are the rectification's."""
    cloud, tokens, alarm_id = world
    r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications",
                   {"note": "红色刀具放到了熟食区", "due": cloud.now + DAY_MS})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    items = cloud.get(tokens["owner-a"], "/api/v1/ledger/items").json()
    assert [(i["source"], i["ref"], i["alarm"], i["rectification"], i["text"], i["state"], i["severity"])
            for i in items] == [("alarm", str(alarm_id), alarm_id, rid, "红色刀具放到了熟食区", "open", "critical")]
    iid = items[0]["id"]
    r = cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{iid}/answer",
                   {"text": "刀具已消毒", "photos": [photo(png())]})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    # the old contract sees the same step
    old = cloud.get(tokens["insp1"], f"/api/v1/rectifications/{rid}").json()
    assert (old["state"], old["steps"][-1]["text"], old["item"]) == ("answered", "刀具已消毒", iid)
    r = cloud.post(tokens["insp1"], f"/api/v1/rectifications/{rid}/accept", {})
    assert r.status_code == 200, r.text
    item = cloud.get(tokens["insp1"], f"/api/v1/ledger/items/{iid}").json()
    assert (item["state"], item["closed_by"]) == ("closed", "insp1")
    assert [s["action"] for s in item["steps"]] == ["open", "answer", "close"]
    assert len(item["photos"]) == 1
    # an alarm's item opened through the ledger is the alarm's rectification, with the ledger's fields
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"source": "alarm", "ref": str(alarm_id),
                                                             "text": "复查", "category": "process"})
    assert r.status_code == 201 and r.json()["category"] == "process", r.text
    rects = cloud.get(tokens["owner-a"], f"/api/v1/alarms/{alarm_id}").json()["rectifications"]
    assert [x["state"] for x in rects] == ["accepted", "requested"]
    # an alarm of one workshop is no item of another
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"source": "alarm", "ref": str(alarm_id),
                                                             "workshop": "ws-b", "text": "x"})
    assert r.status_code == 400 and "ws-b" in r.json()["error"], r.text
    # a second open one for the same alarm is refused, as before
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"source": "alarm", "ref": str(alarm_id), "text": "x"})
    assert r.status_code == 409, r.text
    _audit_ok(cloud)


def test_overdue_items_per_district_and_workshop(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id = world
    late = _open(cloud, tokens)
    _open(cloud, tokens, workshop="ws-b", due=cloud.now + 3 * DAY_MS)
    closed = _open(cloud, tokens)
    cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{closed['id']}/answer", {"text": "好了"})
    cloud.post(tokens["insp1"], f"/api/v1/ledger/items/{closed['id']}/close", {})
    cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "整改", "due": cloud.now + 10})
    r = cloud.post(tokens["insp2"], "/api/v1/ledger/items", {"workshop": "ws-c", "text": "地面积水",
                                                             "due": cloud.now + DAY_MS})
    assert r.status_code == 201, r.text
    assert cloud.get(tokens["insp1"], "/api/v1/ledger/overdue").json()["total"] == 0
    cloud.now += 2 * DAY_MS
    o = cloud.get(tokens["insp1"], "/api/v1/ledger/overdue").json()
    assert o == {"total": 2, "districts": [{"district": "d1", "name": "昆都仑区", "count": 2}],
                 "workshops": [{"workshop": "ws-a", "name": "作坊 ws-a", "district": "d1", "count": 2}]}
    assert cloud.get(tokens["admin"], "/api/v1/ledger/overdue").json()["total"] == 3
    assert cloud.get(tokens["owner-c"], "/api/v1/ledger/overdue").json()["total"] == 1
    listed = cloud.get(tokens["insp1"], "/api/v1/ledger/items", overdue="1").json()
    assert sorted(i["source"] for i in listed) == ["alarm", "inspection"] and late["id"] in [i["id"] for i in listed]
    assert all(i["overdue"] for i in listed)


# -- the attacks ----------------------------------------------------------------------

def test_attacks_are_refused_and_leave_no_trace(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id = world
    item = _open(cloud, tokens)
    iid = item["id"]
    before = (_kinds(cloud), cloud.get(tokens["admin"], f"/api/v1/ledger/items/{iid}").json())
    attempts = [
        # an inspector of another district: the workshop and the item do not exist for it
        ("insp2", "/api/v1/ledger/items", {"workshop": "ws-a", "text": "x"}, 404),
        ("insp2", f"/api/v1/ledger/items/{iid}/return", {"note": "x"}, 404),
        ("insp2", "/api/v1/ledger/items", {"source": "alarm", "ref": str(alarm_id), "text": "x"}, 404),
        ("insp2", "/api/v1/ledger/items", {"source": "alarm", "ref": str(alarm_id), "workshop": "ws-c",
                                           "text": "x"}, 404),
        # the owner of another workshop answering this one's item
        ("owner-c", f"/api/v1/ledger/items/{iid}/answer", {"text": "别家的", "photos": [photo(png())]}, 404),
        # an owner opening or closing
        ("owner-a", "/api/v1/ledger/items", {"workshop": "ws-a", "text": "x"}, 403),
        ("owner-a", f"/api/v1/ledger/items/{iid}/close", {}, 403),
        # closing without any answer (no evidence): the state machine has no such step
        ("insp1", f"/api/v1/ledger/items/{iid}/close", {}, 409),
        ("admin", f"/api/v1/ledger/items/{iid}/close", {"note": "直接销号"}, 409),
        # nobody answers for the workshop
        ("insp1", f"/api/v1/ledger/items/{iid}/answer", {"text": "代答"}, 403),
        # photos: too large, not an image, an image of another kind than claimed, a broken image, too many
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [
            photo(png() + b"\0" * MAX_PHOTO)]}, 413),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [
            photo(b"<html><script>alert(1)</script></html>")]}, 422),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [
            photo(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>")]}, 422),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [
            photo(png(), "image/jpeg")]}, 422),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [photo(png())] * 4}, 422),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "x", "photos": [{"data": "%%%"}]}, 400),
        ("owner-a", f"/api/v1/ledger/items/{iid}/answer", {"text": "  ", "photos": [photo(png())]}, 422),
        # a deadline in the past, an unknown category, a field nobody knows
        ("insp1", "/api/v1/ledger/items", {"workshop": "ws-a", "text": "x", "due": cloud.now - 1}, 422),
        ("insp1", "/api/v1/ledger/items", {"workshop": "ws-a", "text": "x", "category": "misc"}, 400),
        ("insp1", "/api/v1/ledger/items", {"workshop": "ws-a", "text": "x", "state": "closed"}, 400),
        (None, f"/api/v1/ledger/items/{iid}/close", {}, 401),
    ]
    for who, path, body, status in attempts:
        r = cloud.post(tokens.get(who), path, body)
        assert r.status_code == status, (who, path, r.status_code, r.text)
        assert " / " in r.json()["error"], r.text
    assert (_kinds(cloud), cloud.get(tokens["admin"], f"/api/v1/ledger/items/{iid}").json()) == before
    with db.read(cloud.engine) as conn:
        assert conn.execute(select(func.count()).select_from(ledger_photos)).scalar_one() == 0
    # a body over the bound is cut off before it is parsed
    r = cloud.client.post(f"/api/v1/ledger/items/{iid}/answer", content=b"{" + b" " * (4 * MAX_PHOTO + 200_000),
                          headers={"Authorization": f"Bearer {tokens['owner-a']}"})
    assert r.status_code == 413
    # a JPEG really answered is kept
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, "JPEG")
    r = cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{iid}/answer",
                   {"text": "好了", "photos": [photo(jpeg.getvalue(), None)]})
    assert r.status_code == 200 and r.json()["photos"][0]["type"] == "image/jpeg", r.text


def test_a_changed_ledger_or_plan_is_found_by_the_audit(world) -> None:  # type: ignore[no-untyped-def]
    """What the ledger and plan pages show is what was chained: rows changed behind the app's back are named."""
    cloud, tokens, _ = world
    iid = _open(cloud, tokens)["id"]
    answered = _open(cloud, tokens, text="抹布混用")["id"]
    assert cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{answered}/answer", {"text": "已分开"}).status_code == 200
    assert cloud.post(tokens["insp1"], "/api/v1/workshops/ws-a/plan/goals",
                      {"text": "色标化完成", "target": "2026-11-30", "items": [iid]}).status_code == 201
    assert "the issue ledger matches the chain: 2 items, 2 plan rows" in _audit_ok(cloud)
    tampering = [
        ("UPDATE ledger_items SET state = 'closed', closed_by = 2, closed_at = 1 WHERE id = :a",
         "its state or closing differs"),
        ("UPDATE ledger_items SET due_at = due_at + 86400000 WHERE id = :a", "(due_at)"),
        ("UPDATE ledger_items SET responsible = '别人' WHERE id = :b", "(responsible)"),
        ("UPDATE ledger_steps SET text = '早已整改' WHERE item_id = :b AND action = 'answer'", "ledger_steps row"),
        ("UPDATE plan_goals SET met_at = 1, met_by = 2", "plan_goals row 1 differs"),
        ("DELETE FROM plan_goals", "plan_goals rows 1 of the evidence chain are missing"),
    ]
    for sql, words in tampering:
        with db.write(cloud.engine) as conn:
            saved = conn.begin_nested()
            conn.execute(text(sql), {"a": iid, "b": answered})
            report = audit.audit(conn, keys={}, files=[])
            saved.rollback()
        assert not report.ok and words in report.text(), (sql, report.text())
    _audit_ok(cloud)  # every change above was rolled back
