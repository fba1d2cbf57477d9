"""Sessions, tokens and users over real HTTP: a logout ends a page cookie for good (restart included),
tokens expire, are listed and revoked whatever their kind, a disabled user's sessions and tokens stop at
once, and a district admin reaches only its own district.

The page-session test runs the real ``sebiao cloud`` process; the others serve the app over
``cloud_fixtures.Cloud``'s database (SQLite and PostgreSQL) with uvicorn, so the cloud's clock can be
moved past an expiry without waiting.
"""

from __future__ import annotations

import re

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import PASSWORD, batch, event
from cloud_server import CloudServer, ServedApp
from gateway_keys import gateway_token

DAY = 86_400_000


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _page_login(http, username: str, password: str) -> str:  # type: ignore[no-untyped-def]
    r = http.post("/login", data={"username": username, "password": password})
    assert r.status_code == 303, r.text
    return http.cookies["sebiao_cloud"]


def _page(base_client, cookie: str, path: str = "/workshops"):  # type: ignore[no-untyped-def]
    """``path`` asked with ``cookie`` (a copy of it, as another browser would send it): the status."""
    return _with_cookie(base_client, cookie, path).status_code


def _with_cookie(base_client, cookie: str, path: str):  # type: ignore[no-untyped-def]
    base_client.cookies.clear()
    base_client.cookies.set("sebiao_cloud", cookie)
    return base_client.get(path)


@pytest.mark.slow
def test_a_logout_ends_the_page_cookie_for_good_even_across_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = CloudServer(tmp_path, admin=True).start()
    try:
        admin = _auth(proc.admin_token())
        with proc.client() as c:
            assert c.post("/api/v1/admin/districts", json={"id": "d1", "name": "昆都仑区"}, headers=admin).status_code == 201
            assert c.post("/api/v1/admin/users", headers=admin, json={
                "username": "insp1", "password": "inspector-pw-1", "role": "inspector",
                "districts": ["d1"]}).status_code == 201
        with proc.client() as desk, proc.client() as phone, proc.client() as other:
            copied = _page_login(desk, "insp1", "inspector-pw-1")
            kept = _page_login(phone, "insp1", "inspector-pw-1")
            assert _page(other, copied) == _page(other, kept) == 200
            r = desk.post("/logout", data={"csrf": _csrf(desk.get("/workshops").text)})
            assert (r.status_code, r.headers["location"]) == (303, "/login")
            assert _page(other, copied) == 303  # a copy of the logged-out cookie is worth nothing
            stale = _with_cookie(other, copied, "/alarms")
            assert 'sebiao_cloud=""' in stale.headers["set-cookie"]  # and the browser is told to drop it
            assert _page(other, kept) == 200  # the other login stands
            proc.restart()
            assert _page(other, copied) == 303  # a restart does not bring it back ...
            assert _page(other, kept) == 200  # ... nor log the inspector out
    finally:
        proc.stop()


def test_tokens_expire_are_listed_and_revoked_whatever_their_kind(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    with ServedApp(cloud.client.app) as served, served.client(headers=_auth(tokens["admin"])) as admin:
        insp1 = next(u["id"] for u in admin.get("/api/v1/admin/users").json() if u["username"] == "insp1")
        gateway = admin.post("/api/v1/admin/tokens", json=gateway_token("ws-a", label="网关"))
        api = admin.post("/api/v1/admin/tokens", json={"kind": "api", "user": insp1, "label": "报表脚本"})
        brief = admin.post("/api/v1/admin/tokens", json={"kind": "api", "user": insp1, "expires_in_days": 1})
        assert gateway.status_code == api.status_code == brief.status_code == 201
        assert gateway.json()["expires_at"] is None  # a workshop's gateway does not fall silent on a date
        assert api.json()["expires_at"] == cloud.now + 90 * DAY and brief.json()["expires_at"] == cloud.now + DAY
        with served.client() as anyone:
            login = anyone.post("/api/v1/login", json={"username": "insp1", "password": PASSWORD["insp1"]}).json()
            assert login["expires_at"] == cloud.now + 7 * DAY

            def status(token: str) -> int:
                return anyone.get("/api/v1/workshops", headers=_auth(token)).status_code

            listed = {t["id"]: t for t in admin.get("/api/v1/admin/tokens").json()}
            assert {gateway.json()["id"], api.json()["id"], brief.json()["id"], login["id"]} <= set(listed)
            assert listed[api.json()["id"]] | {"created_at": 0} == {
                "id": api.json()["id"], "kind": "api", "label": "报表脚本", "workshop": None, "user": insp1,
                "username": "insp1", "created_at": 0, "expires_at": cloud.now + 90 * DAY, "revoked_at": None,
                "state": "active", "key_id": None}
            # a gateway token shows the id of its gateway's key (never the key's secret half: the cloud has none)
            assert listed[gateway.json()["id"]]["key_id"] == gateway.json()["key_id"] != None  # noqa: E711
            assert all("token" not in t and "token_hash" not in t for t in listed.values())  # never a secret

            cloud.now += DAY  # the one-day token has expired, the others have not
            assert status(brief.json()["token"]) == 401
            assert "expired" in anyone.get("/api/v1/alarms", headers=_auth(brief.json()["token"])).json()["error"]
            assert status(api.json()["token"]) == status(login["token"]) == 200
            expired = admin.get("/api/v1/admin/tokens", params={"state": "expired"}).json()
            assert [t["id"] for t in expired] == [brief.json()["id"]]
            cloud.now += 6 * DAY  # a week after the login: its token has expired
            assert status(login["token"]) == 401
            admin.headers.update(_auth(cloud.login("admin", "admin-password-123")))

            # revocation, kind by kind: the gateway token stops pushing, the API token stops reading
            push = batch("ws-a", "b-1", [event(seq=1)])
            assert cloud.push(gateway.json()["token"], push).status_code == 200
            for token in (gateway, api):
                r = admin.post(f"/api/v1/admin/tokens/{token.json()['id']}/revoke")
                assert r.status_code == 200 and r.json()["revoked_at"] == cloud.now
            assert cloud.push(gateway.json()["token"], batch("ws-a", "b-2", [event(seq=2)])).status_code == 401
            assert status(api.json()["token"]) == 401
            assert admin.post(f"/api/v1/admin/tokens/{api.json()['id']}/revoke").status_code == 409
            assert admin.post("/api/v1/admin/tokens/999999/revoke").status_code == 404
            revoked = {t["id"] for t in admin.get("/api/v1/admin/tokens", params={"state": "revoked"}).json()}
            assert revoked == {gateway.json()["id"], api.json()["id"]}
            kinds = {t["kind"] for t in admin.get("/api/v1/admin/tokens", params={"kind": "gateway"}).json()}
            assert kinds == {"gateway"}

            # a caller logs its own token out
            fresh = anyone.post("/api/v1/login", json={"username": "insp1", "password": PASSWORD["insp1"]}).json()
            assert anyone.post("/api/v1/logout", headers=_auth(fresh["token"])).status_code == 200
            assert status(fresh["token"]) == 401

        for body, field in (({"kind": "api", "user": insp1, "expires_in_days": 0}, "expires_in_days"),
                            ({"kind": "api", "user": insp1, "expires_in_days": "30"}, "expires_in_days"),
                            (gateway_token("ws-a", expires_in_days=3651), "expires_in_days")):
            r = admin.post("/api/v1/admin/tokens", json=body)
            assert r.status_code == 400 and r.json()["path"] == field, r.text
        for params, field in (({"state": "old"}, "state"), ({"limit": "0"}, "limit"), ({"kind": "x"}, "kind")):
            r = admin.get("/api/v1/admin/tokens", params=params)
            assert r.status_code == 400 and r.json()["path"] == field, r.text


def test_disabling_a_user_stops_its_sessions_and_tokens_at_once(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    with ServedApp(cloud.client.app) as served, served.client(headers=_auth(tokens["admin"])) as admin, \
            served.client() as browser, served.client() as anyone:
        users = {u["username"]: u for u in admin.get("/api/v1/admin/users").json()}
        insp1 = users["insp1"]["id"]
        issued = admin.post("/api/v1/admin/tokens", json={"kind": "api", "user": insp1}).json()["token"]
        cookie = _page_login(browser, "insp1", PASSWORD["insp1"])
        assert _page(anyone, cookie) == 200

        r = admin.post(f"/api/v1/admin/users/{insp1}/disable")
        assert r.status_code == 200 and r.json()["disabled_at"] == cloud.now and r.json()["revoked_tokens"] == 2
        assert _page(anyone, cookie) == 303  # the page session ends at once
        for token in (tokens["insp1"], issued):  # the login's token and the admin's both stop
            assert anyone.get("/api/v1/alarms", headers=_auth(token)).status_code == 401
        refused = anyone.post("/api/v1/login", json={"username": "insp1", "password": PASSWORD["insp1"]})
        assert refused.status_code == 401 and "wrong username or password" in refused.json()["error"]
        assert anyone.post("/login", data={"username": "insp1", "password": PASSWORD["insp1"]}).status_code == 401
        assert admin.post("/api/v1/admin/tokens", json={"kind": "api", "user": insp1}).status_code == 409
        assert admin.post(f"/api/v1/admin/users/{insp1}/disable").status_code == 409
        assert [u["username"] for u in admin.get("/api/v1/admin/users", params={"disabled": "true"}).json()] == [
            "insp1"]
        assert admin.post(f"/api/v1/admin/users/{users['admin']['id']}/disable").status_code == 409  # not itself
        assert admin.post("/api/v1/admin/users/999999/disable").status_code == 404

        assert admin.post(f"/api/v1/admin/users/{insp1}/enable").json()["disabled_at"] is None
        assert _page(anyone, cookie) == 303  # what was ended stays ended
        assert anyone.get("/api/v1/alarms", headers=_auth(issued)).status_code == 401
        again = anyone.post("/api/v1/login", json={"username": "insp1", "password": PASSWORD["insp1"]})
        assert again.status_code == 201  # but the user may log in again
        assert admin.post(f"/api/v1/admin/users/{insp1}/enable").status_code == 409


def test_a_district_admin_reaches_only_its_own_district(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()  # d1: ws-a, ws-b, insp1, owner-a; d2: ws-c, insp2, owner-c
    with ServedApp(cloud.client.app) as served, served.client(headers=_auth(tokens["admin"])) as root:
        for name, scope in (("admin-d1", ["d1"]), ("admin-d2", ["d2"])):
            r = root.post("/api/v1/admin/users", json={"username": name, "password": "district-admin-pw",
                                                       "role": "admin", "districts": scope})
            assert r.status_code == 201 and r.json()["districts"] == scope, r.text
        both = root.post("/api/v1/admin/users", json={"username": "insp12", "password": "inspector-12-pw",
                                                      "role": "inspector", "districts": ["d1", "d2"]}).json()
        ids = {u["username"]: u["id"] for u in root.get("/api/v1/admin/users").json()}
        d2_token = root.post("/api/v1/admin/tokens", json={"kind": "api", "user": ids["insp2"]}).json()
        gw_c = next(t for t in root.get("/api/v1/admin/tokens", params={"workshop": "ws-c"}).json())
        with served.client(headers=_auth(cloud.login("admin-d1", "district-admin-pw"))) as d1:
            assert {u["username"] for u in d1.get("/api/v1/admin/users").json()} == {"insp1", "owner-a"}
            seen = d1.get("/api/v1/admin/tokens").json()
            assert {t["workshop"] for t in seen if t["kind"] == "gateway"} == {"ws-a", "ws-b"}
            assert {t["username"] for t in seen if t["kind"] == "api"} == {"insp1", "owner-a"}
            # beyond its district: as if it did not exist
            assert d1.post(f"/api/v1/admin/tokens/{gw_c['id']}/revoke").status_code == 404
            assert d1.post(f"/api/v1/admin/tokens/{d2_token['id']}/revoke").status_code == 404
            for user in ("insp2", "owner-c", "admin", "admin-d2", "insp12"):
                assert d1.post(f"/api/v1/admin/users/{ids[user]}/disable").status_code == 404, user
            refusals = (
                ("/api/v1/admin/districts", {"id": "d3", "name": "东河区"}, 403, None),
                ("/api/v1/admin/users", {"username": "admin-x", "password": "district-admin-pw", "role": "admin"},
                 403, None),
                ("/api/v1/admin/users", {"username": "insp-x", "password": "inspector-x-pw", "role": "inspector",
                                         "districts": ["d2"]}, 400, "districts"),
                ("/api/v1/admin/users", {"username": "owner-x", "password": "owner-x-password", "role": "owner",
                                         "workshop": "ws-c"}, 400, "workshop"),
                ("/api/v1/admin/workshops", {"id": "ws-x", "name": "作坊", "district": "d2"}, 400, "district"),
                ("/api/v1/admin/tokens", gateway_token("ws-c"), 400, "workshop"),
                ("/api/v1/admin/tokens", {"kind": "api", "user": ids["insp2"]}, 400, "user"))
            for path, body, code, field in refusals:
                r = d1.post(path, json=body)
                assert r.status_code == code and r.json().get("path") == field, (path, body, r.text)
            # within it: everything an admin does
            assert d1.post("/api/v1/admin/workshops", json={"id": "ws-d", "name": "作坊 D", "district": "d1"}
                           ).status_code == 201
            assert d1.post("/api/v1/admin/users", json={"username": "insp-d1", "password": "inspector-d1-pw",
                                                        "role": "inspector", "districts": ["d1"]}).status_code == 201
            new = d1.post("/api/v1/admin/tokens", json=gateway_token("ws-d"))
            assert new.status_code == 201
            assert d1.post(f"/api/v1/admin/tokens/{new.json()['id']}/revoke").status_code == 200
            assert d1.post(f"/api/v1/admin/users/{ids['owner-a']}/disable").status_code == 200
            assert {w["id"] for w in d1.get("/api/v1/workshops").json()} == {"ws-a", "ws-b", "ws-d"}
            assert [d["id"] for d in d1.get("/api/v1/districts").json()] == ["d1"]
        assert root.post(f"/api/v1/admin/users/{both['id']}/disable").status_code == 200  # the root reaches all


def test_an_existing_database_keeps_its_users_and_tokens(cloud_url: str) -> None:
    """0005 on a database of 0004: users stay enabled, tokens keep working and keep not expiring."""
    from argon2.profiles import CHEAPEST

    from cloud_ingest.access import passwords
    from cloud_ingest.access.tokens import new_token
    from cloud_ingest.app import build_app
    from cloud_ingest.config import CloudConfig
    from cloud_ingest.store import db, migrate, schema

    passwords.use_parameters(CHEAPEST)
    engine = db.make_engine(cloud_url)
    try:
        migrate.upgrade(engine, "0004")
        token = new_token("api")
        with engine.begin() as conn:
            conn.execute(schema.users.insert().values(id=1, username="old-admin", role="admin", created_at=0,
                                                      password_hash=passwords.hash_password("old-admin-pw-1")))
            conn.execute(schema.api_tokens.insert().values(kind="api", token_hash=token.digest, user_id=1,
                                                           label="before", created_at=0))
        assert migrate.upgrade(engine) == migrate.head()
        app = build_app(engine, CloudConfig("test.yaml", cloud_url, "127.0.0.1", 0, "s" * 40))
        with ServedApp(app) as served, served.client() as http:
            [listed] = http.get("/api/v1/admin/tokens", headers=_auth(token.secret)).json()
            assert (listed["expires_at"], listed["state"]) == (None, "active")
            [user] = http.get("/api/v1/admin/users", headers=_auth(token.secret)).json()
            assert (user["username"], user["disabled_at"]) == ("old-admin", None)
            assert http.post("/login", data={"username": "old-admin", "password": "old-admin-pw-1"}).status_code == 303
    finally:
        engine.dispose()
