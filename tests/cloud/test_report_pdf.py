"""The report's PDF measured with pdfplumber: every text 10 pt at least, "第 N 页 / 共 M 页" on every page,
the five zones drawn with their colour and shape beside their names, the alarms listed with their
rectification's ledger state (and overdue), and the lines to sign; on SQLite and PostgreSQL.

The day is ``test_cloud_reports``'s (2025-11-26, workshop ws-a, four misuse occurrences); here the inspector
also asks for two rectifications: alarm 1's deadline passes before the report is printed (overdue), alarm 2's
is answered by the owner.
"""

from __future__ import annotations

import io
import re

import pdfplumber
import test_cloud_reports
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from test_cloud_reports import REPORT, H, S

from sebiao_common.domain import COLOR_CLASSES

MM = 72 / 25.4
day = test_cloud_reports.day  # the known day's fixture


def _rectify(cloud, tokens) -> dict[int, int]:  # type: ignore[no-untyped-def]
    ids = {a["gateway_id"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()
           if a["workshop"] == "ws-a"}
    printed, cloud.now = cloud.now, S + 18 * H  # asked in the evening of the day, printed the next morning
    for gid, due in ((1, S + 20 * H), (2, S + 48 * H)):
        r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{ids[gid]}/rectifications",
                       {"note": "请整改 / please fix", "due": due})
        assert r.status_code == 201, r.text
    items = {i["alarm"]: i["id"] for i in cloud.get(tokens["insp1"], "/api/v1/ledger/items").json()}
    r = cloud.post(tokens["owner-a"], f"/api/v1/ledger/items/{items[ids[2]]}/answer", {"text": "已清洗消毒"})
    assert r.status_code == 200, r.text
    cloud.now = printed
    return {gid: items.get(ids[gid], 0) for gid in ids}


def _pdf(cloud, tokens):  # type: ignore[no-untyped-def]
    r = cloud.get(tokens["insp1"], REPORT + "&format=pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    return pdfplumber.open(io.BytesIO(r.content))


def _same(colour, hex_: str) -> bool:  # type: ignore[no-untyped-def]
    want = tuple(int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colour is not None and len(colour) == 3 and all(abs(a - b) < 0.01 for a, b in zip(colour, want))


def _shape_of(obj) -> str:  # type: ignore[no-untyped-def]
    """What a drawn path is: a rect is a square, a path of bezier curves a circle, else its corners tell."""
    if obj["object_type"] == "rect":
        return "square"
    if any(op[0] == "c" for op in obj["path"]):
        return "circle"
    corners = {(round(x, 1), round(y, 1)) for x, y in obj["pts"]}
    return {3: "triangle", 4: "diamond", 6: "hexagon"}.get(len(corners), f"{len(corners)} corners")


def test_the_pdf_is_readable_numbered_and_signed(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    _rectify(cloud, tokens)
    with _pdf(cloud, tokens) as pdf:
        sizes = [c["size"] for page in pdf.pages for c in page.chars]
        assert sizes and min(sizes) >= 10 - 0.01, min(sizes)
        m = len(pdf.pages)
        for n, page in enumerate(pdf.pages, 1):
            footer = page.extract_text().splitlines()[-1]
            assert footer == f"第 {n} 页 / 共 {m} 页 (page {n} of {m})", footer
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "作坊负责人签字 / owner's signature：" in text and "检查员签字 / inspector's signature：" in text
    assert text.count("日期 / date：") == 2


def test_the_pdf_draws_every_zone_with_its_colour_name_and_shape(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    with _pdf(cloud, tokens) as pdf:
        page = pdf.pages[0]
        drawn = [o for o in (*page.rects, *page.curves) if o["fill"] and 7 * MM < o["width"] < 10 * MM]
        text = page.extract_text()
        for zone in COLOR_CLASSES:
            mine = [o for o in drawn if _same(o["non_stroking_color"], zone.hex)]
            assert [_shape_of(o) for o in mine] == [zone.shape], (zone.key, mine)
            assert mine[0]["stroke"], zone.key  # outlined: the white hexagon shows on white paper
            assert f"{zone.zh} {zone.en}" in text and f"{zone.shape_zh} {zone.shape}" in text, zone.key
            # the name is printed under its own shape
            under = "".join(c["text"] for c in page.chars if mine[0]["x0"] - 15 * MM < c["x0"] < mine[0]["x1"] + 15 * MM
                            and mine[0]["bottom"] < c["top"] < mine[0]["bottom"] + 12 * MM)
            assert zone.zh in under, (zone.key, under)


def test_the_pdf_lists_the_alarms_with_their_ledger_state(day) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens = day
    items = _rectify(cloud, tokens)
    with _pdf(cloud, tokens) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
        cells = [[re.sub(r"\s+", "", c or "") for c in row] for page in pdf.pages for t in page.extract_tables()
                 for row in t]
    assert "期间告警及整改 / Alarms and their rectifications（4）" in text
    ledger = [row[-1] for row in cells if row[0].startswith("#")]  # the alarms' rows: their ledger column
    assert ledger == [f"#{items[1]}待答复/open，期限/due2025-11-26（逾期/overdue）",
                      f"#{items[2]}待审核/answered，期限/due2025-11-28", "未要求整改/nonerequested",
                      "未要求整改/nonerequested"], ledger
    doc = cloud.get(tokens["insp1"], REPORT).json()["alarms"]
    assert doc["total"] == 4
    assert [(a["type"], a["state"], a["ledger"] and a["ledger"]["state"], a["ledger"] and a["ledger"]["overdue"])
            for a in doc["listed"]] == [("cross_zone", "active", "open", True),
                                        ("unwashed_return", "cleared", "answered", False),
                                        ("station_offline", "active", None, None), ("misplaced", "active", None, None)]


def test_the_pdf_begins_with_the_summary(day) -> None:  # type: ignore[no-untyped-def]
    """This day beside the day before, the trend in words (not colour alone), the district's median."""
    cloud, tokens = day
    with _pdf(cloud, tokens) as pdf:
        cells = [[re.sub(r"\s+", " ", c or "").strip() for c in row] for page in pdf.pages
                 for t in page.extract_tables() for row in t]
    rows = {row[0]: row[1:] for row in cells if len(row) == 5}
    assert rows["每百次使用误用 / misuse per 100 uses"] == ["66.67", "100.00", "↓ 下降，变好 / down, better",
                                                     "33.34（16.67 – 50.00，n = 2）"]  # ws-a 66.67, ws-b 0
    assert rows["期间告警 / alarms raised"][:3] == ["4", "1", "↑ 上升，变差 / up, worse"]
