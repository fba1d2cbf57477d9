"""The stations table: kind and zone as the gateways' status items give them, the newest status, one
multi-row upsert per batch; the optional ``station_kind`` and ``zone`` fields validated; on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, batch, event, status
from sqlalchemy import event as sa_event
from sqlalchemy import select

from cloud_ingest.store.schema import station_status, stations


def known(station: str, ts: int, online: bool, kind: str | None, zone: str | None) -> dict:
    item = status(station, ts, online)
    item.update({k: v for k, v in (("station_kind", kind), ("zone", zone)) if v is not None})
    return item


def rows(cloud) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    with cloud.engine.connect() as conn:
        return {r.station: (r.kind, r.zone, r.first_seen, r.last_ts, r.online)
                for r in conn.execute(select(stations).where(stations.c.workshop_id == "ws-a"))}


@pytest.mark.parametrize("field, value, words", [
    ("station_kind", "bench", "must be one of: rack, sink"),
    ("station_kind", "Rack", "must be one of: rack, sink"),
    ("station_kind", 1, "must be one of: rack, sink"),
    ("zone", "purple", "must be one of: red, blue, green, yellow, white"),
    ("zone", "", "must be one of"),
    ("zone", ["red"], "must be one of"),
])
def test_a_wrong_kind_or_zone_is_refused_naming_item_and_field(cloud, field, value, words) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [event(seq=0), known("a1", T0, True, "rack", "red")]
    items[1][field] = value
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["path"] == f"items[1].{field}" and words in body["error"], body
    assert body["error"].startswith(f"items[1].{field}: 必须是以下之一") and " / " in body["error"]
    assert rows(cloud) == {}  # refused whole


def test_kind_and_zone_are_optional_and_not_health(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    nulls = {**status("s2", T0, True), "station_kind": None, "zone": None}
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [known("a1", T0, True, "rack", "red"),
                                                             status("old-1", T0, False), nulls]))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    assert rows(cloud) == {"a1": ("rack", "red", T0, T0, True), "old-1": (None, None, T0, T0, False),
                           "s2": (None, None, T0, T0, True)}
    with cloud.engine.connect() as conn:
        health = {r.station: json.loads(r.health) for r in conn.execute(select(station_status))}
    assert health == {"a1": {"fw": "1.0.0"}, "old-1": {"fw": "1.0.0"}, "s2": {"fw": "1.0.0"}}


def test_the_newest_status_wins_and_kind_and_zone_stay_when_not_given(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    gw = tokens["gw-ws-a"]
    first_seen = cloud.now
    steps = [
        # a status and a station heard of only by its events: kind, zone and status unknown
        ([known("a1", T0, True, "rack", "red"), event("s2", seq=0), event("s2", seq=1)],
         {"a1": ("rack", "red", first_seen, T0, True), "s2": (None, None, first_seen, None, None)}),
        # an older status arriving late (a retried batch) changes nothing, kind and zone included
        ([known("a1", T0 - 1000, False, "sink", "blue")],
         {"a1": ("rack", "red", first_seen, T0, True), "s2": (None, None, first_seen, None, None)}),
        # a newer status without kind and zone (an older gateway) moves the status, keeps kind and zone
        ([known("a1", T0 + 1000, False, None, None)],
         {"a1": ("rack", "red", first_seen, T0 + 1000, False), "s2": (None, None, first_seen, None, None)}),
        # several statuses of a station in one batch: the newest, whatever the order; an event changes nothing
        ([known("a1", T0 + 3000, True, "sink", "white"), known("a1", T0 + 2000, False, "rack", "green"),
          event("a1", seq=5), known("s2", T0, True, "sink", "white")],
         {"a1": ("sink", "white", first_seen, T0 + 3000, True), "s2": ("sink", "white", first_seen, T0, True)}),
        # the same ts again (a replayed fact) is not newer
        ([known("a1", T0 + 3000, False, "rack", "red")],
         {"a1": ("sink", "white", first_seen, T0 + 3000, True), "s2": ("sink", "white", first_seen, T0, True)}),
    ]
    for n, (items, expected) in enumerate(steps):
        cloud.now += 60_000  # first_seen is the cloud clock of the first batch, never moved
        r = cloud.push(gw, batch("ws-a", f"b-{n}", items))
        assert r.status_code == 200, r.text
        assert rows(cloud) == {k: (v[0], v[1], first_seen + 60_000, v[3], v[4]) for k, v in expected.items()}, n
    # another workshop's station of the same name is its own row
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "b-0", [known("a1", T0, True, "sink", "blue")])
                      ).status_code == 200
    assert rows(cloud)["a1"][:2] == ("sink", "white")


def test_one_statement_for_the_stations_of_a_batch(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    items = [known(f"st-{i % 20}", T0 + i, i % 3 > 0, ("rack", "sink")[i % 2], "yellow") for i in range(500)]
    items += [event(f"ev-{i}", seq=i) for i in range(30)]
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "stations" in statement and "station_status" not in statement.replace("stations.", ""):
            seen.append(statement)
    sa_event.listen(cloud.engine, "before_cursor_execute", listener)
    try:
        r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", items))
    finally:
        sa_event.remove(cloud.engine, "before_cursor_execute", listener)
    assert r.status_code == 200 and r.json()["accepted"] == 530, r.text
    assert len(seen) == 1 and "ON CONFLICT" in seen[0], seen
    found = rows(cloud)
    assert len(found) == 50
    # st-k's newest status is item 480 + k: online when (480 + k) % 3 > 0, kind by its parity
    assert all(found[f"st-{k}"][1:] == ("yellow", cloud.now, T0 + 480 + k, (480 + k) % 3 > 0)
               and found[f"st-{k}"][0] == ("rack", "sink")[k % 2] for k in range(20))
    assert all(found[f"ev-{i}"] == (None, None, cloud.now, None, None) for i in range(30))
