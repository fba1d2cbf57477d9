"""POST /api/v1/ingest on SQLite and PostgreSQL: idempotent, whole or nothing, precise refusals, tenancy."""

from __future__ import annotations

import gzip

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch, event, status
from gateway_keys import gateway_token
from sqlalchemy import func, select

from cloud_ingest.store import db
from cloud_ingest.store.schema import (
    alarm_transitions,
    alarms,
    events,
    evidence_log,
    station_status,
)
from sebiao_common.alarms import ALARM_TYPES, MAX_COMMENT_CHARS, MAX_PERSON_CHARS


def counts(cloud) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The rows of the fact tables, and the chain's entries of batches (not the gateway keys' entries)."""
    with db.read(cloud.engine) as conn:
        return {**{t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in (events, alarms, alarm_transitions, station_status)},
                "evidence_log": conn.execute(select(func.count()).select_from(evidence_log).where(
                    evidence_log.c.kind != "gateway_key")).scalar_one()}


def test_a_batch_is_stored_and_replays_change_nothing(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [event(seq=0), event(seq=1, action="placed", ts=T0 + 5), status(), alarm(seq=1)]
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items))
    assert r.status_code == 200, r.text
    assert r.json() == {"items": 4, "accepted": 4, "duplicates": 0, "replayed_batch": False}
    stored = counts(cloud)
    # the chain: one entry for the batch's events, one for the transition
    assert stored == {"events": 2, "alarms": 1, "alarm_transitions": 1, "station_status": 1, "evidence_log": 2}
    # the same batch again: answered, nothing written
    again = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items))
    assert again.status_code == 200 and again.json()["replayed_batch"] is True
    # the same items in a new batch (a retry after a lost answer, re-cut): all duplicates
    retry = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-2", items + [event(seq=2)]))
    assert retry.json() == {"items": 5, "accepted": 1, "duplicates": 4, "replayed_batch": False}
    assert counts(cloud) == {**stored, "events": 3, "evidence_log": 3}


def test_a_batch_id_reused_for_another_body_is_refused(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [event(seq=0)])).status_code == 200
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [event(seq=1)]))
    assert r.status_code == 409 and "b-1" in r.json()["error"]
    assert counts(cloud)["events"] == 1


def test_alarm_picture_follows_the_newest_transition_even_out_of_order(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    gw = tokens["gw-ws-a"]
    cleared = alarm(seq=3, action="cleared", state="cleared", at=T0 + 900, comment="刀具已清洗消毒并放回红色架")
    assert cloud.push(gw, batch("ws-a", "b-2", [cleared])).status_code == 200
    assert cloud.push(gw, batch("ws-a", "b-1", [alarm(seq=1)])).status_code == 200  # older, arrives late
    with db.read(cloud.engine) as conn:
        row = conn.execute(select(alarms)).one()
        assert (row.state, row.history_seq) == ("cleared", 3)
        assert conn.execute(select(func.count()).select_from(alarm_transitions)).scalar_one() == 2


def test_every_workshop_alarm_type_and_the_gateways_limits_are_taken(cloud) -> None:  # type: ignore[no-untyped-def]
    """The cloud takes each alarm type the gateway pushes (a ``station_clock`` too) and a name or comment as long
    as the gateway lets a person write (``sebiao_common.alarms``); one character more is refused by its field."""
    gw = cloud.tenants()["gw-ws-a"]
    items = []
    for i, kind in enumerate(ALARM_TYPES):
        item = alarm(alarm_id=100 + i, seq=2, action="acknowledged", acked=True, comment="改" * MAX_COMMENT_CHARS)
        item["alarm"]["type"] = kind
        item["transition"]["by"] = "王" * MAX_PERSON_CHARS
        items.append(item)
    r = cloud.push(gw, batch("ws-a", "types", items))
    assert r.status_code == 200, r.text
    with db.read(cloud.engine) as conn:
        assert {row.type for row in conn.execute(select(alarms))} == set(ALARM_TYPES)
    items[0]["transition"]["by"] += "王"
    r = cloud.push(gw, batch("ws-a", "too-long", items[:1]))
    assert r.status_code == 400 and "items[0].transition.by" in r.text


@pytest.mark.parametrize("mutate, path, words", [
    (lambda b: b["items"][2].update(seq=-1), "items[2].seq", "must be an integer ≥ 0"),
    (lambda b: b["items"][2].update(seq="7"), "items[2].seq", "must be an integer ≥ 0"),
    (lambda b: b["items"][1].pop("boot"), "items[1].boot", "missing required field"),
    (lambda b: b["items"][0].update(kind="weird"), "items[0].kind", "must be one of event, alarm, status"),
    (lambda b: b["items"][3]["transition"].update(action="exploded"), "items[3].transition.action", "must be one of"),
    (lambda b: b["items"][3]["alarm"].update(workshop="ws-b"), "items[3].alarm.workshop", "must be the batch's"),
    (lambda b: b["items"][1].update(ts=5), "items[1].ts", "after 2020"),
    (lambda b: b["items"][1].update(extra=1), "items[1].extra", "unknown field"),
    (lambda b: b.update(items=[]), "items", "must not be empty"),
    (lambda b: b.update(v=2), "v", "≤"),
])
def test_a_bad_batch_is_refused_whole_naming_item_and_field(cloud, mutate, path, words) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    doc = batch("ws-a", "b-1", [event(seq=0), event(seq=1), event(seq=2), alarm()])
    mutate(doc)
    r = cloud.push(tokens["gw-ws-a"], doc)
    assert r.status_code == 400, r.text
    body = r.json()
    if words != "≤":
        assert body["path"] == path and words in body["error"], body
        assert body["error"].startswith(path + ": ")  # Chinese first, then English
    assert counts(cloud) == {"events": 0, "alarms": 0, "alarm_transitions": 0, "station_status": 0,
                             "evidence_log": 0}


def test_refusals_of_the_body(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    gw = tokens["gw-ws-a"]
    doc = batch("ws-a", "b-1", [event()])
    plain = cloud.push(gw, doc, raw=b'{"v":1}', encoding="identity")
    assert plain.status_code == 400 and "gzip" in plain.json()["error"]
    assert cloud.push(gw, doc, raw=b"\x1f\x8bnot gzip").status_code == 400
    assert cloud.push(gw, doc, raw=gzip.compress(b"{not json")).status_code == 400
    bomb = gzip.compress(b" " * (17 << 20))  # inflates past max_inflated_bytes
    assert cloud.push(gw, doc, raw=bomb).status_code == 413
    many = batch("ws-a", "b-2", [event(seq=i) for i in range(5001)])
    assert cloud.push(gw, many).status_code == 413
    assert counts(cloud)["events"] == 0


def test_a_gateway_token_writes_only_its_own_workshop(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    r = cloud.push(tokens["gw-ws-a"], batch("ws-b", "b-1", [event()]))
    assert r.status_code == 403 and "ws-a" in r.json()["error"]
    for who in ("admin", "insp1", "owner-a"):  # people's tokens do not push
        assert cloud.push(tokens[who], batch("ws-a", "b-1", [event()])).status_code == 403
    assert cloud.push(None or "sbg_unknown", batch("ws-a", "b-1", [event()])).status_code == 401
    assert counts(cloud)["events"] == 0


def test_a_revoked_gateway_token_is_refused(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    issued = cloud.post(tokens["admin"], "/api/v1/admin/tokens", gateway_token("ws-a"))
    assert issued.status_code == 201
    token, token_id = issued.json()["token"], issued.json()["id"]
    assert cloud.push(token, batch("ws-a", "b-1", [event(seq=0)])).status_code == 200
    assert cloud.post(tokens["admin"], f"/api/v1/admin/tokens/{token_id}/revoke").status_code == 200
    assert cloud.push(token, batch("ws-a", "b-2", [event(seq=1)])).status_code == 401
    assert cloud.post(tokens["admin"], f"/api/v1/admin/tokens/{token_id}/revoke").status_code == 409
    assert counts(cloud)["events"] == 1


def test_the_documented_batch_is_accepted(cloud) -> None:  # type: ignore[no-untyped-def]
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "cloud-ingest.md").read_text()
    doc = json.loads(re.findall(r"```json\n(.*?)```", text, re.S)[0])
    from cloud_ingest.access import admin

    cloud.tenants()
    cloud.as_admin(admin.create_workshop, {"id": "ws-demo", "name": "演示作坊", "district": "d1"}, cloud.now)
    token = cloud.as_admin(admin.issue_token, gateway_token("ws-demo"), cloud.now)["token"]
    r = cloud.push(token, doc)
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
