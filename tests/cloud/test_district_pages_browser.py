"""The summary above a workshop's report and the district report on the pages, in headless Chromium (a
desktop and a 390 px phone), on SQLite and PostgreSQL, over ``test_district_report``'s seeded district:
the trend read in words, the ranking, the CSV and PDF downloaded; an owner and another district's
inspector refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pdfplumber
import pytest
import test_district_report
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from test_cloud_pages_browser import PageServer, _login
from test_cloud_reports import DAY
from test_ledger_pages_browser import _narrow_ok
from web_browser import PHONE, browser, screenshot

day, district = test_district_report.day, test_district_report.district  # the seeded district's fixtures
QUERY = f"from={DAY}&to={DAY}"


@pytest.mark.slow
def test_the_summary_and_the_district_report_in_chromium(district, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cloud, _ = district
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        insp = _login(chrome, base, "insp1", "/reports")
        insp.goto(f"{base}/reports?workshop=ws-a&{QUERY}")
        misuse = insp.locator("#summary tr[data-figure=misuse_per_100]")
        assert (misuse.get_attribute("data-trend"), misuse.get_attribute("data-better")) == ("down", "true")
        assert "↓ 下降，变好" in misuse.inner_text() and "down, better" not in misuse.inner_text()  # Chinese only
        assert "33.34（16.67 – 50.00，n = 2）" in misuse.text_content()  # the district's median and quartiles
        assert "↑ 上升，变差" in insp.inner_text("#summary tr[data-figure=alarms]")
        screenshot(insp, "cloud-report-summary")

        with insp.expect_navigation():
            insp.click("#to-district")
        insp.select_option("#d-district", "d1")
        insp.fill("#d-from", DAY)
        insp.fill("#d-to", DAY)
        with insp.expect_navigation():
            insp.click("#district-form button[type=submit]")
        rows = insp.locator("#district-report tr[data-workshop]")
        assert rows.evaluate_all("els => els.map(e => e.dataset.workshop)") == ["ws-b", "ws-a", "ws-d"]
        assert "金榜" in insp.inner_text("#district-report tr[data-workshop=ws-b]")
        screenshot(insp, "cloud-district-report")
        files = {}
        for fmt in ("csv", "pdf"):
            with insp.expect_download() as download:
                insp.click(f"#download-district-{fmt}")
            files[fmt] = tmp_path / download.value.suggested_filename
            download.value.save_as(files[fmt])
        assert files["csv"].name == f"sebiao-district-d1-{DAY}-{DAY}.csv"
        table = list(csv.reader(io.StringIO(files["csv"].read_bytes().decode("utf-8-sig"))))
        assert [row[1] for row in table[1:]] == ["ws-b", "ws-a", "ws-d"]
        assert table[3][2] == "'" + test_district_report.EVIL
        with pdfplumber.open(files["pdf"]) as pdf:
            assert "区色标化管理报告" in pdf.pages[0].extract_text()

        phone = _login(chrome, base, "insp1", "/reports", PHONE)
        for path in (f"/reports?workshop=ws-a&{QUERY}", f"/reports/district?district=d1&{QUERY}"):
            phone.goto(base + path)
            _narrow_ok(phone)
        assert phone.locator("#district-report tr[data-workshop]").count() == 3
        screenshot(phone, "cloud-district-report-phone")
        phone.goto(f"{base}/reports?workshop=ws-a&{QUERY}")
        screenshot(phone, "cloud-report-summary-phone")

        owner = _login(chrome, base, "owner-a", "/reports", PHONE)
        assert owner.locator("#to-district").count() == 0
        for path in (f"/reports/district?district=d1&{QUERY}",
                     f"/reports/district/download?district=d1&{QUERY}&format=csv"):
            assert owner.goto(base + path).status == 403, path
            assert "ws-a" not in owner.text_content("main")
        owner.goto(f"{base}/reports?workshop=ws-a&{QUERY}")
        assert owner.locator("#summary tr[data-figure=misuse_per_100]").count() == 1
        _narrow_ok(owner)

        other = _login(chrome, base, "insp2", "/reports")
        assert other.goto(f"{base}/reports/district?district=d1&{QUERY}").status == 404
        assert other.goto(f"{base}/reports/district/download?district=d1&{QUERY}&format=pdf").status == 404
        for page in (insp, phone, owner, other):  # the refusals above and the browser's own favicon.ico only
            unexpected = [e for e in page.errors if "status of 403" not in e and "status of 404" not in e]
            assert unexpected == [] and all("favicon.ico" in e for e in page.errors if "status of 404" in e
                                            and page is not other), page.errors
