"""The cloud's web pages: sessions, CSRF, tenancy page by page, and the whole review in headless Chromium.

HTTP-level tests (Starlette's TestClient over the real app) run on SQLite and
PostgreSQL; the browser test serves the same app with uvicorn on a free
loopback port, pushes through the real ingest API and drives Debian's
Chromium through Playwright: log in, filter, open an alarm, acknowledge,
clear, ask for a rectification, the owner answers, the inspector returns it,
the owner answers again, the inspector accepts; the CSV and PDF reports are
downloaded. Screenshots go to tests/artifacts/web/cloud-*.png.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import DAY, PASSWORD, Cloud, alarm, batch, world_batches
from starlette.testclient import TestClient

from cloud_ingest.web.session import COOKIE, IDLE_SECONDS, MAX_SECONDS, Sessions


def seed(cloud: Cloud) -> tuple[dict[str, str], dict[str, int]]:
    tokens = cloud.tenants()
    for gateway, _, doc in world_batches():
        assert cloud.push(tokens[gateway], doc).status_code == 200
    ids = {a["workshop"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()}
    return tokens, ids


class Browserless:
    """A page session through TestClient: its own cookie jar, the CSRF token read from the page."""

    def __init__(self, cloud: Cloud, username: str | None = None) -> None:
        self.client = TestClient(cloud.client.app, follow_redirects=False)
        self.csrf = ""
        if username is not None:
            r = self.client.post("/login", data={"username": username, "password": PASSWORD[username]})
            assert r.status_code == 303, r.text
            self.csrf = _csrf(self.client.get("/workshops").text)

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)

    def post(self, path: str, csrf: str | None = "session", **fields: str):  # type: ignore[no-untyped-def]
        data = dict(fields)
        if csrf is not None:
            data["csrf"] = self.csrf if csrf == "session" else csrf
        return self.client.post(path, data=data)


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _neutral(text: str) -> str:
    return re.sub(r"ws-a|ws-zz|/alarms/\d+|%2Falarms%2F\d+|alarm \d+|#\d+", "…", text)  # the language switch names the page


def _rectification(cloud: Cloud, tokens: dict[str, str], alarm_id: int, state: str) -> int:
    """A rectification of the alarm brought to ``state`` through the JSON API (requested, answered)."""
    r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "请说明整改措施"})
    assert r.status_code == 201, r.text
    rect = r.json()["id"]
    if state == "answered":
        assert cloud.post(tokens["owner-a"], f"/api/v1/rectifications/{rect}/answer",
                          {"action": "已整改"}).status_code == 200
    return rect


# -- sessions ---------------------------------------------------------------------------


def test_pages_need_a_session_and_login_leads_back(cloud) -> None:  # type: ignore[no-untyped-def]
    seed(cloud)
    anon = Browserless(cloud)
    for path in ("/", "/workshops", "/alarms", "/alarms/1", "/rectifications", "/reports",
                 "/reports/download?workshop=ws-a&from=2025-11-01&to=2025-11-30&format=csv"):
        r = anon.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login" if path != "/" else "/workshops"), path
    for path in ("/alarms/1/ack", "/alarms/1/clear", "/alarms/1/rectification", "/rectifications/1/answer",
                 "/rectifications/1/accept", "/rectifications/1/return"):
        r = anon.post(path, csrf="anything", note="x")
        assert (r.status_code, urlsplit(r.headers["location"]).path) == (303, "/login"), path
    r = anon.get("/alarms?severity=critical")
    assert r.headers["location"] == "/login?next=%2Falarms%3Fseverity%3Dcritical"
    r = anon.client.post("/login", data={"username": "insp1", "password": PASSWORD["insp1"],
                                         "next": "/alarms?severity=critical"})
    assert (r.status_code, r.headers["location"]) == (303, "/alarms?severity=critical")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plain http here; over https the cookie is Secure (below)
    r = anon.client.post("/login", data={"username": "insp1", "password": PASSWORD["insp1"],
                                         "next": "//evil.example/x"})
    assert r.headers["location"] == "/workshops"  # never to another site


def test_the_cookie_is_secure_over_https(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    client = TestClient(cloud.client.app, base_url="https://testserver", follow_redirects=False)
    r = client.post("/login", data={"username": "insp1", "password": PASSWORD["insp1"]})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_is_refused_in_both_languages_then_braked(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    anon = Browserless(cloud)
    for username in ("insp1", "nobody"):  # an unknown user gets the same answer
        r = anon.client.post("/login", data={"username": username, "password": "wrong-password"})
        assert r.status_code == 401
        assert "用户名或密码错误 / wrong username or password" in r.text
        assert COOKIE not in r.headers.get("set-cookie", "")
    for _ in range(4):
        assert anon.client.post("/login", data={"username": "insp1", "password": "wrong"}).status_code == 401
    r = anon.client.post("/login", data={"username": "insp1", "password": PASSWORD["insp1"]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # five failures: even the right one waits
    assert "尝试次数过多" in r.text and "too many attempts" in r.text
    r = anon.client.post("/login", data={"username": "insp2", "password": PASSWORD["insp2"]})
    assert r.status_code == 303  # another user from the same address is not locked out


def test_an_unknown_username_costs_one_argon2_verification_like_a_known_one(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cloud_ingest.access import login as login_module
    from cloud_ingest.store import db
    cloud.tenants()
    calls: list[str] = []
    real = login_module.verify_password
    monkeypatch.setattr(login_module, "verify_password", lambda h, pw: calls.append(h) or real(h, pw))
    check = login_module.PasswordCheck()
    with db.read(cloud.engine) as conn:
        for username, password, found in (("insp1", "wrong", False), ("nobody", "wrong", False),
                                          ("insp1", PASSWORD["insp1"], True), ("nobody-else", "x", False)):
            before = len(calls)
            assert (check(conn, username, password) is not None) == found
            assert len(calls) == before + 1 and calls[-1].startswith("$argon2id$"), username


def test_tokens_and_cookies_stay_on_their_own_side(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    r = cloud.client.get("/alarms", headers={"Authorization": f"Bearer {tokens['insp1']}"},
                         follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")  # a token is no page session
    page = Browserless(cloud, "insp1")
    assert page.get(f"/alarms/{ids['ws-a']}").status_code == 200
    r = page.get("/api/v1/alarms")  # the session cookie rides along, the API does not take it
    assert r.status_code == 401
    assert page.client.post(f"/api/v1/alarms/{ids['ws-a']}/ack", json={"note": "x"}).status_code == 401


def test_sessions_expire_when_idle_or_old_and_when_the_password_changes(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    page = Browserless(cloud, "insp1")
    raw = page.client.cookies[COOKIE]
    secret = cloud.config.session_secret

    def read_at(now: float) -> object:
        request = type("R", (), {"cookies": {COOKIE: raw}})()
        return Sessions(secret, clock=lambda: now).read(request)  # type: ignore[arg-type]

    issued = time.time()
    assert read_at(issued + 60) is not None
    assert read_at(issued + IDLE_SECONDS + 5) is None  # idle for over 8 h
    assert read_at(issued - 10) is not None
    assert Sessions("x" * 40).read(type("R", (), {"cookies": {COOKIE: raw}})()) is None  # another secret
    assert MAX_SECONDS > IDLE_SECONDS
    page.client.cookies.set(COOKIE, raw[:-2] + ("AA" if not raw.endswith("AA") else "BB"))
    assert page.get("/workshops").status_code == 303  # a tampered cookie is no session
    page.client.cookies.set(COOKIE, raw)
    assert page.get("/workshops").status_code == 200
    from sqlalchemy import update

    from cloud_ingest.access.passwords import hash_password
    from cloud_ingest.store import db
    from cloud_ingest.store.schema import users
    with db.write(cloud.engine) as conn:
        conn.execute(update(users).where(users.c.username == "insp1")
                     .values(password_hash=hash_password("new-pw-123456")))
    assert page.get("/workshops").status_code == 303  # a new password logs the old sessions out


def test_logout_needs_csrf_and_ends_the_session(cloud) -> None:  # type: ignore[no-untyped-def]
    cloud.tenants()
    page = Browserless(cloud, "insp1")
    assert page.post("/logout", csrf=None).status_code == 403
    assert page.get("/workshops").status_code == 200
    r = page.post("/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert page.get("/workshops").status_code == 303


# -- CSRF and tenancy, form by form ------------------------------------------------------------

FORMS = ("/alarms/{a}/ack", "/alarms/{a}/clear", "/alarms/{a}/rectification", "/rectifications/{r}/answer",
         "/rectifications/{r}/accept", "/rectifications/{r}/return")


@pytest.mark.parametrize("csrf", [None, "", "not-the-token"])
def test_a_form_without_the_right_csrf_token_is_403_and_changes_nothing(cloud, csrf) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    a = ids["ws-a"]
    rect = _rectification(cloud, tokens, a, "answered")
    before = cloud.get(tokens["admin"], f"/api/v1/alarms/{a}").json()
    for user in ("insp1", "owner-a"):
        page = Browserless(cloud, user)
        for form in FORMS:
            r = page.post(form.format(a=a, r=rect), csrf=csrf, note="一条意见")
            assert r.status_code == 403, (user, form)
            assert "CSRF" in r.text
    assert cloud.get(tokens["admin"], f"/api/v1/alarms/{a}").json() == before


def test_a_cross_site_form_is_refused_even_with_the_token(cloud) -> None:  # type: ignore[no-untyped-def]
    _, ids = seed(cloud)
    page = Browserless(cloud, "insp1")
    r = page.client.post(f"/alarms/{ids['ws-a']}/ack", data={"csrf": page.csrf, "note": "x"},
                         headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_outside_the_scope_every_page_and_form_is_404(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    a = ids["ws-a"]
    rect = _rectification(cloud, tokens, a, "answered")
    assert cloud.post(tokens["insp2"], f"/api/v1/alarms/{ids['ws-c']}/rectifications",
                      {"note": "ws-c 的整改"}).status_code == 201
    reports = "from=2025-11-01&to=2025-11-30"
    pages = (f"/alarms/{a}", f"/reports?workshop=ws-a&{reports}",
             f"/reports/download?workshop=ws-a&{reports}&format=csv",
             f"/reports/download?workshop=ws-a&{reports}&format=pdf")
    before = cloud.get(tokens["admin"], f"/api/v1/alarms/{a}").json()
    for user in ("insp2", "owner-c"):
        page = Browserless(cloud, user)
        for path in pages:
            r = page.get(path)
            assert r.status_code == 404, (user, path)
            assert "不存在" in r.text and "does not exist" in r.text
            # the same page as for something that does not exist at all: nothing leaks
            missing = page.get(path.replace("ws-a", "ws-zz").replace(f"/alarms/{a}", "/alarms/99999"))
            assert (missing.status_code, _neutral(missing.text)) == (404, _neutral(r.text)), (user, path)
        for form in FORMS:
            r = page.post(form.format(a=a, r=rect), note="越权")
            assert r.status_code == 404, (user, form, r.text[-600:])
        for path in ("/workshops", "/alarms", "/rectifications", "/reports"):
            r = page.get(path)
            assert r.status_code == 200 and "ws-a" not in r.text and "ws-b" not in r.text, (user, path)
            assert "ws-c" in r.text, (user, path)  # its own workshop is there
    assert cloud.get(tokens["admin"], f"/api/v1/alarms/{a}").json() == before
    owner = Browserless(cloud, "owner-a")
    text = owner.get("/workshops").text
    assert "ws-a" in text and "ws-b" not in text and "ws-c" not in text
    assert owner.get(f"/alarms/{ids['ws-b']}").status_code == 404
    assert owner.get(f"/alarms/{a}").status_code == 200
    assert 'id="form-ack"' not in owner.get(f"/alarms/{a}").text  # an owner does not review
    assert owner.post(f"/alarms/{a}/ack", note="x").status_code == 403  # in scope, wrong role: 403


def test_the_queue_filters_and_refuses_bad_values_in_both_languages(cloud) -> None:  # type: ignore[no-untyped-def]
    _, ids = seed(cloud)
    page = Browserless(cloud, "insp1")

    def shown(query: str) -> set[int]:
        r = page.get("/alarms" + query)
        assert r.status_code == 200, r.text
        return {int(x) for x in re.findall(r'<tr data-alarm="(\d+)"', r.text)}

    # no filter: what needs the inspector (critical and major, not reviewed); ws-b's alarm is minor
    table = [("", {ids["ws-a"]}), ("?view=all", {ids["ws-a"], ids["ws-b"]}), ("?severity=critical", {ids["ws-a"]}),
             ("?type=overdue", {ids["ws-b"]}), ("?state=active&review=open", {ids["ws-a"], ids["ws-b"]}),
             ("?district=d1", {ids["ws-a"], ids["ws-b"]}), ("?district=d2", set()),
             (f"?from={DAY}&to={DAY}", {ids["ws-a"], ids["ws-b"]}), ("?from=2025-11-27", set()),
             ("?to=2025-11-25", set()), ("?severity=&type=&limit=50", {ids["ws-a"]}),
             ("?view=all&severity=&type=&limit=50", {ids["ws-a"], ids["ws-b"]}), ("?workshop=ws-b", {ids["ws-b"]})]
    for query, expected in table:
        assert shown(query) == expected, query
    r = page.get("/alarms?severity=huge")
    assert r.status_code == 400 and "必须是以下之一" in r.text and "must be one of" in r.text
    r = page.get("/alarms?from=26.11.2025")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.text


def test_everything_from_the_database_is_escaped(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    evil = alarm(99, 1)
    evil["alarm"]["text"] = {"zh": "<script>alert(1)</script>", "en": '"><img src=x onerror=alert(1)>'}
    evil["transition"]["comment"] = "<b>KN</b>"
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "x-1", [evil])).status_code == 200
    alarm_id = cloud.get(tokens["admin"], "/api/v1/alarms").json()[0]["id"]
    page = Browserless(cloud, "insp1")
    text = page.get(f"/alarms/{alarm_id}").text + page.get("/alarms").text
    assert "<script>" not in text and "<img" not in text and "<b>KN" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    r = page.get(f"/alarms/{alarm_id}")
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_review_and_rectification_through_the_forms(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    a = ids["ws-a"]
    insp, owner = Browserless(cloud, "insp1"), Browserless(cloud, "owner-a")
    r = insp.post(f"/alarms/{a}/clear", note="  ")
    assert r.status_code == 422 and "清除须填写检查意见" in r.text  # the page again, with the reason
    assert insp.post(f"/alarms/{a}/ack", note="已查看").headers["location"] == f"/alarms/{a}"
    assert insp.post(f"/alarms/{a}/ack", note="again").status_code == 409
    assert insp.post(f"/alarms/{a}/clear", note="现场核实").status_code == 303
    r = insp.post(f"/alarms/{a}/rectification", note="请提交消毒记录", due="2000-01-01")
    assert r.status_code == 422 and "整改期限必须晚于现在" in r.text
    assert insp.post(f"/alarms/{a}/rectification", note="请提交消毒记录", due="2030-01-01").status_code == 303
    rect = cloud.get(tokens["admin"], "/api/v1/rectifications").json()[0]["id"]
    assert f'data-rect="{rect}"' in owner.get("/rectifications").text
    assert owner.post(f"/rectifications/{rect}/answer", note="已消毒").status_code == 303
    assert insp.post(f"/rectifications/{rect}/return", note="").status_code == 422
    assert insp.post(f"/rectifications/{rect}/return", note="请附照片").status_code == 303
    assert owner.post(f"/rectifications/{rect}/answer", note="照片已附").status_code == 303
    assert insp.post(f"/rectifications/{rect}/accept").status_code == 303
    steps = cloud.get(tokens["admin"], f"/api/v1/rectifications/{rect}").json()
    assert steps["state"] == "accepted"
    assert [(s["action"], s["by"], s["text"]) for s in steps["steps"]] == [
        ("request", "insp1", "请提交消毒记录"), ("answer", "owner-a", "已消毒"), ("return", "insp1", "请附照片"),
        ("answer", "owner-a", "照片已附"), ("accept", "insp1", None)]
    detail = cloud.get(tokens["admin"], f"/api/v1/alarms/{a}").json()
    assert [(n["action"], n["note"]) for n in detail["inspector_notes"]] == [("ack", "已查看"), ("clear", "现场核实")]
    assert detail["state"] == "active"  # the inspector's review never changes the workshop's own state
