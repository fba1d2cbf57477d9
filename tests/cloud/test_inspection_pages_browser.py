"""On-site inspections and the spot checks on the pages, in headless Chromium, on SQLite and PostgreSQL: the
inspector fills in a visit on a 390 px phone with the thumb's targets (every checklist item, one 不符合 with
its note, a photo; a fake image refused and the form kept), signs it; the visit page and its PDF; the 不符合
is on the ledger; the owner reads the visit; the desktop lists it; a spot check drawn, shown, refused twice,
and not shown to an owner."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pdfplumber
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import Cloud
from PIL import Image
from test_cloud_pages_browser import PageServer, _login
from test_ledger_pages_browser import _narrow_ok
from web_browser import LOADED_WIDTH, PHONE, browser, contrast_failures, screenshot

from cloud_ingest.review import checklist

CST = timezone(timedelta(hours=8))


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=CST).timestamp() * 1000)


@pytest.mark.slow
def test_an_inspection_on_a_phone_and_a_spot_check(cloud_url: str, tmp_path: Path) -> None:
    cloud = Cloud(cloud_url)
    tokens = cloud.tenants()
    photo, fake = tmp_path / "sink.png", tmp_path / "fake.png"
    Image.new("RGB", (64, 48), (20, 60, 160)).save(photo, "PNG")
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", "/workshops/ws-a", PHONE)
        with insp.expect_navigation():
            insp.click("#to-inspections")
        assert insp.locator("#no-visits").count() == 1
        with insp.expect_navigation():
            insp.click("#new-visit")
        _narrow_ok(insp)
        # a thumb's target: each choice at least 44 px high and inside the screen
        sizes = insp.locator(".choice").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
        assert len(sizes) == 3 * len(checklist.items(checklist.CURRENT)) and min(sizes) >= 44, sizes
        font = insp.locator("#representative").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert font >= 16  # a phone does not zoom into the field
        screenshot(insp, "cloud-inspection-form-phone")
        for item in checklist.items(checklist.CURRENT):
            result = "fail" if item.key == "label_state" else ("na" if item.key == "replacement" else "pass")
            insp.locator(f"label.choice:has(#r-{item.key}-{result})").click()  # the label, as a thumb would
        insp.fill("#n-label_state", "砧板色标脱落两处")
        insp.fill("#d-label_state", "2025-12-10")
        insp.fill("#inspectors", "张检查、李检查")
        insp.fill("#findings", "色标基本到位，一项需整改")
        insp.fill("#representative", "王师傅")
        insp.check("#sign")
        insp.set_input_files("#photos", str(fake))
        with insp.expect_response(f"{base}/workshops/ws-a/inspections") as refused:
            insp.click("#inspection-submit")
        assert refused.value.status == 422 and "PNG" in insp.text_content("#error")
        assert insp.input_value("#n-label_state") == "砧板色标脱落两处"  # the form kept what was typed
        assert insp.is_checked("#r-label_state-fail")
        insp.check("#sign")
        insp.set_input_files("#photos", str(photo))
        with insp.expect_navigation():
            insp.click("#inspection-submit")
        vid = urlsplit(insp.url).path.rsplit("/", 1)[1]
        _narrow_ok(insp)
        assert insp.locator("tr[data-item=label_state] [data-result=fail]").count() == 1
        assert "指引 六(四)" in insp.text_content("tr[data-item=label_state]")
        assert insp.locator(".photos img").evaluate(LOADED_WIDTH) == 64
        screenshot(insp, "cloud-inspection-visit-phone")
        measured, low = contrast_failures(insp)
        assert measured > 20 and low == [], low
        # the 不符合 is a ledger item with the chosen deadline, the visit as its reference
        ledger_href = insp.get_attribute("tr[data-item=label_state] a", "href")
        items = cloud.get(tokens["insp1"], "/api/v1/ledger/items").json()
        assert [(i["source"], i["ref"], i["severity"]) for i in items] == [("inspection", vid, "minor")]
        assert ledger_href == f"/ledger/{items[0]['id']}" and items[0]["due"] == _ms("2025-12-11") - 1
        # the PDF: the visit, page numbers, signature lines
        with insp.expect_download() as got:
            insp.click("#visit-pdf")
        with pdfplumber.open(io.BytesIO(Path(got.value.path()).read_bytes())) as pdf:
            words = "".join(page.extract_text() or "" for page in pdf.pages)
            sizes = {round(c["size"]) for page in pdf.pages for c in page.chars}
        assert "现场检查记录" in words and "王师傅" in words and "第 1 页" in words and "签字" in words
        assert min(sizes) >= 10

        owner = _login(chrome, base, "owner-a", f"/inspections/{vid}", PHONE)
        assert owner.locator("tr[data-item]").count() == len(checklist.items(checklist.CURRENT))
        assert owner.goto(f"{base}/workshops/ws-a/inspections/new").status == 403
        assert owner.locator("#form-inspection").count() == 0  # an owner cannot record a visit
        assert owner.goto(f"{base}/spot-checks").status == 403
        assert owner.locator("#form-draw").count() == 0

        desk = _login(chrome, base, "insp1", "/inspections")
        assert desk.locator(f"tr[data-visit='{vid}']").count() == 1
        # on a desktop the form's three choices of an item stand in one row
        desk.goto(f"{base}/workshops/ws-a/inspections/new")
        _narrow_ok(desk)
        tops = desk.locator("fieldset[data-item=zones] .choice").evaluate_all(
            "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
        assert len(tops) == 3 and len(set(tops)) == 1, tops
        screenshot(desk, "cloud-inspection-form-desktop")
        # a spot check of 2025-Q4, once the quarter is over
        cloud.now = _ms("2026-01-05")
        desk.goto(base + "/spot-checks")
        desk.select_option("#district", "d1")
        desk.fill("#period", "2025-Q4")
        desk.fill("#seed-input", "2026-01-02 08 13 21")
        with desk.expect_navigation():
            desk.click("#draw-submit")
        assert urlsplit(desk.url).path.startswith("/spot-checks/")
        assert "SHA-256" in desk.text_content(".hint") and desk.text_content("#seed-input") == "2026-01-02 08 13 21"
        screenshot(desk, "cloud-spot-check")
        desk.goto(base + "/spot-checks")
        desk.select_option("#district", "d1")
        desk.fill("#period", "2025-Q4")
        desk.fill("#seed-input", "again")
        with desk.expect_response(f"{base}/spot-checks") as again:
            desk.click("#draw-submit")
        assert again.value.status == 409 and "already drawn" in desk.text_content("#error")
