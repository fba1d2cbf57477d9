"""The workshops' public pages (/p/{slug}) on SQLite and PostgreSQL: what they show and what they never show,
the addresses (random, rotated, never telling whether a workshop exists), the cache and the brake.

Districts d1 (ws-a, ws-b) and d2 (ws-c) (``Cloud.tenants``); the cloud's clock is T0 (2025-11-26 15:40 CST).
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import CORRECTIVE, T0, Cloud, world_batches
from cloud_server import ServedApp
from sqlalchemy import event, text, update
from starlette.testclient import TestClient

from cloud_ingest.access import admin, public_slugs
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import build_app
from cloud_ingest.config import PublicPages, load_cloud_config
from cloud_ingest.public import page
from cloud_ingest.public.cache import ClientBrake, PageCache
from cloud_ingest.public.summary import all_online
from cloud_ingest.review import grades
from cloud_ingest.store import db, migrate
from cloud_ingest.store.schema import workshops
from sebiao_common.errors import ConfigError

STAFF = "王师傅"  # in the world's transitions (``by``) and corrective action, and in the rectification below
H = 3_600_000


# -- the pure parts --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("names, rows, want", [
    ([], [], 0),  # nothing watched: nothing counts
    (["a"], [("a", 0, True)], 10 * H),
    (["a"], [("a", -5 * H, True)], 10 * H),  # its state at the start holds from the start
    (["a"], [("a", 2 * H, True)], 8 * H),  # before its first status it is not known to be online
    (["a", "b"], [("a", 0, True), ("b", 0, True), ("b", 4 * H, False), ("b", 6 * H, True)], 8 * H),
    (["a", "b"], [("a", 0, True)], 0),  # b never reported: never "every reader online"
    (["a", "b"], [("a", 0, True), ("b", 0, True), ("x", 0, False)], 10 * H),  # not a station of this workshop
    (["a"], [("a", 0, True), ("a", 20 * H, False)], 10 * H),  # after the end changes nothing
])
def test_all_online_counts_only_time_with_every_station_online(names, rows, want) -> None:
    assert all_online(names, rows, 0, 10 * H) == want


def test_the_cache_builds_once_per_ttl_and_keeps_at_most_its_cap() -> None:
    now = [0.0]
    cache = PageCache(ttl=30, entries=3, clock=lambda: now[0])
    built = []

    def build(key):  # type: ignore[no-untyped-def]
        built.append(key)
        return page_of(key)
    for _ in range(100):
        cache.get("a", lambda: build("a"))
    assert built == ["a"]
    now[0] = 31
    cache.get("a", lambda: build("a"))
    assert built == ["a", "a"]
    for key in "bcdef":
        cache.get(key, lambda k=key: build(k))
    assert len(cache) == 3


def test_concurrent_misses_build_once() -> None:
    cache = PageCache(ttl=30, entries=10)
    gate, built = threading.Event(), []

    def build():  # type: ignore[no-untyped-def]
        built.append(1)
        gate.wait(2)
        return page_of("a")
    threads = [threading.Thread(target=cache.get, args=("a", build)) for _ in range(20)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(built) == 1


def test_the_brake_counts_by_address_and_forgets_the_oldest() -> None:
    now = [0.0]
    brake = ClientBrake(per_minute=10, clients=100, clock=lambda: now[0])
    assert [brake.take("10.0.0.1") for _ in range(10)] == [0] * 10
    assert brake.take("10.0.0.1") == 6  # one more request in 6 s (10 a minute)
    assert brake.take("10.0.0.2") == 0
    assert brake.take("2001:db8::1") == 0 and len(brake) == 3
    for _ in range(9):
        brake.take("2001:db8::2")  # the same /64
    assert brake.take("2001:db8::3") > 0
    now[0] = 6
    assert brake.take("10.0.0.1") == 0
    for i in range(500):
        brake.take(f"10.1.{i // 250}.{i % 250}")
    assert len(brake) == 100


def page_of(key: str):  # type: ignore[no-untyped-def]
    from cloud_ingest.public.cache import Page
    return Page(status=200, body=key.encode(), etag=f'"{key}"', built=0.0)


# -- the page over the database ----------------------------------------------------------------------------------

def _client(cloud: Cloud, **settings) -> TestClient:  # type: ignore[no-untyped-def]
    config = replace(cloud.config, public_pages=PublicPages(**{"per_minute": 100_000, **settings}))
    return TestClient(build_app(cloud.engine, config, lambda: cloud.now))


def _world(cloud: Cloud) -> dict[str, str]:
    """The tenants with the page world's batches, a grade, and a rectification closed whose texts name staff."""
    tokens = cloud.tenants()
    with db.write(cloud.engine) as conn:  # a public name without the id in it: the id must not show
        conn.execute(update(workshops).where(workshops.c.id == "ws-a").values(name="老李凉皮坊"))
    for gateway, _, doc in world_batches():
        assert cloud.push(tokens[gateway], doc).status_code == 200
    cloud.as_admin(grades.set_grade, "ws-a", {"grade": "gold", "effective": "2025-11-20", "reason": "年度评定"},
                   cloud.now)
    cloud.as_admin(grades.set_grade, "ws-c", {"grade": "orange", "effective": "2025-11-20", "reason": "抽查"},
                   cloud.now)
    alarm_id = next(a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json() if a["workshop"] == "ws-a")
    rid = cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications",
                     {"note": f"请{STAFF}说明整改措施"}).json()["id"]
    assert cloud.post(tokens["owner-a"], f"/api/v1/rectifications/{rid}/answer",
                      {"action": f"{STAFF}已将刀具消毒"}).status_code == 200
    assert cloud.post(tokens["insp1"], f"/api/v1/rectifications/{rid}/accept", {"note": STAFF}).status_code == 200
    return tokens


def _slug(cloud: Cloud, token: str) -> str:
    answer = cloud.get(token, "/api/v1/gateway/public-page")
    assert answer.status_code == 200, answer.text
    return answer.json()["slug"]


def test_the_page_shows_what_the_system_saw_and_nothing_private(cloud: Cloud) -> None:
    tokens = _world(cloud)
    slug = _slug(cloud, tokens["gw-ws-a"])
    answer = _client(cloud).get(f"/p/{slug}")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert len(answer.content) < page.BUDGET
    assert "老李凉皮坊" in html and "昆都仑区" in html
    assert 'data-grade="gold"' in html and "金榜" in html and "2025-11-20 起生效" in html
    assert "监管部门分级定榜" in html  # the regulator's, as the grade pages word it
    assert 'id="today-events">2<' in html and 'id="today-raised">1<' in html and 'id="today-cleared">0<' in html
    assert "最后上报 15:40" in html and 'data-state="live"' in html
    assert 'id="today-coverage">0.0 / 15.7 h<' in html  # rack-white-1 reported offline: never all online
    assert 'data-type="cross_zone"' in html and "通过审核" in html  # the rectification closed, by its type only
    for private in (STAFF, CORRECTIVE, "04A224E2C65E80", "KN-R-01", "rack-red-1", "rack-white-1", "ws-a",
                    "insp1", "owner-a", "年度评定", "作坊 ws-b", "作坊 ws-c", "青山区", "橙榜", *tokens.values()):
        assert private not in html, private
    assert "<script" not in html and "<img" not in html and "<link" not in html
    h = answer.headers
    assert h["x-robots-tag"] == "noindex, nofollow" and 'name="robots" content="noindex,nofollow"' in html
    assert h["cache-control"] == "public, max-age=30" and h["etag"] and h["last-modified"]
    assert f"style-src 'sha256-{page.STYLE_HASH}'" in h["content-security-policy"]


def test_a_phone_asking_again_gets_304(cloud: Cloud) -> None:
    tokens = _world(cloud)
    client, path = _client(cloud), f"/p/{_slug(cloud, tokens['gw-ws-a'])}"
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    head = client.head(path)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1000


def test_a_silent_gateway_is_said_to_be_silent(cloud: Cloud) -> None:
    tokens = _world(cloud)
    slug = _slug(cloud, tokens["gw-ws-a"])
    cloud.now = T0 + 16 * 60_000  # 16 min without a batch, the limit is 15
    html = _client(cloud).get(f"/p/{slug}").text
    assert 'data-state="silent"' in html and "数据中断" in html and "最后上报 15:40" in html
    assert "最后上报 15:40" in html and 'data-state="live"' not in html
    cloud.now = T0 + 10 * 60_000
    assert 'data-state="live"' in _client(cloud, silent_minutes=15).get(f"/p/{slug}").text
    quiet = _slug(cloud, tokens["gw-ws-b"])
    with db.write(cloud.engine) as conn:
        conn.execute(text("DELETE FROM ingest_batches WHERE workshop_id = 'ws-b'"))
    html = _client(cloud).get(f"/p/{quiet}").text
    assert 'data-state="none"' in html and "数据中断" in html and "等级由监管部门发布，暂无" in html


def test_every_address_that_is_no_page_gets_the_same_404(cloud: Cloud) -> None:
    tokens = _world(cloud)
    client = _client(cloud)
    slug = _slug(cloud, tokens["gw-ws-a"])
    rotated = cloud.post(tokens["admin"], "/api/v1/admin/workshops/ws-a/public-page/rotate")
    assert rotated.status_code == 200 and rotated.json()["slug"] != slug
    assert rotated.json()["url"].endswith(f"/p/{rotated.json()['slug']}")
    answers = [client.get(f"/p/{s}") for s in (slug, "a" * 24, "ws-a", "WS-A", "x" * 5000, "%27%3Cb%3E")]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1 and len({a.headers.get("cache-control") for a in answers}) == 1
    assert "ws-a" not in answers[0].text and "老李" not in answers[0].text
    assert client.get(f"/p/{rotated.json()['slug']}").status_code == 200
    assert _slug(cloud, tokens["gw-ws-a"]) == rotated.json()["slug"]  # the gateway learns the new one


def test_who_may_see_and_rotate_an_address(cloud: Cloud) -> None:
    tokens = _world(cloud)
    cloud.as_admin(admin.create_user, {"username": "d2admin", "password": "pw-d2admin-123456", "role": "admin",
                                       "districts": ["d2"]}, cloud.now)
    d2 = cloud.login("d2admin", "pw-d2admin-123456")
    path = "/api/v1/admin/workshops/ws-a/public-page"
    assert cloud.get(d2, path).status_code == 404  # another district's: as if it did not exist
    assert cloud.post(d2, path + "/rotate").status_code == 404
    assert cloud.get(d2, "/api/v1/admin/workshops/ws-c/public-page").status_code == 200
    for name in ("insp1", "owner-a", "gw-ws-a"):
        assert cloud.post(tokens[name], path + "/rotate").status_code == 403, name
    assert cloud.post(None, path + "/rotate").status_code == 401
    assert cloud.get(tokens["admin"], "/api/v1/gateway/public-page").status_code == 403
    mine = cloud.get(tokens["admin"], path).json()
    assert mine["slug"] == _slug(cloud, tokens["gw-ws-a"]) and public_slugs.is_slug(mine["slug"])
    assert len({_slug(cloud, tokens[f"gw-ws-{w}"]) for w in "abc"}) == 3


def test_the_brake_answers_429_with_retry_after_to_one_address_only(cloud: Cloud) -> None:
    tokens = _world(cloud)
    path = f"/p/{_slug(cloud, tokens['gw-ws-a'])}"
    client = _client(cloud, per_minute=10)
    assert [client.get(path).status_code for _ in range(10)] == [200] * 10
    refused = client.get(path)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    other = TestClient(client.app, client=("10.9.9.9", 5000))
    assert other.get(path).status_code == 200


def test_a_crowd_of_1000_requests_reads_the_database_a_handful_of_times(cloud: Cloud) -> None:
    tokens = _world(cloud)
    path = f"/p/{_slug(cloud, tokens['gw-ws-a'])}"
    config = replace(cloud.config, public_pages=PublicPages(per_minute=100_000))
    statements = []
    event.listen(cloud.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with ServedApp(build_app(cloud.engine, config, lambda: cloud.now)) as served:
        def phone(n: int) -> None:
            with served.client() as c:
                for _ in range(n):
                    assert c.get(path).status_code == 200
        statements.clear()
        crowd = [threading.Thread(target=phone, args=(50,)) for _ in range(20)]
        for t in crowd:
            t.start()
        for t in crowd:
            t.join()
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert 0 < len(reads) <= 12, reads  # one page build: a handful of queries, for 1,000 requests


def test_the_migration_gives_existing_workshops_their_address_and_new_ones_get_theirs(cloud_url: str) -> None:
    engine = db.make_engine(cloud_url)
    try:
        migrate.upgrade(engine, "0011", clock=lambda: T0)
        with db.write(engine) as conn:
            conn.execute(text("INSERT INTO districts (id, name) VALUES ('d1', '昆都仑区')"))
            for ws in ("old-1", "old-2"):
                conn.execute(text("INSERT INTO workshops (id, name, district_id, created_at) "
                                  "VALUES (:w, :n, 'd1', 0)"), {"w": ws, "n": ws})
        migrate.upgrade(engine, clock=lambda: T0)
        with db.write(engine) as conn:
            admin.create_workshop(conn, Principal("admin", 1, "admin"), {"id": "new-1", "name": "n", "district": "d1"},
                                  T0)
            rows = conn.execute(text("SELECT workshop_id, slug, created_at FROM public_pages")).all()
    finally:
        engine.dispose()
    assert sorted(r[0] for r in rows) == ["new-1", "old-1", "old-2"]
    assert all(public_slugs.is_slug(r[1]) and r[2] == T0 for r in rows) and len({r[1] for r in rows}) == 3


# -- the config section ---------------------------------------------------------------------------------------------

def _load(tmp_path, section: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "cloud.yaml"
    path.write_text(f"database:\n  url: sqlite:///c.db\nsession_secret: {'s' * 40}\n{section}", encoding="utf-8")
    return load_cloud_config(path)


def test_the_documented_section_loads_and_a_bad_value_is_refused_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = (Path(__file__).parents[2] / "docs" / "public-page.md").read_text("utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    pages = _load(tmp_path, block).public_pages
    assert pages == PublicPages(base_url="https://sebiao.example.gov.cn")  # the rest are the defaults
    assert _load(tmp_path, "").public_pages == PublicPages()
    for bad, field in (("per_minute: 5", "public_pages.per_minute"), ("base_url: ftp://x", "public_pages.base_url"),
                       ("cache_seconds: 0", "public_pages.cache_seconds"), ("colour: red", "colour")):
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, f"public_pages:\n  {bad}\n")
        assert field in str(info.value) and "cloud.yaml" in str(info.value), str(info.value)


def test_the_workshops_people_find_its_public_page_on_its_grade_page(cloud: Cloud) -> None:
    from test_cloud_grades import PageUser
    tokens = _world(cloud)
    slug = _slug(cloud, tokens["gw-ws-a"])
    for user in ("owner-a", "insp1"):
        page = PageUser(cloud, user).client.get("/workshops/ws-a/grade")
        assert page.status_code == 200 and f'<a href="/p/{slug}" id="workshop-page">' in page.text, user
    assert PageUser(cloud, "insp2").client.get("/workshops/ws-a/grade").status_code == 404
