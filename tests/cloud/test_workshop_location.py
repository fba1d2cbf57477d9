"""Where a workshop is (migration 0018): the latitude and longitude of its record, WGS-84, against the real
``sebiao cloud`` process on SQLite and PostgreSQL. An inspector of the district sets them (a new row and an
evidence entry naming the fields changed), the API gives them back with the datum and a ``geo:`` link, bad
coordinates are refused naming the field, the attacks change nothing, and the records stored before the
migration keep their rows and their evidence (a location slipped into one afterwards is named by ``verify``).
The projection and the marker state of the map are table-tested here too (pure).

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a owns ws-a (``Cloud.tenants``).
"""

from __future__ import annotations

import json
import math

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import unguard
from cloud_server import *  # noqa: F401,F403 - the served_cloud fixture
from cloud_server import Served
from sqlalchemy import create_engine, select, text

from cloud_ingest.errors import BadRequest
from cloud_ingest.review import locations, workshop_map
from cloud_ingest.store import coverage, db, evidence, migrate
from cloud_ingest.store.schema import evidence_log, workshop_records

BAOTOU = {"latitude": 40.657123, "longitude": 109.840347}  # 昆都仑区


def _save(served: Served, who: str | None, ws: str, body: object):  # type: ignore[no-untyped-def]
    return served.process.post(served.tokens[who] if who else None, f"/api/v1/workshops/{ws}/record", body)


def _read(served: Served, who: str | None, ws: str):  # type: ignore[no-untyped-def]
    return served.process.get(served.tokens[who] if who else None, f"/api/v1/workshops/{ws}/record")


@pytest.mark.slow
def test_an_inspector_places_the_workshop_and_it_is_chained(served_cloud: Served) -> None:
    cloud = served_cloud.cloud
    empty = _read(served_cloud, "insp1", "ws-a").json()
    assert (empty["latitude"], empty["longitude"], empty["geo_uri"], empty["datum"]) == (None, None, None, "WGS-84")

    first = _save(served_cloud, "insp1", "ws-a", {**BAOTOU, "phone": "0472-5123456"})
    assert first.status_code == 200, first.text
    assert first.json()["changed"] == ["phone", "latitude", "longitude"]
    read = _read(served_cloud, "owner-a", "ws-a").json()  # the owner reads its own workshop's location
    assert (read["latitude"], read["longitude"]) == (40.657123, 109.840347)
    assert read["geo_uri"] == "geo:40.657123,109.840347"

    kept = _save(served_cloud, "insp1", "ws-a", {"address": "钢铁大街 21 号"})  # other fields: the location stays
    assert kept.json()["changed"] == ["address"] and kept.json()["latitude"] == 40.657123
    text_form = _save(served_cloud, "admin", "ws-a", {"latitude": " 40.6571234 ", "longitude": "+109.8"})
    assert text_form.status_code == 200, text_form.text  # the form's text; more than 6 digits rounded
    assert (text_form.json()["latitude"], text_form.json()["longitude"]) == (40.657123, 109.8)
    assert text_form.json()["changed"] == ["longitude"]  # the latitude rounds to what was stored
    cleared = _save(served_cloud, "insp1", "ws-a", {"latitude": None, "longitude": ""})
    assert cleared.json()["changed"] == ["latitude", "longitude"] and cleared.json()["geo_uri"] is None
    history = _read(served_cloud, "insp1", "ws-a").json()["history"]
    assert [h["changed"] for h in history] == [["latitude", "longitude"], ["longitude"], ["address"],
                                               ["phone", "latitude", "longitude"]]

    with db.read(cloud.engine) as conn:
        entries = [json.loads(r.body) for r in conn.execute(select(evidence_log).where(
            evidence_log.c.kind == "workshop_record").order_by(evidence_log.c.seq))]
        assert evidence.verify(conn).ok and coverage.check(conn).ok
    assert [(e["row"]["latitude_e6"], e["row"]["longitude_e6"]) for e in entries] == [
        (40657123, 109840347), (40657123, 109840347), (40657123, 109800000), (None, None)]
    assert entries[0]["changed"] == ["phone", "latitude", "longitude"]

    with db.write(cloud.engine) as conn:  # a workshop moved afterwards, behind the guard's back, is named
        unguard(conn, "workshop_records")
        conn.execute(workshop_records.update().where(workshop_records.c.id == 1).values(latitude_e6=41000000))
    with db.read(cloud.engine) as conn:
        found = coverage.check(conn)
    assert not found.ok and "workshop_records row 1 differs" in found.lines()[0]
    assert "latitude_e6" in found.lines()[0]


@pytest.mark.slow
def test_bad_coordinates_are_refused_naming_the_field(served_cloud: Served) -> None:
    bad = [
        ({"latitude": 90.0000001, "longitude": 0}, "latitude", "纬度须在 -90 到 90"),
        ({"latitude": -91, "longitude": 0}, "latitude", "[-90, 90]"),
        ({"latitude": 40, "longitude": 180.5}, "longitude", "经度须在 -180 到 180"),
        ({"latitude": 40, "longitude": -181}, "longitude", "[-180, 180]"),
        ({"latitude": 40.6}, "longitude", "同时填写"),           # both or neither
        ({"longitude": 109.8}, "latitude", "both the latitude and the longitude"),
        ({"latitude": 40.6, "longitude": None}, "longitude", "同时留空"),
        ({"latitude": "40°39′", "longitude": 109.8}, "latitude", "十进制度数"),
        ({"latitude": "NaN", "longitude": 109.8}, "latitude", "decimal degrees"),
        ({"latitude": "inf", "longitude": 109.8}, "latitude", "decimal degrees"),
        ({"latitude": "40,6", "longitude": 109.8}, "latitude", "decimal degrees"),
        ({"latitude": True, "longitude": 109.8}, "latitude", "decimal degrees"),
        ({"latitude": [40], "longitude": 109.8}, "latitude", "decimal degrees"),
        ({"latitude": 40.6, "longitude": {"deg": 109}}, "longitude", "decimal degrees"),
    ]
    for body, field, words in bad:
        answer = _save(served_cloud, "insp1", "ws-a", body)
        assert (answer.status_code, answer.json().get("path")) == (400, field), (body, answer.text)
        assert words in answer.text and ("纬度" in answer.text or "经度" in answer.text), answer.text
    infinite = _save(served_cloud, "insp1", "ws-a", b'{"latitude": 1e999, "longitude": 109.8}')  # JSON: infinity
    assert (infinite.status_code, infinite.json().get("path")) == (400, "latitude"), infinite.text
    assert _read(served_cloud, "insp1", "ws-a").json()["history"] == []  # nothing was stored

    assert _save(served_cloud, "insp1", "ws-a", BAOTOU).status_code == 200
    for who, ws, status in [("insp2", "ws-a", 404), ("owner-a", "ws-a", 403), ("gw-ws-a", "ws-a", 403),
                            (None, "ws-a", 401), ("insp1", "ws-c", 404)]:
        answer = _save(served_cloud, who, ws, {"latitude": 0, "longitude": 0})
        assert answer.status_code == status, (who, ws, answer.text)
    after = _read(served_cloud, "insp1", "ws-a").json()
    assert (after["latitude"], len(after["history"])) == (40.657123, 1)
    assert _read(served_cloud, "insp1", "ws-c").status_code == 404  # nor read across districts


def test_records_from_before_keep_their_rows_and_evidence(cloud_url: str) -> None:
    engine = create_engine(cloud_url)
    try:
        migrate.upgrade(engine, "0017", clock=lambda: 1)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO districts (id, name) VALUES ('d1', '昆都仑区')"))
            conn.execute(text("INSERT INTO workshops (id, name, district_id, created_at) "
                              "VALUES ('ws-old', '老作坊', 'd1', 1)"))
            conn.execute(text("INSERT INTO users (id, username, password_hash, role, created_at) "
                              "VALUES (7, 'insp-old', 'x', 'inspector', 1)"))
            conn.execute(text("INSERT INTO workshop_records (id, workshop_id, registration, phone, set_by, set_at) "
                              "VALUES (1, 'ws-old', 'BT-2024-0001', '0472-5123456', 7, 5)"))
            row = {"id": 1, "workshop_id": "ws-old", "registration": "BT-2024-0001", "category": None,
                   "category_other": None, "address": None, "responsible": None, "phone": "0472-5123456",
                   "inspector_id": None, "set_by": 7, "set_at": 5}  # the fact as a save before 0018 wrote it
            evidence.append(conn, 5, "workshop_record", "ws-old", None,
                            {"by": "insp-old", "changed": ["registration", "phone"], "row": row})
        assert migrate.upgrade(engine, clock=lambda: 2) == migrate.head()
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT registration, phone, latitude_e6, longitude_e6 FROM workshop_records")
                                ).one()
            assert tuple(kept) == ("BT-2024-0001", "0472-5123456", None, None)
            assert evidence.verify(conn).ok and coverage.check(conn).ok  # the entry without the new columns
        with engine.begin() as conn:
            unguard(conn, "workshop_records")
            conn.execute(text("UPDATE workshop_records SET latitude_e6 = 40000000, longitude_e6 = 109000000"))
        with engine.connect() as conn:
            found = coverage.check(conn)
        assert not found.ok and "longitude_e6" in found.lines()[0] and "latitude_e6" in found.lines()[0]
        with engine.begin() as conn:  # and the database itself refuses half a location or one off the globe
            for lat, lon in (("40000000", "NULL"), ("90000001", "0"), ("0", "-180000001")):
                with pytest.raises(Exception, match="(?i)check"):
                    with conn.begin_nested():
                        conn.execute(text("INSERT INTO workshop_records (workshop_id, set_by, set_at, latitude_e6, "
                                          f"longitude_e6) VALUES ('ws-old', 7, 9, {lat}, {lon})"))
    finally:
        engine.dispose()


# -- pure: the coordinates, the projection, the marker --------------------------------------


@pytest.mark.parametrize(("key", "value", "e6"), [
    ("latitude", 40.657123, 40657123), ("latitude", "-90", -90000000), ("longitude", 180, 180000000),
    ("longitude", "109.8403475", 109840348), ("longitude", "-0.0000004", 0), ("latitude", ".5", 500000),
    ("latitude", None, None), ("latitude", "  ", None), ("latitude", "４０．５", 40500000)])
def test_a_coordinate_in_millionths(key: str, value: object, e6: int | None) -> None:
    assert locations.parse(key, value) == e6


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "1e2", "40.6N", "٤٠", 90.5, "0x10", "40.5.1"])
def test_a_bad_latitude_is_named(value: object) -> None:
    with pytest.raises(BadRequest) as refused:
        locations.parse("latitude", value)
    assert refused.value.path == "latitude"


def test_the_geo_link_and_the_text() -> None:
    assert locations.geo_uri(40657123, 109840347) == "geo:40.657123,109.840347"
    assert locations.geo_uri(-33900000, -70) == "geo:-33.9,-0.00007"
    assert locations.text(0) == "0" and locations.text(-500000) == "-0.5"


def test_the_projection_keeps_north_up_and_one_scale() -> None:
    # two workshops 0.1° apart east-west and 0.1° north-south at 40°N: east spans cos(40°) of north
    plane = workshop_map.project([(40_600_000, 109_800_000), (40_700_000, 109_900_000), (40_650_000, 109_850_000)])
    (x1, y1), (x2, y2), (x3, y3) = plane.xy
    assert x2 > x1 and y2 < y1  # east is right, north is up
    assert abs((x2 - x1) / (y1 - y2) - math.cos(math.radians(40.65))) < 0.01
    assert abs(x3 - (x1 + x2) / 2) < 0.2 and abs(y3 - (y1 + y2) / 2) < 0.2
    for x, y in plane.xy:
        assert workshop_map.PADDING - 0.1 <= x <= plane.width - workshop_map.PADDING + 0.1
        assert workshop_map.PADDING - 0.1 <= y <= plane.height - workshop_map.PADDING + 0.1
    assert workshop_map.HEIGHTS[0] <= plane.height <= workshop_map.HEIGHTS[1]


@pytest.mark.parametrize("points", [[(40_000_000, 109_000_000)], [(40_000_000, 109_000_000)] * 3,
                                    [(40_000_000, 109_000_000), (40_000_000, 109_500_000)],
                                    [(40_000_000, 109_000_000), (40_400_000, 109_000_000)], []])
def test_the_projection_of_few_points_stays_inside(points: list[tuple[int, int]]) -> None:
    plane = workshop_map.project(points)
    assert len(plane.xy) == len(points)
    for x, y in plane.xy:
        assert 0 < x < plane.width and 0 < y < plane.height


@pytest.mark.parametrize(("state", "overdue", "shown"), [
    ("silent", 2, "silent"), ("silent", 0, "silent"), ("fresh", 1, "overdue"), ("never", 1, "overdue"),
    ("never", 0, "never"), ("fresh", 0, "fresh")])
def test_the_marker_shows_the_most_urgent_state(state: str, overdue: int, shown: str) -> None:
    row = {"freshness": {"state": state}, "ledger": {"open": overdue, "overdue": overdue}}
    assert workshop_map.marker(row) == shown
