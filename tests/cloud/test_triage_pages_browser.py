"""The alarm queue as an inspector's triage, end to end in headless Chromium at a desktop and a 390 px phone, on
SQLite and PostgreSQL: the default view (critical and major, not reviewed), its order (severity, then the
longest waiting), the count in the navigation, names instead of ids, a workshop's alarm link, pages, bulk
acknowledge and comment (one alarm of another district slipped into the form refuses the whole batch), the CSV
export with formulas neutralised, the alarm page's sticky action bar, no sideways overflow on a phone, the
language switch, accepting a rectification that closes the review, and the owner's landing page."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import PASSWORD, T0, Cloud, alarm, batch, world_batches
from test_cloud_pages_browser import PageServer, _login, _submit
from web_browser import PHONE, TV, WatchedPage, browser, contrast_failures, screenshot

from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.canonical import canonical_json

HOUR = 3_600_000
OVERFLOW = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""
SETUP = {"stations": [{"id": "rack-red-1", "kind": "rack", "zone": "red", "name": None},
                      {"id": "rack-white-1", "kind": "rack", "zone": "white", "name": "成品架"}],
         "tools": [{"id": "KN-R-01", "kind": "knife", "color": "red", "tag": "04A224E2C65E80", "home": "rack-red-1",
                    "marking": "labelled", "marked_on": "2026-10-01"}],
         "rules": {}}


def _alarm(gateway_id: int, severity: str, ts: int, text: str = "跨区放置", en: str = "Cross-zone") -> dict:
    item = alarm(gateway_id, 1, severity=severity)
    item["alarm"].update(ts=ts, last_ts=ts, raised_at=ts, updated_at=ts, text={"zh": text, "en": en})
    item["transition"]["at"] = ts
    return item


def _world(cloud: Cloud) -> tuple[dict[str, str], dict[str, int]]:
    """World of the page tests plus: ws-a's setup naming its knife and stations, and alarms of every severity
    at different ages (one whose text is a spreadsheet formula); ids by ``workshop #gateway id``."""
    tokens = cloud.tenants()
    for gateway, _, doc in world_batches():
        assert cloud.push(tokens[gateway], doc).status_code == 200
    setup = {"kind": "setup", "version": 1, "at": T0 - 10 * HOUR, "setup": SETUP,
             "hash": hashlib.sha256(canonical_json(SETUP).encode()).hexdigest()}
    more_a = [setup, _alarm(20, "critical", T0 - 5 * HOUR, "=HYPERLINK(\"http://evil\")", "@SUM(A1)"),
              _alarm(21, "major", T0 - 3 * HOUR), _alarm(22, "major", T0 - HOUR), _alarm(23, "minor", T0 - 2 * HOUR)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "a-2", more_a)).status_code == 200
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "b-2", [_alarm(30, "major", T0 - 4 * HOUR)])).status_code == 200
    listed = cloud.get(tokens["admin"], "/api/v1/alarms").json()
    assert all(a["number"] == f"{a['workshop']} #{a['gateway_id']}" for a in listed)  # the API carries it too
    ids = {a["number"]: a["id"] for a in listed}
    return tokens, ids


def _rows(page: WatchedPage) -> list[str]:
    return page.locator("tr[data-alarm] td.number").all_text_contents()


def _narrow_ok(page: WatchedPage) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(OVERFLOW) == [], page.url


def _triage(page: WatchedPage, base: str, phone: bool) -> None:
    """What every inspector sees first, at either size."""
    page.goto(base + "/alarms")
    assert _rows(page) == ["ws-a #20", "ws-a #12", "ws-b #30", "ws-a #21", "ws-a #22"]  # severity, then age
    assert page.get_attribute("#nav-count-alarms", "data-count") == "5"
    assert not page.is_visible("#f-severity")  # the filters are behind one tap …
    page.click("#filter-toggle")
    assert page.is_visible("#f-severity")  # … and there after it
    row = page.locator("tr[data-alarm]", has=page.locator("td.number", has_text="ws-a #12"))
    assert "● 红色刀具 KN-R-01" in row.locator(".tool-name").text_content()  # shape, colour name, kind, id
    assert "⬢ 成品架 rack-white-1" in row.locator(".station-name").text_content()
    assert row.locator(".workshop-name").text_content().startswith("作坊 ws-a ")  # then its 最后上报 badge
    assert row.locator(".workshop-name [data-fresh]").count() == 1
    assert "跨区放置" in row.locator(".alarm-text").text_content()
    if phone:
        _narrow_ok(page)


@pytest.mark.slow
def test_the_triage_queue_in_chromium(cloud_url: str, tmp_path: Path) -> None:
    cloud = Cloud(cloud_url)
    tokens, ids = _world(cloud)
    r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids['ws-a #12']}/rectifications", {"note": "请说明整改措施"})
    assert r.status_code == 201, r.text
    rect = r.json()["id"]
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"workshop": "ws-a", "text": "抹布未分色",
                                                            "due": T0 + 72 * HOUR})
    assert r.status_code == 201, r.text
    item = r.json()["id"]
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        desk = _login(chrome, base, "insp1", "/alarms", TV)
        phone = _login(chrome, base, "insp1", "/alarms", PHONE)
        for page, small in ((desk, False), (phone, True)):
            _triage(page, base, small)
        screenshot(desk, "cloud-triage")
        measured, low = contrast_failures(desk)
        assert measured > 40 and low == [], low
        screenshot(phone, "cloud-triage-phone")

        # the rectification and its ledger item, in the queue
        row = desk.locator(f"tr[data-alarm='{ids['ws-a #12']}']")
        assert row.locator("[data-rect-state]").get_attribute("data-rect-state") == "requested"
        assert row.locator("a.ledger-link").count() == 1

        # pages: two a page, the order going on from one page to the next
        desk.goto(base + "/alarms?limit=2")
        seen = []
        while True:
            seen += _rows(desk)
            if desk.locator("#page-next").count() == 0:
                break
            with desk.expect_navigation():
                desk.click("#page-next")
        assert seen == ["ws-a #20", "ws-a #12", "ws-b #30", "ws-a #21", "ws-a #22"]
        assert desk.get_attribute("#pages", "data-pages") == "3"

        # a workshop's alarm count opens that workshop's alarms, not its district's
        desk.goto(base + "/workshops")
        with desk.expect_navigation():
            desk.click("tr[data-workshop=ws-b] a.alarms-link")
        assert parse_qs(urlsplit(desk.url).query)["workshop"] == ["ws-b"]
        assert sorted(_rows(desk)) == ["ws-b #30", "ws-b #7"]

        # search, in the alarm's text
        desk.goto(base + "/alarms?q=HYPERLINK")
        assert _rows(desk) == ["ws-a #20"]

        # bulk: an alarm of another district slipped into the form refuses the whole batch, changing nothing
        desk.goto(base + "/alarms")
        other = ids["ws-c #3"]
        desk.check(f"#pick-{ids['ws-a #21']}")
        desk.evaluate(f"""() => {{ const box = document.querySelector('#pick-{ids["ws-a #22"]}');
                                   box.value = '{other}'; box.checked = true; }}""")
        desk.fill("#bulk-note", "越权")
        with desk.expect_response(f"{base}/alarms/bulk") as refused:
            desk.click("#bulk-ack")
        assert refused.value.status == 404
        for alarm_id in (ids["ws-a #21"], other):
            assert cloud.get(tokens["admin"], f"/api/v1/alarms/{alarm_id}").json()["review"]["state"] == "open"
        # … and without it, both acknowledged in one step, back on the queue
        desk.goto(base + "/alarms")
        desk.check(f"#pick-{ids['ws-a #21']}")
        desk.check(f"#pick-{ids['ws-a #22']}")
        desk.fill("#bulk-note", "已远程查看")
        with desk.expect_navigation():
            desk.click("#bulk-ack")
        assert urlsplit(desk.url).path == "/alarms"
        assert _rows(desk) == ["ws-a #20", "ws-a #12", "ws-b #30"]
        assert desk.get_attribute("#nav-count-alarms", "data-count") == "3"
        notes = cloud.get(tokens["admin"], f"/api/v1/alarms/{ids['ws-a #22']}").json()["inspector_notes"]
        assert [(n["action"], n["note"]) for n in notes] == [("ack", "已远程查看")]
        desk.check(f"#pick-{ids['ws-a #20']}")
        desk.fill("#bulk-note", "请核查原始记录")
        with desk.expect_navigation():
            desk.click("#bulk-comment")
        detail = cloud.get(tokens["admin"], f"/api/v1/alarms/{ids['ws-a #20']}").json()
        assert detail["review"]["state"] == "open"  # a comment changes no state
        assert [(n["action"], n["note"]) for n in detail["inspector_notes"]] == [("comment", "请核查原始记录")]

        # the CSV: every alarm of the view, formulas neutralised
        desk.goto(base + "/alarms?view=all")
        with desk.expect_download() as download:
            desk.click("#download-csv")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        table = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        by_number = {row[0]: row for row in table[1:]}
        assert sorted(by_number) == sorted(k for k in ids if not k.startswith("ws-c"))
        evil = by_number["ws-a #20"]
        assert evil[4] == "'=HYPERLINK(\"http://evil\")" and evil[5] == "'@SUM(A1)"
        assert by_number["ws-a #12"][10] == "● 红色刀具 KN-R-01" and by_number["ws-a #12"][16] == "requested"

        # the alarm page on a phone: names, and the actions in a bar that stays on the screen
        phone.goto(f"{base}/alarms/{ids['ws-a #12']}")
        assert phone.text_content("#alarm-number") == "ws-a #12"
        assert "● 红色刀具 KN-R-01" in phone.text_content("#tool-name")
        bar = phone.locator("#action-bar")
        assert bar.evaluate("e => getComputedStyle(e).position") == "sticky"
        assert phone.evaluate("document.documentElement.scrollHeight > window.innerHeight * 1.5")  # a long page
        for y in (0, 600):
            phone.evaluate(f"window.scrollTo(0, {y})")
            box = bar.bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE[1] + 1, (y, box)
        assert bar.locator("a[data-action=ack]").count() == 1
        _narrow_ok(phone)
        screenshot(phone, "cloud-alarm-actions-phone", full_page=False)

        # the owner lands on what waits for its answer, and nothing overflows its phone
        ctx = chrome.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="zh-CN")
        owner = WatchedPage(ctx.new_page())
        owner.goto(base + "/login")
        owner.fill("#username", "owner-a")
        owner.fill("#password", PASSWORD["owner-a"])
        with owner.expect_navigation(url=f"{base}/rectifications"):
            owner.click("button[type=submit]")
        assert owner.locator(f"#rects-waiting tr[data-rect='{rect}']").count() == 1
        assert "作坊 ws-a" in owner.text_content(f"#rects-waiting tr[data-rect='{rect}']")  # its name, not its id
        assert owner.locator("#items-waiting tr[data-item]").evaluate_all("els => els.map(e => e.dataset.item)") == [
            str(item)]  # the ledger's own items waiting for an answer, not the alarm's again
        assert owner.get_attribute("#nav-count-rectifications", "data-count") == "2"
        assert "待您答复" in owner.text_content("h1")
        screenshot(owner, "cloud-owner-waiting-phone")
        _narrow_ok(owner)
        owner.goto(f"{base}/alarms/{ids['ws-a #12']}")
        assert owner.locator("#action-bar a[data-action=answer]").count() == 1
        _submit(owner, "answer", "刀具已消毒")
        phone.goto(base + "/rectifications")
        _narrow_ok(phone)

        # accepting the answer closes the review in the same step (the actions' bar on a desktop too)
        desk.goto(f"{base}/alarms/{ids['ws-a #12']}")
        box = desk.locator("#action-bar").bounding_box()
        assert box is not None and box["y"] + box["height"] <= TV[1] + 1 and box["y"] > TV[1] / 2, box
        assert desk.locator("#action-bar a[data-action=accept]").count() == 1
        assert desk.is_checked("#accept-close")
        _submit(desk, "accept", "整改到位")
        assert desk.get_attribute("article.rect", "data-state") == "accepted"
        assert desk.get_attribute("#summary [data-review]", "data-review") == "cleared"

        # Chinese by default; English by the switch, remembered by this browser; and back
        desk.goto(base + "/alarms")
        assert desk.get_attribute("html", "lang") == "zh-CN"
        assert desk.is_visible("#view-triage .zh") and not desk.is_visible("#view-triage .en")
        with desk.expect_navigation():
            desk.click("#lang")
        assert urlsplit(desk.url).path == "/alarms"
        assert desk.get_attribute("html", "lang") == "en"
        assert desk.is_visible("#view-triage .en") and not desk.is_visible("#view-triage .zh")
        assert desk.text_content("#f-severity option[value=critical]") == "critical"
        desk.goto(f"{base}/alarms/{ids['ws-a #12']}")
        assert desk.is_visible("#tool-name .en") and "red knife KN-R-01" in desk.text_content("#tool-name .en")
        screenshot(desk, "cloud-alarm-en")
        desk.goto(base + "/workshops")
        assert desk.get_attribute("html", "class") == "lang-en"
        screenshot(desk, "cloud-workshops-en")
        with desk.expect_navigation():
            desk.click("#lang")
        assert desk.get_attribute("html", "class") == "lang-zh" and urlsplit(desk.url).path == "/workshops"
        assert phone.evaluate("document.documentElement.className") == "lang-zh"  # another browser: its own
        phone.goto(base + "/alarms?view=all")
        before = "td.number", "e => getComputedStyle(e, '::before').content"
        assert phone.locator(before[0]).first.evaluate(before[1]) == '"编号："'
        with phone.expect_navigation():
            phone.click("#lang")
        assert phone.get_attribute("html", "lang") == "en" and urlsplit(phone.url).query == "view=all"
        assert phone.locator(before[0]).first.evaluate(before[1]) == '"No.: "'  # a cell's label too
        assert phone.is_visible("#view-all .en") and not phone.is_visible("#view-all .zh")
        _narrow_ok(phone)
        measured, low = contrast_failures(phone)
        assert measured > 40 and low == [], low  # the English, now the text itself, read as well
        screenshot(phone, "cloud-triage-phone-en")

        with db.read(cloud.engine) as conn:  # the bulk steps were chained as evidence, each note with its row
            assert evidence.verify(conn).ok and coverage.check(conn).ok

        for page in (desk, phone, owner):  # but the refused batch's 404 (and its page's favicon), as expected
            unexpected = [e for e in page.errors if not e.endswith(("/alarms/bulk)", "/favicon.ico)"))]
            assert unexpected == [], unexpected
    cloud.client.close()
    cloud.engine.dispose()
