"""On-site inspections (现场检查) and the 5% spot checks (抽查) on SQLite and PostgreSQL, through the real app:
a visit whose 不符合 items become ledger items, its immutability (API and database), the audit naming an
altered visit or draw, the draw's reproducibility and its refusal a second time, and the tenancy attacks.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a, owner-c ws-c.
"""

from __future__ import annotations

import base64
import io
import math
from datetime import datetime, timedelta, timezone

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import ADMIN_PASSWORD, unguard
from PIL import Image
from sqlalchemy import text

from cloud_ingest.access import admin
from cloud_ingest.errors import CloudError
from cloud_ingest.review import checklist, spot_checks
from cloud_ingest.store import audit, db, inspection_chain

DAY_MS = 86_400_000
CST = timezone(timedelta(hours=8))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(out, "PNG")
    return out.getvalue()


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).date().isoformat()


def ms_of(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=CST).timestamp() * 1000)


def visit_body(cloud, workshop: str = "ws-a", fails: dict | None = None, **extra) -> dict:  # type: ignore
    fails = {"colour_match": {"note": "白色容器放在生肉区"}, "records": {"note": "进货记录缺 11 月", "due":
             cloud.now + 5 * DAY_MS}} if fails is None else fails
    items = []
    for item in checklist.items(checklist.CURRENT):
        if item.key in fails:
            items.append({"item": item.key, "result": "fail", **fails[item.key]})
        else:
            items.append({"item": item.key, "result": "na" if item.key == "replacement" else "pass"})
    return {"workshop": workshop, "day": day_of(cloud.now), "inspectors": ["张检查", "李检查"], "items": items,
            "findings": "色标基本到位，两项需整改", "representative": "王师傅",
            "photos": [{"type": "image/png", "data": base64.b64encode(png()).decode()}], **extra}


def at(cloud, day: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The clock moved to ``day``, and fresh logins (those of before would have expired)."""
    cloud.now = ms_of(day)
    tokens = {name: cloud.login(name, f"pw-{name}-123456") for name in ("insp1", "insp2", "owner-a", "owner-c")}
    return {**tokens, "admin": cloud.login("admin", ADMIN_PASSWORD)}


def audit_text(cloud) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        report = audit.audit(conn, keys={}, files=[])
    return report.ok, report.text()


# -- visits ---------------------------------------------------------------------------

def test_a_visit_with_failures_opens_ledger_items_and_is_chained(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    r = cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud))
    assert r.status_code == 201, r.text
    v = r.json()
    assert (v["workshop"], v["checklist"], v["inspectors"], v["representative"], v["signed_by"], v["counts"]) == (
        "ws-a", checklist.CURRENT, ["张检查", "李检查"], "王师傅", "insp1", {"pass": 9, "fail": 2, "na": 1})
    failed = {i["item"]: i for i in v["items"] if i["result"] == "fail"}
    assert set(failed) == {"colour_match", "records"} and all(i["ledger_state"] == "open" for i in failed.values())
    assert failed["colour_match"]["section"] == "指引 三"
    # the ledger follows them: source inspection, the visit as reference, the deadline chosen or by severity
    items = cloud.get(tokens["insp1"], "/api/v1/ledger/items", workshop="ws-a").json()
    assert sorted((i["source"], i["ref"], i["severity"]) for i in items) == [
        ("inspection", str(v["id"]), "critical"), ("inspection", str(v["id"]), "major")]
    due = {i["id"]: i["due"] for i in items}
    assert due[failed["records"]["ledger_item"]] == cloud.now + 5 * DAY_MS
    assert due[failed["colour_match"]["ledger_item"]] == cloud.now + checklist.DUE_DAYS["critical"] * DAY_MS
    # the owner answers the item on the ledger, as any other; the visit shows the item's state
    lid = failed["records"]["ledger_item"]
    assert cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{lid}/answer", {"text": "已补记"}).status_code == 200
    shown = cloud.get(tokens["owner-a"], f"/api/v1/inspections/{v['id']}").json()
    assert {i["item"]: i["ledger_state"] for i in shown["items"]}["records"] == "answered"
    # listed, printable, the photo served to the scope only
    assert [x["id"] for x in cloud.get(tokens["insp1"], "/api/v1/inspections", workshop="ws-a").json()] == [v["id"]]
    pdf = cloud.get(tokens["insp1"], f"/api/v1/inspections/{v['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    url = v["photos"][0]["url"]
    assert cloud.get(tokens["owner-a"], url).content == png()
    ok, words = audit_text(cloud)
    assert ok and "1 visits, 0 draws" in words, words


def test_a_visit_is_checked_whole_before_anything_is_stored(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    body = visit_body(cloud)
    bad = [
        ({**body, "items": body["items"][1:]}, 422, "missing zones"),
        ({**body, "items": [*body["items"], body["items"][0]]}, 400, "given twice"),
        ({**body, "representative": " "}, 422, "representative"),
        ({**body, "day": day_of(cloud.now + 2 * DAY_MS)}, 422, "future"),
        ({**body, "inspectors": []}, 400, "inspectors"),
        ({**body, "checklist": "1999.1"}, 400, "checklist"),
        (visit_body(cloud, fails={"zones": {}}), 422, "note"),
        (visit_body(cloud, fails={"zones": {"note": "x", "due": cloud.now - 1}}), 422, "deadline"),
        ({**body, "photos": [{"type": "image/png", "data": base64.b64encode(b"<script>").decode()}]}, 422, "PNG"),
        ({**body, "signed_by": 1}, 400, "unknown field"),
    ]
    for b, status, words in bad:
        r = cloud.post(tokens["insp1"], "/api/v1/inspections", b)
        assert r.status_code == status and words in r.text, (words, r.status_code, r.text)
    assert cloud.get(tokens["insp1"], "/api/v1/inspections").json() == []
    assert cloud.get(tokens["insp1"], "/api/v1/ledger/items").json() == []


def test_a_signed_visit_is_immutable(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    vid = cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud)).json()["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        r = cloud.client.request(method, f"/api/v1/inspections/{vid}", json={"findings": "全部符合"},
                                 headers={"Authorization": f"Bearer {tokens['insp1']}"})
        assert r.status_code == 409 and "cannot be changed" in r.text, r.text
        r = cloud.client.request(method, f"/api/v1/inspections/{vid}", headers={
            "Authorization": f"Bearer {tokens['insp2']}"})
        assert r.status_code == 404, r.text  # outside the scope: nothing said
    for sql in ("UPDATE inspection_visits SET findings = '全部符合'", "DELETE FROM inspection_photos",
                "UPDATE inspection_items SET result = 'pass', note = NULL WHERE result = 'na'",
                "DELETE FROM inspection_items"):
        with pytest.raises(CloudError, match="append-only"):
            with db.write(cloud.engine) as conn:
                conn.execute(text(sql))
    assert cloud.get(tokens["insp1"], f"/api/v1/inspections/{vid}").json()["findings"] == "色标基本到位，两项需整改"


def test_verify_names_an_altered_visit_or_item(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    vid = cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud)).json()["id"]
    assert audit_text(cloud)[0]
    tampering = [
        ("UPDATE inspection_visits SET representative = '别人'", f"inspection visit {vid} differs from evidence "
         "entry"),
        ("UPDATE inspection_items SET result = 'na' WHERE item = 'zones'", f"inspection visit {vid}: its items "
         "differ from evidence entry"),
        ("UPDATE inspection_items SET note = '已整改' WHERE item = 'colour_match'", "(item colour_match)"),
        ("DELETE FROM inspection_items WHERE item = 'workwear'", "item workwear missing"),
        ("UPDATE inspection_photos SET data = :junk", f"inspection visit {vid}: its photos differ"),
        ("INSERT INTO inspection_visits (workshop_id, checklist, day, inspectors, representative, signed_by, "
         "signed_at) VALUES ('ws-b', '2026.1', '2025-11-01', '[]', 'x', 1, 1)", "has no entry in the evidence"),
    ]
    for sql, words in tampering:
        with db.write(cloud.engine) as conn:
            saved = conn.begin_nested()
            unguard(conn, "inspection_visits", "inspection_items", "inspection_photos")
            conn.execute(text(sql), {"junk": png()[:-1] + b"\x00"} if ":junk" in sql else {})
            report = audit.audit(conn, keys={}, files=[])
            saved.rollback()
        assert not report.ok and words in report.text(), (sql, report.text())
    assert audit_text(cloud)[0]


def test_visits_respect_the_tenancy(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    vid = cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud)).json()["id"]
    photo_url = cloud.get(tokens["insp1"], f"/api/v1/inspections/{vid}").json()["photos"][0]["url"]
    # another district's inspector and another workshop's owner: not found; the owner of ws-a may not record
    for who in ("insp2", "owner-c"):
        for path in (f"/api/v1/inspections/{vid}", photo_url, f"/api/v1/inspections/{vid}/pdf"):
            assert cloud.get(tokens[who], path).status_code == 404, (who, path)
        assert cloud.get(tokens[who], "/api/v1/inspections").json() == []
    assert cloud.post(tokens["insp2"], "/api/v1/inspections", visit_body(cloud)).status_code == 404
    assert cloud.post(tokens["owner-a"], "/api/v1/inspections", visit_body(cloud)).status_code == 403
    assert cloud.post(tokens["gw-ws-a"], "/api/v1/inspections", visit_body(cloud)).status_code in (401, 403)
    assert cloud.post(None, "/api/v1/inspections", visit_body(cloud)).status_code == 401
    assert cloud.get(None, f"/api/v1/inspections/{vid}").status_code == 401
    assert cloud.get(tokens["owner-a"], f"/api/v1/inspections/{vid}").status_code == 200
    with db.read(cloud.engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM inspection_visits")).scalar_one() == 1


# -- spot checks ----------------------------------------------------------------------

def _register(cloud, tokens, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` more workshops of d1, each registered now (a record with a registration number)."""
    made = []
    for n in range(count):
        ws = f"new-{n:02d}"
        cloud.as_admin(admin.create_workshop, {"id": ws, "name": f"新作坊 {n}", "district": "d1"}, cloud.now)
        r = cloud.post(tokens["insp1"], f"/api/v1/workshops/{ws}/record", {"registration": f"JY-{n:04d}"})
        assert r.status_code in (200, 201), r.text
        made.append(ws)
    return made


def test_a_draw_is_reproducible_chained_and_made_once(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()  # T0 is 2025-11-26: the fourth quarter of 2025
    # ws-a registered in Q3 (outside the period), ws-b never: neither is in Q4's population
    tokens = at(cloud, "2025-09-30")
    assert cloud.post(tokens["insp1"], "/api/v1/workshops/ws-a/record", {"registration": "OLD-1"}).status_code \
        in (200, 201)
    tokens = at(cloud, "2025-11-26")
    made = _register(cloud, tokens, 21)  # 21 × 5% = 1.05: 2 drawn
    body = {"district": "d1", "period": "2025-Q4", "seed_input": "2026-01-02 体彩 08 13 21"}
    r = cloud.post(tokens["insp1"], "/api/v1/spot-checks", body)
    assert r.status_code == 422 and "not over" in r.text, r.text
    tokens = at(cloud, "2026-01-05")
    r = cloud.post(tokens["insp1"], "/api/v1/spot-checks", body)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["population"] == made and len(d["sample"]) == math.ceil(21 * 5 / 100) == 2 and d["reproduces"]
    # anyone can re-run the draw from what is stored
    seed = spot_checks.seed_of("d1", "2025-Q4", body["seed_input"])
    assert d["seed"] == seed and spot_checks.sample_of(seed, d["population"]) == d["sample"]
    assert inspection_chain._sample(body["seed_input"], "d1", "2025-Q4", d["population"]) == d["sample"]
    # a second draw, even with another seed, is refused; the database refuses a change of the first
    again = cloud.post(tokens["admin"], "/api/v1/spot-checks", {**body, "seed_input": "再来一次"})
    assert again.status_code == 409 and "already drawn" in again.text
    with pytest.raises(CloudError, match="append-only"):
        with db.write(cloud.engine) as conn:
            conn.execute(text("UPDATE spot_draws SET sample = '[]'"))
    # tracking: not yet; one visited (a visit in the period or after, by the deadline); overdue after it
    assert d["deadline"] == "2026-03-31" and d["counts"] == {"visited": 0, "not_yet": 2, "overdue": 0}
    first = d["sample"][0]
    assert cloud.post(tokens["insp1"], "/api/v1/inspections", visit_body(cloud, workshop=first)).status_code == 201
    tokens = at(cloud, "2026-04-01")
    d = cloud.get(tokens["insp1"], f"/api/v1/spot-checks/{d['id']}").json()
    assert {s["workshop"]: s["status"] for s in d["sampled"]} == {first: "visited", d["sample"][1]: "overdue"}
    ok, words = audit_text(cloud)
    assert ok and "1 draws" in words, words


def test_an_empty_period_draws_none_and_small_ones_draw_one() -> None:
    assert [spot_checks.sample_size(n) for n in (0, 1, 19, 20, 21, 40, 41)] == [0, 1, 1, 1, 2, 2, 3]
    assert spot_checks.sample_of("0" * 64, []) == []
    assert spot_checks.period("2025-Q4").deadline.isoformat() == "2026-03-31"
    assert spot_checks.period("2025-12").deadline.isoformat() == "2026-01-31"
    for bad in ("2025-Q5", "2025-13", "25-Q1", None):
        with pytest.raises(Exception, match="quarter"):
            spot_checks.period(bad)


def test_verify_names_an_altered_draw(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    _register(cloud, tokens, 3)
    tokens = at(cloud, "2026-01-05")
    did = cloud.post(tokens["insp1"], "/api/v1/spot-checks", {"district": "d1", "period": "2025-Q4",
                                                               "seed_input": "42"}).json()["id"]
    assert audit_text(cloud)[0]
    for sql, words in (("UPDATE spot_draws SET sample = '[]'", f"spot check draw {did} differs"),
                       ("UPDATE spot_draws SET seed_input = '43'", "(seed_input)"),
                       ("DELETE FROM spot_draws", f"spot check draws {did} of the evidence chain are missing")):
        with db.write(cloud.engine) as conn:
            saved = conn.begin_nested()
            unguard(conn, "spot_draws")
            conn.execute(text(sql))
            report = audit.audit(conn, keys={}, files=[])
            saved.rollback()
        assert not report.ok and words in report.text(), (sql, report.text())
    assert audit_text(cloud)[0]


def test_spot_checks_respect_the_tenancy(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    _register(cloud, tokens, 2)
    tokens = at(cloud, "2026-01-05")
    body = {"district": "d1", "period": "2025-Q4", "seed_input": "7"}
    assert cloud.post(tokens["insp2"], "/api/v1/spot-checks", body).status_code == 404
    assert cloud.post(tokens["owner-a"], "/api/v1/spot-checks", body).status_code == 403
    assert cloud.post(None, "/api/v1/spot-checks", body).status_code == 401
    assert cloud.post(tokens["insp1"], "/api/v1/spot-checks", {**body, "district": "nowhere"}).status_code == 404
    did = cloud.post(tokens["insp1"], "/api/v1/spot-checks", body).json()["id"]
    assert cloud.get(tokens["insp2"], f"/api/v1/spot-checks/{did}").status_code == 404
    assert cloud.get(tokens["owner-a"], f"/api/v1/spot-checks/{did}").status_code == 403
    assert cloud.get(tokens["insp2"], "/api/v1/spot-checks").json() == []
    assert [x["id"] for x in cloud.get(tokens["admin"], "/api/v1/spot-checks").json()] == [did]
