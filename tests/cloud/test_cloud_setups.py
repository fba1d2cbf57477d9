"""The workshop's setup as evidence, in the cloud: stored per version, hash checked, diffed, relaxations held
pending until an inspector accepts them, silenced alarms counted meanwhile, progress to the seed's deadline,
and ``sebiao cloud verify`` naming a setup row changed behind the chain's back. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import io
import re
from pathlib import Path

import pdfplumber
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import PASSWORD, SECRET, T0, Cloud, batch
from sqlalchemy import text

from cloud_ingest.reports.setup_rules import relaxations
from cloud_ingest.store import coverage, db, evidence
from cloud_ingest.store.canonical import canonical_json
from sebiao.cli import main

TOOL = {"id": "KN-R-01", "kind": "knife", "color": "red", "tag": "04A224E2C65E80", "home": "rack-red-1",
        "marking": "labelled", "marked_on": "2026-10-01"}
BOARD = {"id": "CB-R-01", "kind": "cutting_board", "color": "red", "tag": None, "home": "rack-red-1",
         "marking": "pending", "marked_on": None}
SETUP = {
    "stations": [{"id": "rack-red-1", "kind": "rack", "zone": "red", "name": None},
                 {"id": "sink-red-1", "kind": "sink", "zone": "red", "name": None}],
    "tools": [TOOL, BOARD],
    "rules": {"overdue_after_minutes": 240, "station_offline_after_seconds": 90, "exceptions": [],
              "wash_required": ["brush", "cloth", "container", "cutting_board", "knife", "scissors"],
              "wash_min_seconds": 15,
              "severity": {"cross_zone": "major", "raw_to_white": "critical"}},
}
EXCEPTION = {"station": "sink-red-1", "color": "green", "tool": None, "alarms": ["cross_zone_wash"],
             "reason": "蔬菜与肉馅同池清洗"}


def setup_item(version: int, setup: dict, at: int = T0) -> dict:
    return {"kind": "setup", "version": version, "at": at,
            "hash": hashlib.sha256(canonical_json(setup).encode()).hexdigest(), "setup": setup}


def silenced_item(ts: int, version: int = 2, exception: dict | None = None) -> dict:
    return {"kind": "silenced", "type": "cross_zone_wash", "severity": "major", "subject": "KN-G-01",
            "tool": "KN-G-01", "tag": "04C0FFEE000180", "station": "sink-red-1", "ts": ts, "late": False,
            "text": {"zh": "绿色刀具在红色清洗池", "en": "green knife at the red sink"},
            "exception": exception or EXCEPTION, "setup_version": version}


def relaxed() -> dict:
    setup = copy.deepcopy(SETUP)
    setup["rules"]["exceptions"] = [EXCEPTION]
    setup["rules"]["overdue_after_minutes"] = 480
    return setup


def test_setups_are_stored_diffed_and_a_relaxation_waits_for_the_inspector(cloud) -> None:  # type: ignore
    tokens = cloud.tenants()
    gw, insp = tokens["gw-ws-a"], tokens["insp1"]
    assert cloud.push(gw, batch("ws-a", "s-1", [setup_item(1, SETUP)])).status_code == 200
    first = cloud.get(insp, "/api/v1/workshops/ws-a/setup").json()
    assert first["current"]["version"] == 1 and first["current"]["setup"] == SETUP
    assert first["pending"] == [] and first["current"]["relaxations"] == []
    # the owner adds an exception and a longer overdue; the gateway silences a cross-zone wash with it
    r = cloud.push(gw, batch("ws-a", "s-2", [setup_item(2, relaxed(), T0 + 1000), silenced_item(T0 + 2000)]))
    assert r.status_code == 200 and r.json()["accepted"] == 2
    shown = cloud.get(insp, "/api/v1/workshops/ws-a/setup").json()
    assert shown["pending"] == [2] and shown["silenced_counted"] == 1
    v2 = shown["versions"][0]
    assert {c["path"] for c in v2["changes"]} == {"rules.exceptions", "rules.overdue_after_minutes"}
    assert {x["path"] for x in v2["relaxations"]} == {"rules.exceptions", "rules.overdue_after_minutes"}
    assert shown["silenced"][0]["counted"] is True
    report = cloud.get(insp, "/api/v1/workshops/ws-a/report", **{"from": "2025-11-26", "to": "2025-11-26"}).json()
    assert report["misuse"]["by_type"][1] == {"type": "cross_zone_wash", "count": 1, "per_100_uses": None}
    assert report["setup"] == {"version": 2, "pending_versions": [2], "silenced_counted": 1}
    assert report["progress"] == {"tools": 2, "marked": 1, "tagged": 1, "to_replace": 0, "marked_late": 0,
                                  "state": "in_progress", "deadline": "2026-11-30"}
    pdf = cloud.get(insp, "/api/v1/workshops/ws-a/report", **{"from": "2025-11-26", "to": "2025-11-26",
                                                              "format": "pdf"})
    with pdfplumber.open(io.BytesIO(pdf.content)) as doc:
        shown = "\n".join(page.extract_text() or "" for page in doc.pages)
    for expected in ("色标进度 / marking 进行中 / in progress 1/2", "待备案 / to accept: 2 2",
                     "例外压下未备案 / silenced 已计入误用 / in misuse 1"):
        assert expected in shown, expected
    # tenancy: the other district's inspector sees nothing and cannot accept; an owner cannot accept
    assert cloud.get(tokens["insp2"], "/api/v1/workshops/ws-a/setup").status_code == 404
    assert cloud.post(tokens["insp2"], "/api/v1/workshops/ws-a/setup/2/accept", {"note": "x"}).status_code == 404
    assert cloud.post(tokens["owner-a"], "/api/v1/workshops/ws-a/setup/2/accept", {"note": "x"}).status_code == 403
    assert cloud.post(insp, "/api/v1/workshops/ws-a/setup/2/accept", {}).status_code == 400
    assert cloud.post(insp, "/api/v1/workshops/ws-a/setup/1/accept", {"note": "x"}).status_code == 409
    ok = cloud.post(insp, "/api/v1/workshops/ws-a/setup/2/accept", {"note": "已到现场核实，同意备案"})
    assert ok.status_code == 200, ok.text
    assert cloud.post(insp, "/api/v1/workshops/ws-a/setup/2/accept", {"note": "again"}).status_code == 409
    after = cloud.get(insp, "/api/v1/workshops/ws-a/setup").json()
    assert after["pending"] == [] and after["silenced_counted"] == 0
    assert after["versions"][0]["accepted"]["by"] == "insp1"
    report = cloud.get(insp, "/api/v1/workshops/ws-a/report", **{"from": "2025-11-26", "to": "2025-11-26"}).json()
    assert report["misuse"]["by_type"][1]["count"] == 0 and report["setup"]["silenced_counted"] == 0
    # a later version judged against the accepted one: the same exception is no relaxation any more
    v3 = relaxed()
    v3["rules"]["severity"]["raw_to_white"] = "minor"
    assert cloud.push(gw, batch("ws-a", "s-3", [setup_item(3, v3, T0 + 3000)])).status_code == 200
    newest = cloud.get(insp, "/api/v1/workshops/ws-a/setup").json()["versions"][0]
    assert [x["path"] for x in newest["relaxations"]] == ["rules.severity.raw_to_white"]
    with db.read(cloud.engine) as conn:
        assert evidence.verify(conn).ok and coverage.check(conn).ok
        kinds = [k for (k,) in conn.execute(text("SELECT kind FROM evidence_log ORDER BY seq"))]
    assert kinds.count("setup") == 3 and kinds.count("silenced") == 1 and kinds.count("setup_accept") == 1


def test_a_setup_whose_hash_does_not_match_is_refused(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    item = setup_item(1, SETUP)
    item["setup"] = relaxed()  # the rules changed on the way, the hash not
    r = cloud.push(tokens["gw-ws-a"], batch("ws-a", "s-1", [item]))
    assert r.status_code == 400 and "items[0].hash" in r.json()["error"]
    assert cloud.get(tokens["insp1"], "/api/v1/workshops/ws-a/setup").json()["current"] is None


def test_verify_names_a_setup_row_edited_to_look_stricter(cloud, tmp_path: Path, capsys) -> None:  # type: ignore
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "s-1", [setup_item(1, relaxed())])).status_code == 200
    with db.write(cloud.engine) as conn:  # someone with the database's rights hides the exception
        conn.execute(text("UPDATE setups SET setup = :s"), {"s": canonical_json(SETUP)})
    config = tmp_path / "cloud.yaml"
    config.write_text(f"database:\n  url: {cloud.url}\nsession_secret: {SECRET}\n")
    assert main(["cloud", "verify", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"setups row 1 differs from evidence entry \d+ \(setup\)", out), out


def test_progress_per_workshop_and_district_with_the_workshops_behind(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    done = copy.deepcopy(SETUP)
    done["tools"][1] = {**BOARD, "marking": "replaced", "marked_on": "2026-11-20", "tag": "04B1C2D3E4F580"}
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "s-1", [setup_item(1, SETUP)])).status_code == 200
    assert cloud.push(tokens["gw-ws-b"], batch("ws-b", "s-1", [setup_item(1, done)])).status_code == 200
    cloud.now = 1_796_356_800_000  # 2026-12-04: the deadline has passed (a login of that day)
    body = cloud.get(cloud.login("insp1", PASSWORD["insp1"]), "/api/v1/setups").json()
    by_ws = {w["workshop"]["id"]: w["progress"] for w in body["workshops"]}
    assert by_ws["ws-a"] == {"tools": 2, "marked": 1, "tagged": 1, "to_replace": 0, "marked_late": 0,
                             "state": "behind", "deadline": "2026-11-30"}
    assert by_ws["ws-b"]["state"] == "done" and by_ws["ws-b"]["tagged"] == 2
    assert "ws-c" not in by_ws  # another district
    (d1,) = body["districts"]
    assert d1 == {"district": {"id": "d1", "name": "昆都仑区"}, "workshops": 2, "done": 1,
                  "behind": [{"workshop": "ws-a", "state": "behind"}], "tools": 4, "marked": 3, "tagged": 3}


def test_relaxations_against_the_seed_rules_and_an_accepted_setup() -> None:
    assert relaxations(None, SETUP) == []
    stricter = copy.deepcopy(SETUP)
    stricter["rules"]["overdue_after_minutes"] = 120
    stricter["rules"]["wash_min_seconds"] = 20
    assert relaxations(SETUP, stricter) == []
    looser = copy.deepcopy(stricter)
    looser["rules"]["wash_required"] = ["knife"]
    looser["rules"]["wash_min_seconds"] = 5
    looser["rules"]["disinfect_required"] = False
    stricter["rules"]["disinfect_required"] = True
    looser["tools"] = [{**TOOL, "tag": None}]
    found = {r.path: r for r in relaxations(stricter, looser)}
    assert set(found) == {"rules.wash_required", "rules.wash_min_seconds", "rules.disinfect_required",
                          "tools[KN-R-01].tag", "tools[CB-R-01]"}
    assert "brush, cloth, container, cutting_board, scissors" in found["rules.wash_required"].en


def test_a_looser_station_health_bound_is_a_relaxation() -> None:
    """More resets before ``station_resets``, a shorter window for them, a shorter quiet before it clears."""
    accepted = copy.deepcopy(SETUP)
    accepted["rules"]["station_health"] = {"resets": 3, "resets_within_minutes": 60, "resets_quiet_minutes": 60}
    stricter = copy.deepcopy(accepted)
    stricter["rules"]["station_health"] = {"resets": 2, "resets_within_minutes": 120, "resets_quiet_minutes": 90}
    assert relaxations(accepted, stricter) == []
    looser = copy.deepcopy(accepted)
    looser["rules"]["station_health"] = {"resets": 5, "resets_within_minutes": 30, "resets_quiet_minutes": 10}
    found = {r.path: (r.before, r.after) for r in relaxations(accepted, looser)}
    assert found == {"rules.station_health.resets": (3, 5), "rules.station_health.resets_within_minutes": (60, 30),
                     "rules.station_health.resets_quiet_minutes": (60, 10)}
    assert relaxations(SETUP, looser) == []  # an accepted setup from before these bounds: nothing to compare


# -- the pages, in Chromium ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_setup_pages_in_chromium(tmp_path: Path) -> None:
    """The inspector sees the pending relaxation as a diff, the silenced alarm counted, accepts with a note; the
    other district's inspector cannot see the workshop; the owner sees no accept form."""
    from test_cloud_pages_browser import PageServer, _login, _submit
    from web_browser import browser, contrast_failures, screenshot

    cloud = Cloud(f"sqlite:///{tmp_path / 'cloud.db'}")
    tokens = cloud.tenants()
    items = [setup_item(1, SETUP), setup_item(2, relaxed(), T0 + 1000), silenced_item(T0 + 2000)]
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "s-1", items)).status_code == 200
    with PageServer(cloud.client.app) as server, browser() as chrome:
        page = _login(chrome, server.base, "insp1", "/setups")
        row = page.locator("#setups tr[data-workshop=ws-a]")
        assert "待备案" in row.text_content() and "waiting for acceptance" in row.text_content()
        assert row.locator(".silenced").text_content() == "1"
        assert row.locator(".marked").text_content() == "1/2" and row.locator(".tagged").text_content() == "1/2"
        assert "ws-c" not in page.text_content("#setups")
        page.click("a[href='/setups/ws-a']")
        page.wait_for_url(server.base + "/setups/ws-a")
        v2 = page.locator("#version-2")
        assert "rules.overdue_after_minutes" in v2.text_content() and "240 → 480" in v2.text_content()
        assert "新增例外" in v2.text_content() and "蔬菜与肉馅同池清洗" in v2.text_content()
        assert "计入" in page.text_content("#silenced")
        assert contrast_failures(page)[1] == []
        screenshot(page, "cloud-setup-pending")
        _submit(page, "accept-2", "已到现场核实，同意备案")
        assert "已备案" in page.locator("#version-2").text_content()
        assert "已备案，不计" in page.text_content("#silenced")
        assert page.locator("#form-accept-2").count() == 0
        screenshot(page, "cloud-setup-accepted")
        other = _login(chrome, server.base, "insp2", "/setups")
        assert "ws-a" not in other.text_content("#setups")
        answer = other.goto(server.base + "/setups/ws-a")
        assert answer is not None and answer.status == 404
        owner = _login(chrome, server.base, "owner-a", "/setups/ws-a")
        assert owner.locator("#version-2").count() == 1 and owner.locator("form.note-form").count() == 0


def test_a_replaced_data_dir_and_a_silenced_item_without_a_reason_are_refused(cloud) -> None:  # type: ignore
    tokens = cloud.tenants()
    gw = tokens["gw-ws-a"]
    assert cloud.push(gw, batch("ws-a", "s-1", [setup_item(1, SETUP)])).status_code == 200
    assert cloud.push(gw, batch("ws-a", "s-1b", [setup_item(1, SETUP)])).json()["duplicates"] == 1  # a replay
    r = cloud.push(gw, batch("ws-a", "s-2", [silenced_item(T0), setup_item(1, relaxed())]))  # a replaced data dir
    assert r.status_code == 400 and r.json()["path"] == "items[1].version", r.text
    assert "data dir" in r.json()["error"]
    bare = silenced_item(T0)
    del bare["exception"]
    r = cloud.push(gw, batch("ws-a", "s-3", [bare]))
    assert r.status_code == 400 and r.json()["path"] == "items[0].relaxed", r.text
    relaxed_item = {**bare, "relaxed": {"accepted_version": 0}}
    assert cloud.push(gw, batch("ws-a", "s-4", [relaxed_item])).json()["path"] == "items[0].relaxed.accepted_version"
