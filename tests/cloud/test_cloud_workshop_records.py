"""A workshop's record (登记信息) against the real ``sebiao cloud`` process, on SQLite and PostgreSQL: an inspector
of the district fills it in, every change is a row and an evidence entry that ``verify`` holds it to, the attacks
(another district's inspector, the workshop's owner, a gateway token, no token) are refused, bad fields are
refused naming them, and workshops from before migration 0012 come through with empty records.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a (``Cloud.tenants``).
"""

from __future__ import annotations

import json

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud, unguard
from cloud_server import *  # noqa: F401,F403 - the served_cloud fixture
from cloud_server import Served
from sqlalchemy import create_engine, select, text

from cloud_ingest.access import admin
from cloud_ingest.store import coverage, db, evidence, migrate
from cloud_ingest.store.schema import evidence_log, users, workshop_records

RECORD = {"registration": "内蒙古包头（昆）食坊登字2024-0317", "category": "liangpi",
          "address": "包头市昆都仑区钢铁大街 21 号", "responsible": "王建国", "phone": "0472-5123456"}


def _user_id(cloud: Cloud, name: str) -> int:
    with db.read(cloud.engine) as conn:
        return conn.execute(select(users.c.id).where(users.c.username == name)).scalar_one()


def _save(served: Served, who: str | None, ws: str, body: object):  # type: ignore[no-untyped-def]
    return served.process.post(served.tokens[who] if who else None, f"/api/v1/workshops/{ws}/record", body)


def _read(served: Served, who: str | None, ws: str):  # type: ignore[no-untyped-def]
    return served.process.get(served.tokens[who] if who else None, f"/api/v1/workshops/{ws}/record")


@pytest.mark.slow
def test_an_inspector_fills_the_record_and_every_change_is_chained(served_cloud: Served) -> None:
    cloud = served_cloud.cloud
    empty = _read(served_cloud, "insp1", "ws-a")
    assert empty.status_code == 200, empty.text
    assert empty.json()["filled"] is False and empty.json()["registration"] is None and empty.json()["history"] == []

    insp1 = _user_id(cloud, "insp1")
    first = _save(served_cloud, "insp1", "ws-a", {**RECORD, "inspector": insp1})
    assert first.status_code == 200, first.text
    doc = first.json()
    assert doc["changed"] == ["registration", "category", "address", "responsible", "phone", "inspector"]
    assert (doc["category_zh"], doc["inspector"]) == ("凉皮", {"id": insp1, "username": "insp1"})

    again = _save(served_cloud, "insp1", "ws-a", {"phone": "0472-5123456"})  # nothing changed: no new row
    assert again.status_code == 200 and again.json()["changed"] == []
    moved = _save(served_cloud, "admin", "ws-a", {"phone": "13904721234", "category": "other",
                                                  "category_other": "手工挂面"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["changed"] == ["category", "category_other", "phone"]
    cleared = _save(served_cloud, "insp1", "ws-a", {"address": None, "category": "plant"})
    assert cleared.json()["changed"] == ["category", "category_other", "address"]

    read = _read(served_cloud, "owner-a", "ws-a").json()  # the owner reads its own workshop's record
    assert (read["category"], read["category_other"], read["address"], read["phone"]) == (
        "plant", None, None, "13904721234")
    assert [(h["by"], h["changed"]) for h in read["history"]] == [
        ("insp1", ["category", "category_other", "address"]), ("admin", ["category", "category_other", "phone"]),
        ("insp1", ["registration", "category", "address", "responsible", "phone", "inspector"])]

    with db.read(cloud.engine) as conn:
        entries = [json.loads(r.body) for r in conn.execute(select(evidence_log).where(
            evidence_log.c.kind == "workshop_record").order_by(evidence_log.c.seq))]
        assert evidence.verify(conn).ok and coverage.check(conn).ok
    assert [(e["by"], e["row"]["phone"]) for e in entries] == [
        ("insp1", "0472-5123456"), ("admin", "13904721234"), ("insp1", "13904721234")]

    with db.write(cloud.engine) as conn:  # the append-only guard holds ...
        with pytest.raises(Exception, match="append-only"):
            with conn.begin_nested():
                conn.execute(workshop_records.update().values(registration="假证号"))
    with db.write(cloud.engine) as conn:  # ... and with it off, verify names the row changed afterwards
        unguard(conn, "workshop_records")
        conn.execute(workshop_records.update().where(workshop_records.c.id == 1).values(registration="假证号"))
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
    assert not found.ok and "workshop_records row 1 differs" in found.lines()[0] and "registration" in found.lines()[0]


@pytest.mark.slow
def test_the_attacks_are_refused_and_change_nothing(served_cloud: Served) -> None:
    assert _save(served_cloud, "insp1", "ws-a", RECORD).status_code == 200
    attacks = [
        ("insp2", "ws-a", 404),    # another district's inspector: the workshop does not exist for it
        ("owner-a", "ws-a", 403),  # the workshop's own owner may read, not edit
        ("owner-c", "ws-a", 404),  # another workshop's owner
        ("gw-ws-a", "ws-a", 403),  # the workshop's own gateway token
        (None, "ws-a", 401),       # no token
        ("insp1", "ws-c", 404),    # an inspector reaching into another district
    ]
    for who, ws, status in attacks:
        answer = _save(served_cloud, who, ws, {"registration": "X-1", "phone": "13800000000"})
        assert answer.status_code == status, (who, ws, answer.text)
    for who, ws, status in [("insp2", "ws-a", 404), ("owner-c", "ws-a", 404), ("gw-ws-a", "ws-a", 403),
                            (None, "ws-a", 401)]:
        assert _read(served_cloud, who, ws).status_code == status, who
    after = _read(served_cloud, "insp1", "ws-a").json()
    assert after["registration"] == RECORD["registration"] and len(after["history"]) == 1


@pytest.mark.slow
def test_bad_fields_are_refused_naming_them(served_cloud: Served) -> None:
    cloud = served_cloud.cloud
    insp2, owner = _user_id(cloud, "insp2"), _user_id(cloud, "owner-a")
    cloud.as_admin(admin.create_user, {"username": "insp-off", "password": "pw-insp-off-123456",
                                       "role": "inspector", "districts": ["d1"]}, cloud.now)
    assert _save(served_cloud, "insp1", "ws-b", {"registration": "BT-2024-0001"}).status_code == 200
    bad = [
        ({"category": "bakery"}, "category"),                         # not in the seed's list
        ({"category": "other"}, "category_other"),                    # "other" says what
        ({"category": "plant", "category_other": "x"}, "category_other"),
        ({"registration": "BT 2024 0001"}, "registration"),          # spaces
        ({"registration": "B" * 41}, "registration"),
        ({"registration": "BT-2024-0001"}, "registration"),          # ws-b holds it
        ({"phone": "12345"}, "phone"),
        ({"phone": 13904721234}, "phone"),
        ({"address": "地址\u0000"}, "address"),
        ({"responsible": "王" * 65}, "responsible"),
        ({"inspector": insp2}, "inspector"),                           # an inspector of another district
        ({"inspector": owner}, "inspector"),                           # not an inspector
        ({"inspector": 999999}, "inspector"),
        ({"inspector": True}, "inspector"),
        ({"grade": "gold"}, "grade"),                                  # not a field of the record
    ]
    for body, field in bad:
        answer = _save(served_cloud, "insp1", "ws-a", body)
        assert (answer.status_code, answer.json().get("path")) == (400, field), (body, answer.text)
    assert _save(served_cloud, "insp1", "ws-a", []).status_code == 400
    assert _read(served_cloud, "insp1", "ws-a").json()["history"] == []  # nothing was stored

    # the inspector assigned, disabled since: the record keeps it through saves of other fields (the form sends
    # it back as it is), but it cannot be assigned anew
    off = _user_id(cloud, "insp-off")
    assert _save(served_cloud, "insp1", "ws-a", {"inspector": off}).status_code == 200
    cloud.as_admin(admin.disable_user, off, cloud.now)
    kept = _save(served_cloud, "insp1", "ws-a", {"inspector": str(off), "phone": "13904721234"})
    assert kept.status_code == 200 and kept.json()["changed"] == ["phone"], kept.text
    assert _save(served_cloud, "insp1", "ws-b", {"inspector": off}).json()["path"] == "inspector"


def test_workshops_from_before_come_through_with_empty_records(cloud_url: str) -> None:
    engine = create_engine(cloud_url)
    try:
        migrate.upgrade(engine, "0011", clock=lambda: 1)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO districts (id, name) VALUES ('d1', '昆都仑区')"))
            conn.execute(text("INSERT INTO workshops (id, name, district_id, created_at) "
                              "VALUES ('ws-old', '老作坊', 'd1', 1)"))
        assert migrate.upgrade(engine, clock=lambda: 2) == migrate.head()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM workshops")).scalar_one() == "老作坊"
            assert conn.execute(text("SELECT count(*) FROM workshop_records")).scalar_one() == 0
    finally:
        engine.dispose()
