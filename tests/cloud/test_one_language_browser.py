"""One language at a time on the cloud's pages, in headless Chromium at a 390 px phone and a desktop: every
page an inspector or an owner reads shows Chinese only by default and English only after the switch
(``/lang``), never "中文 / English" written side by side. The scan reads what the reader sees: the visible
text, the choices of every drop-down, the names given to screen readers (aria-label, alt, title), which must
also be in the reader's language, and, on a phone, each table cell's label (a ``::before``). The alarm page
(its action bar, a rectification answered with a photo) and the report page's figures table (its PDF and CSV
keep both languages) are read whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import DAY, Cloud, world_batches
from PIL import Image
from test_cloud_pages_browser import PageServer, _login
from web_browser import PHONE, TV, browser

# A run of Chinese, then " / " and a Latin word on the same line: one text written in both languages.
TWINS = re.compile(r"[\u3400-\u9fff][^\n]*? ?/ [A-Za-z]")
SEEN = """(scope) => {
    const root = document.querySelector(scope);
    const out = root.innerText.split('\\n');
    for (const o of root.querySelectorAll('select option')) out.push(o.textContent);
    for (const e of document.querySelectorAll('[aria-label]')) out.push(e.getAttribute('aria-label'));
    for (const e of document.querySelectorAll('img[alt]')) out.push(e.getAttribute('alt'));
    for (const e of document.querySelectorAll('[title]')) out.push(e.getAttribute('title'));
    for (const td of root.querySelectorAll('td')) {
        const c = getComputedStyle(td, '::before').content;
        if (c && c !== 'none' && c !== 'normal') out.push(c);
    }
    return out;
}"""
SHOWN = "(sel) => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).length"
# the names screen readers are given, where the page has no words to show in the reader's language instead
NAMES = """() => [...document.querySelectorAll('[aria-label], img[alt], [title]')]
    .map(e => e.getAttribute('aria-label') ?? e.getAttribute('alt') ?? e.getAttribute('title'))"""
LATIN = re.compile(r"[A-Za-z]{2}")
CHINESE = re.compile(r"[\u3400-\u9fff]")

INSPECTOR_PAGES = ["/ledger", "/ledger/{item}", "/workshops/ws-a", "/overview", "/workshops/ws-a/inspections",
                   "/workshops/ws-a/inspections/new", "/inspections", "/spot-checks", "/spot-checks/{draw}",
                   "/workshops/ws-a/grade", "/public/workshops/ws-a",
                   f"/reports?workshop=ws-a&from={DAY}&to={DAY}", "/alarms", "/alarms/{alarm}", "/rectifications",
                   f"/reports/district?district=d1&from={DAY}&to={DAY}", "/workshops/ws-a/plan", "/setups",
                   "/setups/ws-a", "/workshops"]
INSPECTOR_PAGES += ["/map", "/map?district=d1"]  # 作坊地图: the points' labels are the SVG's words
OWNER_PAGES = ["/ledger", "/ledger/{item}", "/workshops/ws-a", "/workshops/ws-a/grade", "/workshops/ws-a/plan",
               "/setups/ws-a", "/workshops/ws-a/inspections", "/alarms", "/alarms/{alarm}", "/rectifications",
               f"/reports?workshop=ws-a&from={DAY}&to={DAY}"]
OWNER_PAGES += ["/map"]


def _twins(page, scope: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in page.evaluate(SEEN, scope) if TWINS.search(line)]


def _switch(page, to: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.click("#lang")
    assert page.get_attribute("html", "class") == f"lang-{to}"


def _visit_all(page, base: str, paths: list[str], ids: dict[str, str],  # type: ignore[no-untyped-def]
               phone: bool) -> None:
    for lang in ("zh", "en"):
        for path in paths:
            page.goto(base + path.format(**ids))
            assert page.get_attribute("html", "class") == f"lang-{lang}"
            assert _twins(page, "#" + path.split("#")[1] if "#" in path else "body") == [], \
                f"{path} ({lang}) shows both languages"
            names = page.evaluate(NAMES)
            wrong = ([n for n in names if LATIN.search(n) and not CHINESE.search(n)] if lang == "zh"
                     else [n for n in names if CHINESE.search(n)])
            assert wrong == [], f"{path} ({lang}): screen-reader names in the other language: {wrong}"
            if phone and page.locator(".scroll .grid td[data-label-zh]").count():
                label = page.evaluate("getComputedStyle(document.querySelector("
                                      "'.scroll .grid td[data-label-zh]'), '::before').content")
                assert bool(CHINESE.search(label)) == (lang == "zh"), f"{path}: the phone label {label}"
            other = "zh" if lang == "en" else "en"  # bi's other half is hidden, its own half shown
            assert page.evaluate(SHOWN, f"span.{other}") == 0, f"{path} ({lang}): {other} shown"
            assert page.evaluate(SHOWN, f"span.{lang}") > 0, f"{path} ({lang}): nothing in {lang}"
            assert page.evaluate(SHOWN, f"tspan.{other}") == 0, f"{path} ({lang}): {other} shown in a drawing"
            if path.startswith("/map"):  # the map's labels in the reader's language
                assert page.evaluate(SHOWN, f"text.map-label tspan.{lang}") > 0, f"{path} ({lang}): no label"
        _switch(page, "en" if lang == "zh" else "zh")


@pytest.mark.slow
@pytest.mark.parametrize("size", [PHONE, TV], ids=["phone", "desktop"])
def test_each_page_speaks_the_readers_language_only(cloud_url: str, size: tuple[int, int], tmp_path: Path) -> None:
    cloud = Cloud(cloud_url)
    tokens = cloud.tenants()
    for gateway, _, doc in world_batches():  # stations, alarms and freshness for the pages to show
        assert cloud.push(tokens[gateway], doc).status_code == 200
    for ws, lat in (("ws-a", 40.65), ("ws-b", 40.7)):  # the map draws its points and their labels
        assert cloud.post(tokens["insp1"], f"/api/v1/workshops/{ws}/record",
                          {"latitude": lat, "longitude": 109.84}).status_code == 200
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", "/ledger", size)
        insp.select_option("#open-workshop", "ws-a")
        insp.fill("#open-ref", "JC-2025-031")
        insp.fill("#open-text", "白色成品容器放在生肉区")
        insp.fill("#open-due", "2025-11-28")
        with insp.expect_navigation():
            insp.click("#open-submit")
        assert insp.locator("#error").count() == 0, insp.text_content("#error")
        item = insp.url.rsplit("/", 1)[1]
        insp.goto(f"{base}/workshops/ws-a/grade")
        insp.fill("#grade-reason", "色标执行良好")
        with insp.expect_navigation():
            insp.click("#grade-submit")
        insp.goto(f"{base}/spot-checks")
        insp.select_option("#district", "d1")
        insp.fill("#period", "2025-Q3")
        insp.fill("#seed-input", "07 12 19 23 31")
        with insp.expect_navigation():
            insp.click("#form-draw button[type=submit]")
        draw = insp.url.rsplit("/", 1)[1]
        alarm = {a["workshop"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()}["ws-a"]
        r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm}/rectifications", {"note": "请拍照说明"})
        assert r.status_code == 201, r.text
        ids = {"item": item, "draw": draw, "alarm": alarm}
        _visit_all(insp, base, INSPECTOR_PAGES, ids, size == PHONE)
        assert [e for e in insp.errors if "favicon" not in e] == []
        owner = _login(chrome, base, "owner-a", "/ledger", size)
        owner.goto(f"{base}/ledger/{item}")  # answered with a photo: its alt text is read too
        photo = tmp_path / "rack.png"
        Image.new("RGB", (64, 48), (20, 120, 40)).save(photo, "PNG")
        owner.fill("#answer-text", "容器已移回成品区")
        owner.set_input_files("#answer-photos", str(photo))
        with owner.expect_navigation():
            owner.click("#answer-submit")
        assert owner.locator(".photos img").count() == 1
        owner.goto(f"{base}/alarms/{alarm}")  # and the alarm's rectification, answered there with a photo
        owner.fill("#answer-text", "刀具已放回红色架")
        owner.set_input_files("#answer-photos", str(photo))
        with owner.expect_navigation():
            owner.click("#answer-submit")
        assert owner.locator("article.rect .photos img").count() == 1
        _visit_all(owner, base, OWNER_PAGES, ids, size == PHONE)
        assert [e for e in owner.errors if "favicon" not in e] == []

