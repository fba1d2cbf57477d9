"""Staff training records (六(五)) pushed by a gateway, against the real ``sebiao cloud`` process, on SQLite and
PostgreSQL: stored once per (workshop, gateway id) and chained, summarised per workshop (the last training day,
the people trained), read by the district's inspectors and admins only, and refused naming the item when bad.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a (``Cloud.tenants``).
"""

from __future__ import annotations

import json

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, batch, event
from cloud_server import *  # noqa: F401,F403 - the served_cloud fixture
from cloud_server import Served
from sqlalchemy import func, select

from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store import signed as signatures
from cloud_ingest.store.schema import evidence_log, trainings

pytestmark = pytest.mark.slow


def training(record_id: int, day: str, who: str, topic: str = "色标分区与清洗", by: str = "李店长") -> dict:
    return {"kind": "training", "id": record_id, "day": day, "who": who, "topic": topic, "by": by,
            "recorded_at": T0 + record_id}


RECORDS = [training(1, "2025-10-08", "张三"), training(2, "2025-10-08", "李四"),
           training(3, "2025-11-20", "张三", "生熟分开：白色砧板只切熟食"), training(4, "2025-11-20", "王五")]


def _training(served: Served, who: str | None, ws: str = "ws-a"):  # type: ignore[no-untyped-def]
    return served.process.get(served.tokens[who] if who else None, f"/api/v1/workshops/{ws}/training")


def test_trainings_are_stored_once_summarised_and_chained(served_cloud: Served) -> None:
    process, gw = served_cloud.process, served_cloud.tokens["gw-ws-a"]
    first = process.push(gw, batch("ws-a", "b-1", [event(), *RECORDS[:2]]))
    assert first.status_code == 200 and first.json()["accepted"] == 3, first.text
    again = process.push(gw, batch("ws-a", "b-2", RECORDS))  # two of them a second time (a retry): kept once
    assert again.status_code == 200 and (again.json()["accepted"], again.json()["duplicates"]) == (2, 2), again.text

    doc = _training(served_cloud, "insp1").json()
    assert (doc["total"], doc["last_day"], doc["last_people"]) == (4, "2025-11-20", ["张三", "王五"])
    assert [(p["who"], p["last_day"], p["trainings"]) for p in doc["people"]] == [
        ("张三", "2025-11-20", 2), ("王五", "2025-11-20", 1), ("李四", "2025-10-08", 1)]
    assert [(r["id"], r["who"], r["by"]) for r in doc["records"]][:2] == [(4, "王五", "李店长"), (3, "张三", "李店长")]
    assert doc["records"][1]["topic"] == "生熟分开：白色砧板只切熟食"
    assert _training(served_cloud, "admin").status_code == 200
    listed = {w["id"]: w["last_training_day"] for w in process.get(served_cloud.tokens["insp1"],
                                                                     "/api/v1/workshops").json()}
    assert listed == {"ws-a": "2025-11-20", "ws-b": None}  # the day in the list, the names on the page only
    empty = _training(served_cloud, "insp1", "ws-b").json()
    assert (empty["total"], empty["last_day"], empty["last_people"], empty["records"]) == (0, None, [], [])

    cloud = served_cloud.cloud
    with db.read(cloud.engine) as conn:
        entries = [json.loads(r.body) for r in conn.execute(select(evidence_log).where(
            evidence_log.c.kind == "training").order_by(evidence_log.c.seq))]
        assert evidence.verify(conn).ok and coverage.check(conn).ok and signatures.check(conn).ok
    assert [e["row"]["gateway_id"] for e in entries] == [1, 2, 3, 4]
    with db.write(cloud.engine) as conn:  # a record forged with its entry, under a signature copied from a real one
        row = conn.execute(trainings.insert().values(
            workshop_id="ws-a", gateway_id=9, day="2025-11-25", who="从未培训的人", topic="色标", trainer="李店长",
            recorded_at=T0 + 9, received_at=T0 + 9).returning(*trainings.c)).one()
        evidence.append(conn, T0 + 9, "training", "ws-a", None,
                        {"row": coverage.fact(trainings, row._mapping), "signed": entries[0]["signed"]})
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn).ok and coverage.check(conn).ok  # the chain and the table agree ...
        forged = signatures.check(conn)  # ... but the gateway never signed it
    assert not forged.ok and "the training record is not what the gateway signed" in forged.lines()[0]
    with db.write(cloud.engine) as conn:  # a name changed afterwards is named by verify
        conn.execute(trainings.update().where(trainings.c.gateway_id == 2).values(who="赵六"))
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
    assert not found.ok and "trainings row 2 differs" in found.lines()[0] and "who" in found.lines()[0]


def test_only_the_districts_inspectors_and_admins_read_the_names(served_cloud: Served) -> None:
    process = served_cloud.process
    assert process.push(served_cloud.tokens["gw-ws-a"], batch("ws-a", "b-1", RECORDS)).status_code == 200
    for who, status in [("insp2", 404), ("owner-c", 404), ("owner-a", 403), ("gw-ws-a", 403), ("gw-ws-c", 403),
                        (None, 401)]:
        answer = _training(served_cloud, who)
        assert answer.status_code == status, (who, answer.text)
        assert "张三" not in answer.text
    for path in ("/api/v1/public/workshops/ws-a/grades", "/api/v1/public/districts/d1/grades"):
        assert "张三" not in process.get(None, path).text
    # a gateway token pushes only its own workshop's records
    assert process.push(served_cloud.tokens["gw-ws-c"], batch("ws-a", "b-x", [training(9, "2025-11-21", "X")])
                        ).status_code == 403


def test_bad_training_items_are_refused_naming_them(served_cloud: Served) -> None:
    process, gw = served_cloud.process, served_cloud.tokens["gw-ws-a"]
    assert process.push(gw, batch("ws-a", "b-1", RECORDS[:1])).status_code == 200
    bad = [
        ({**RECORDS[1], "day": "2025-02-30"}, "items[0].day"),
        ({**RECORDS[1], "day": "20251008"}, "items[0].day"),
        ({**RECORDS[1], "who": ""}, "items[0].who"),
        ({**RECORDS[1], "who": "张" * 65}, "items[0].who"),
        ({**RECORDS[1], "topic": "课" * 201}, "items[0].topic"),
        ({**RECORDS[1], "id": 0}, "items[0].id"),
        ({**RECORDS[1], "extra": 1}, "items[0].extra"),
        ({k: v for k, v in RECORDS[1].items() if k != "by"}, "items[0].by"),
        ({**RECORDS[0], "who": "另一个人"}, "items[0].id"),  # id 1 is stored with other content: a replaced store
    ]
    for n, (item, path) in enumerate(bad):
        answer = process.push(gw, batch("ws-a", f"bad-{n}", [item]))
        assert (answer.status_code, answer.json().get("path")) == (400, path), (item, answer.text)
    with db.read(served_cloud.cloud.engine) as conn:
        assert conn.execute(select(func.count()).select_from(trainings)).scalar_one() == 1
