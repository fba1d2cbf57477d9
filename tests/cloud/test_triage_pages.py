"""The triage queue's forms and files over HTTP (the real app, SQLite and PostgreSQL): the bulk form's CSRF,
origin and tenancy checks, the language switch's own redirect check, and the CSV's cells (the browser's view of
the same is test_triage_pages_browser.py)."""

from __future__ import annotations

import csv
import io

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from test_cloud_pages import Browserless, seed

from cloud_ingest.web.queue_pages import neutral


def _review(cloud, tokens, alarm_id: int) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    a = cloud.get(tokens["admin"], f"/api/v1/alarms/{alarm_id}").json()
    return a["review"]["state"], a["inspector_notes"]


@pytest.mark.parametrize("cell, shown", [("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-2", "'-2"),
                                         ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("跨区放置", "跨区放置"),
                                         ("a=b", "a=b"), (None, ""), (12, "12")])
def test_a_cell_a_spreadsheet_would_run_is_neutralised(cell, shown) -> None:  # type: ignore[no-untyped-def]
    assert neutral(cell) == shown


def test_the_bulk_form_checks_csrf_origin_role_and_every_alarm(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    insp, owner = Browserless(cloud, "insp1"), Browserless(cloud, "owner-a")
    a, b, c = ids["ws-a"], ids["ws-b"], ids["ws-c"]
    before = [_review(cloud, tokens, i) for i in (a, b, c)]
    form = {"alarm": [str(a), str(b)], "action": "ack", "note": "批量"}
    assert insp.client.post("/alarms/bulk", data=form).status_code == 403  # no token
    assert insp.client.post("/alarms/bulk", data={**form, "csrf": "forged"}).status_code == 403
    assert insp.client.post("/alarms/bulk", data={**form, "csrf": insp.csrf},
                            headers={"Origin": "http://evil.example"}).status_code == 403
    r = insp.client.post("/alarms/bulk", data={**form, "alarm": [str(a), str(c)], "csrf": insp.csrf})
    assert r.status_code == 404  # ws-c is another district's: the whole batch is refused
    r = insp.client.post("/alarms/bulk", data={**form, "alarm": [str(a), "999999"], "csrf": insp.csrf})
    assert r.status_code == 404
    assert owner.client.post("/alarms/bulk", data={**form, "alarm": [str(a)], "csrf": owner.csrf}).status_code == 403
    assert [_review(cloud, tokens, i) for i in (a, b, c)] == before  # nothing changed
    assert insp.client.post("/alarms/bulk", data={**form, "alarm": [], "csrf": insp.csrf}).status_code == 400
    assert insp.client.post("/alarms/bulk", data={**form, "action": "clear", "csrf": insp.csrf}).status_code == 400
    r = insp.client.post("/alarms/bulk", data={**form, "action": "comment", "note": "", "csrf": insp.csrf})
    assert r.status_code == 400 and [_review(cloud, tokens, i) for i in (a, b, c)] == before
    r = insp.client.post("/alarms/bulk", data={**form, "csrf": insp.csrf, "back": "https://evil.example/"})
    assert (r.status_code, r.headers["location"]) == (303, "/alarms")  # never back to another site
    assert [_review(cloud, tokens, i)[0] for i in (a, b)] == ["acknowledged", "acknowledged"]
    r = insp.client.post("/alarms/bulk", data={**form, "csrf": insp.csrf, "back": "/alarms?view=all&page=1"})
    assert (r.status_code, r.headers["location"]) == (303, "/alarms?view=all&page=1")  # already done: no change
    assert [len(_review(cloud, tokens, i)[1]) for i in (a, b)] == [1, 1]


def test_the_language_switch_goes_back_only_to_this_site(cloud) -> None:  # type: ignore[no-untyped-def]
    seed(cloud)
    page = Browserless(cloud, "insp1")
    assert 'class="lang-zh"' in page.get("/alarms").text
    for target, expected in (("/alarms?view=all", "/alarms?view=all"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        r = page.get("/lang", params={"to": "en", "next": target})
        assert (r.status_code, r.headers["location"]) == (303, expected), target
    assert "sebiao_lang=en" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    text = page.get("/alarms").text
    assert 'class="lang-en"' in text and '<html lang="en"' in text
    page.get("/lang", params={"to": "klingon", "next": "/alarms"})  # not a language: the choice stays
    assert 'class="lang-en"' in page.get("/alarms").text
    page.get("/lang", params={"to": "zh", "next": "/alarms"})
    assert 'class="lang-zh"' in page.get("/alarms").text


def test_the_csv_is_the_view_and_only_the_scope(cloud) -> None:  # type: ignore[no-untyped-def]
    _, ids = seed(cloud)
    page = Browserless(cloud, "insp1")
    assert page.get("/alarms.csv").status_code == 200
    r = page.get("/alarms.csv", params={"view": "all"})
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert sorted(row[0] for row in table[1:]) == ["ws-a #12", "ws-b #7"]  # not ws-c's: another district
    triage = list(csv.reader(io.StringIO(page.get("/alarms.csv").content.decode("utf-8-sig"))))
    assert [row[0] for row in triage[1:]] == ["ws-a #12"]  # the default view: ws-b's is minor
    assert Browserless(cloud).get("/alarms.csv").status_code == 303  # no session: to the login
    assert ids


@pytest.mark.parametrize("query", ["page=0", "page=99999999999999999999", "page=x", "limit=0", "limit=5000",
                                   "severity=huge", "review=maybe", "q=" + "长" * 101])
def test_a_bad_queue_query_is_400_naming_its_field(cloud, query: str) -> None:  # type: ignore[no-untyped-def]
    seed(cloud)
    page = Browserless(cloud, "insp1")
    r = page.get("/alarms?view=all&" + query)
    assert r.status_code == 400, query
    assert query.split("=")[0] + ":" in r.text, r.text[-400:]


def test_accepting_a_rectification_closes_the_review_only_when_asked(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    insp = Browserless(cloud, "insp1")
    rects = {}
    for ws in ("ws-a", "ws-b"):
        r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids[ws]}/rectifications", {"note": "请整改"})
        rects[ws] = r.json()["id"]
    assert cloud.post(tokens["owner-a"], f"/api/v1/rectifications/{rects['ws-a']}/answer",
                      {"action": "已整改"}).status_code == 200
    assert 'id="accept-close"' not in insp.get(f"/alarms/{ids['ws-b']}").text  # not answered: nothing to accept
    assert 'id="accept-close"' in insp.get(f"/alarms/{ids['ws-a']}").text
    assert insp.post(f"/rectifications/{rects['ws-a']}/accept", close_review="1").status_code == 303
    state, notes = _review(cloud, tokens, ids["ws-a"])
    assert state == "cleared" and [(n["action"], n["note"]) for n in notes] == [
        ("clear", f"整改 #{rects['ws-a']} 已通过 / rectification #{rects['ws-a']} accepted")]
    assert cloud.get(tokens["admin"], f"/api/v1/rectifications/{rects['ws-a']}").json()["state"] == "accepted"


def test_accepting_without_the_tick_leaves_the_review_open(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = seed(cloud)
    insp = Browserless(cloud, "insp1")
    rect = cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids['ws-a']}/rectifications", {"note": "请整改"}).json()["id"]
    cloud.post(tokens["owner-a"], f"/api/v1/rectifications/{rect}/answer", {"action": "已整改"})
    assert insp.post(f"/rectifications/{rect}/accept", note="通过").status_code == 303
    assert _review(cloud, tokens, ids["ws-a"]) == ("open", [])
