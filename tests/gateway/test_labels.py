"""`sebiao labels`: the PDF is A4, true size, complete, readable and scannable.

The PDF is parsed with pdfplumber (sizes in points: 1 mm = 72/25.4 pt) and its
QR codes are decoded from a 300 dpi rendering with zxing-cpp.
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
import segno

from edge_gateway.config import load_config
from edge_gateway.model.workshop import parse_config
from edge_gateway.tooling.labels import LabelError, render_labels
from edge_gateway.tooling.labels import layout as L
from edge_gateway.tooling.labels.contrast import contrast_ratio, luminance, text_colour
from edge_gateway.tooling.labels.qr import matrix
from sebiao.cli import main
from sebiao_common.domain import COLOR_CLASSES, COLORS, KINDS
from sebiao_common.fonts import FontError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "workshop.yaml"
PT = 72 / 25.4
SINK_PT = 20 * PT  # 56.69 pt
TOL = 0.01  # points


def _rgb(hex_colour: str) -> tuple[float, ...]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def _same_colour(pdf_colour, hex_colour: str) -> bool:
    return pdf_colour is not None and len(pdf_colour) == 3 and all(
        abs(a - b) < 0.005 for a, b in zip(pdf_colour, _rgb(hex_colour)))


def _inside(obj, rect) -> bool:
    return (rect["x0"] <= obj["x0"] and obj["x1"] <= rect["x1"]
            and rect["top"] <= obj["top"] and obj["bottom"] <= rect["bottom"])


def _words_in(page, rect) -> str:
    return "".join(ch["text"] for ch in page.chars if _inside(ch, rect))


@pytest.fixture(scope="module")
def example_pdf(tmp_path_factory) -> Path:
    """Every tool on a 60 × 30 mm card (``--handles card``); the default bands are tested below."""
    out = tmp_path_factory.mktemp("labels") / "labels.pdf"
    assert main(["labels", "--config", str(EXAMPLE), "--out", str(out), "--handles", "card"]) == 0
    return out


@pytest.fixture(scope="module")
def config():
    return load_config(EXAMPLE)


def test_pages_are_a4(example_pdf):
    with pdfplumber.open(example_pdf) as pdf:
        assert len(pdf.pages) == 1
        for page in pdf.pages:
            assert page.width == pytest.approx(210 * PT, abs=TOL)
            assert page.height == pytest.approx(297 * PT, abs=TOL)


def test_sink_stickers_are_exactly_20_mm_in_the_zone_colour(example_pdf, config):
    sinks = [s for s in config.stations if s.kind.value == "sink"]
    with pdfplumber.open(example_pdf) as pdf:
        page = pdf.pages[0]
        stickers = [r for r in page.rects if r["stroke"]
                    and abs(r["width"] - SINK_PT) < 0.5 and abs(r["height"] - SINK_PT) < 0.5]
        assert len(stickers) == len(sinks)
        for sticker, sink in zip(sorted(stickers, key=lambda r: r["x0"]), sinks):
            assert sticker["width"] == pytest.approx(SINK_PT, abs=TOL)
            assert sticker["height"] == pytest.approx(SINK_PT, abs=TOL)
            assert _same_colour(sticker["non_stroking_color"], COLORS[sink.zone].hex), sink.id
            # the zone's name in words on the sticker: colour is not the only signal
            zone = COLORS[sink.zone]
            assert f"{zone.zh}{zone.en}" in _words_in(page, sticker).replace(" ", "")
        text = page.extract_text()
        for sink in sinks:
            assert sink.id in text


def _tool_rects(page):
    return [r for r in page.rects if r["stroke"] and abs(r["width"] - L.TOOL_W * PT) < 0.5]


def test_tool_labels_have_the_documented_size_colour_and_content(example_pdf, config):
    with pdfplumber.open(example_pdf) as pdf:
        page = pdf.pages[0]
        rects = _tool_rects(page)
        assert len(rects) == len(config.tools)
        seen = set()
        for rect in rects:
            assert rect["width"] == pytest.approx(60 * PT, abs=TOL)
            assert rect["height"] == pytest.approx(30 * PT, abs=TOL)
            text = _words_in(page, rect)
            tool = next(t for t in config.tools if t.id in text)
            seen.add(tool.id)
            zone, kind = COLORS[tool.color], KINDS[tool.kind]
            assert _same_colour(rect["non_stroking_color"], zone.hex), tool.id
            flat = text.replace(" ", "")
            for part in (zone.zh, zone.en.upper(), kind.zh, kind.en.replace(" ", ""),
                         kind.label_position_zh, kind.label_position_en.replace(" ", "")):
                assert part in flat, f"{tool.id}: {part!r} missing from its label"
        assert seen == {t.id for t in config.tools}


def test_white_labels_have_a_visible_outline(example_pdf):
    with pdfplumber.open(example_pdf) as pdf:
        page = pdf.pages[0]
        white = [r for r in page.rects if r["stroke"] and _same_colour(r["non_stroking_color"], "#FFFFFF")
                 and r["width"] > 50]
        assert len(white) == 4  # KN-W-01, CB-W-01, CT-W-01 and the white sink's sticker
        for rect in white:
            assert luminance("#%02X%02X%02X" % tuple(round(c * 255) for c in rect["stroking_color"])) < 0.1
            assert rect["linewidth"] >= 0.5


@pytest.mark.parametrize("zone", COLOR_CLASSES, ids=lambda c: c.key)
def test_text_contrast_on_every_zone_colour(zone):
    ink = text_colour(zone.hex)
    assert contrast_ratio(zone.hex, ink) >= 4.5, f"{zone.key}: {ink} on {zone.hex}"
    if zone.key in ("yellow", "white"):
        assert ink == "#000000"


def test_scale_bar_is_100_mm(example_pdf):
    with pdfplumber.open(example_pdf) as pdf:
        lengths = [line["x1"] - line["x0"] for line in pdf.pages[0].lines]
        assert any(abs(n - 100 * PT) < TOL for n in lengths)


def test_qr_codes_decode_to_the_tool_ids(example_pdf, config):
    zxingcpp = pytest.importorskip("zxingcpp")
    with pdfplumber.open(example_pdf) as pdf:
        image = pdf.pages[0].to_image(resolution=300).original.convert("L")
    found = [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    assert sorted(found) == sorted(t.id for t in config.tools)


@pytest.mark.parametrize("text", ["KN-R-01", "A", "x.y_z-0123456789ABCDEFGHIJKLMNOPQR"])
def test_qr_matrix_is_segnos_encoding(text):
    want = segno.make_qr(text, error="m", boost_error=True)
    assert matrix(text) == [[bool(v) for v in row] for row in want.matrix]


def _many(n: int) -> dict:
    return {
        "workshop": {"id": "ws-big", "name": "大作坊", "district": "青山区"},
        "stations": [{"id": f"rack-{c.key}", "kind": "rack", "zone": c.key} for c in COLOR_CLASSES]
        + [{"id": f"sink-{c.key}-{i}", "kind": "sink", "zone": c.key} for c in COLOR_CLASSES for i in range(4)],
        "tools": [{"id": f"T{i:03d}", "kind": "cloth", "color": COLOR_CLASSES[i % 5].key,
                   "tag": f"{i:08X}", "home": f"rack-{COLOR_CLASSES[i % 5].key}"} for i in range(n)],
    }


def test_many_tools_flow_over_pages_without_overlap(tmp_path):
    cfg = parse_config(_many(60), "big.yaml")
    sheet = render_labels(cfg, tmp_path / "big.pdf")
    assert sheet.pages >= 3 and sheet.tools == 60 and sheet.sinks == 20
    with pdfplumber.open(tmp_path / "big.pdf") as pdf:
        assert len(pdf.pages) == sheet.pages
        count_tools = count_sinks = 0
        for page in pdf.pages:
            boxes = [r for r in page.rects if r["stroke"]]
            count_tools += len(_tool_rects(page))
            count_sinks += sum(1 for r in boxes if abs(r["width"] - SINK_PT) < 0.5)
            margin = L.MARGIN * PT - TOL
            for r in boxes:
                assert r["x0"] >= margin and r["x1"] <= page.width - margin
                assert r["top"] >= margin and r["bottom"] <= page.height - margin
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert (a["x1"] <= b["x0"] or b["x1"] <= a["x0"]
                            or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]), "labels overlap"
        assert (count_tools, count_sinks) == (60, 20)


def test_missing_output_directory_is_named(tmp_path, config):
    with pytest.raises(LabelError, match=r"--out .*nope.*does not exist"):
        render_labels(config, tmp_path / "nope" / "labels.pdf")


def test_bad_font_file_is_named(tmp_path, config):
    with pytest.raises(FontError, match=r"--font .*missing\.ttf: no such file"):
        render_labels(config, tmp_path / "x.pdf", font_file=str(tmp_path / "missing.ttf"))
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    with pytest.raises(FontError, match=r"--font .*junk\.ttf: not a usable TrueType font"):
        render_labels(config, tmp_path / "x.pdf", font_file=str(junk))


def test_cli_reports_errors_with_exit_2(tmp_path, capsys):
    assert main(["labels", "--config", str(EXAMPLE), "--out", str(tmp_path / "no" / "l.pdf")]) == 2
    assert "sebiao labels: --out" in capsys.readouterr().err


def test_builtin_cid_font_fallback_keeps_chinese_text(tmp_path, config, monkeypatch):
    from sebiao_common import fonts
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    monkeypatch.setattr(fonts.load_font, "__defaults__", (None, ()))
    sheet = render_labels(config, tmp_path / "cid.pdf")
    assert not sheet.font.embedded and sheet.font.name == "STSong-Light"
    with pdfplumber.open(tmp_path / "cid.pdf") as pdf:
        text = pdf.pages[0].extract_text()
    assert "示例凉皮作坊" in text and "手柄色标环" in text and "KN-R-01" in text


def test_cjk_font_is_embedded(example_pdf):
    """scripts/test installs fonts-wqy-microhei: the sheet must not depend on the printer's fonts."""
    from sebiao_common.fonts import load_font
    font = load_font()
    assert font.embedded, "no CJK TrueType font found: install fonts-wqy-microhei (scripts/test does)"
    data = example_pdf.read_bytes()
    assert b"/FontFile2" in data and b"WenQuanYi" in data


def test_every_page_with_labels_says_what_they_are():
    tools, sinks, headings, pages = L.place(60, 20)
    for which, slots in (("tools", tools), ("sinks", sinks)):
        for page in {s.page for s in slots}:
            heads = [h for h in headings if h.page == page and h.which == which]
            assert len(heads) == 1, f"page {page + 1}: {which} heading"
            first = min(s.page for s in slots)
            assert heads[0].continued == (page != first)
            assert all(s.y + (L.TOOL_H if which == "tools" else L.SINK_SIZE + L.SINK_CAPTION_H)
                       <= heads[0].y for s in slots if s.page == page), "a label above its heading"


def test_knives_scissors_and_brushes_get_a_band_round_the_handle(tmp_path, config, capsys):
    """By default a tool the seed labels on its handle gets a 90 × 12 mm band in its zone's colour, its marks
    (shape, colour name, id) repeated every 30 mm so one shows from any side; the other tools keep their card."""
    out = tmp_path / "bands.pdf"
    assert main(["labels", "--config", str(EXAMPLE), "--out", str(out)]) == 0
    handles = [t for t in config.tools if KINDS[t.kind].label_position_en == "handle"]
    assert handles and len(handles) < len(config.tools)
    assert f"{len(handles)} handle bands" in capsys.readouterr().out
    with pdfplumber.open(out) as pdf:
        page = pdf.pages[0]
        bands = [r for r in page.rects if r["stroke"] and abs(r["width"] - L.BAND_W * PT) < 0.5]
        assert len(_tool_rects(page)) == len(config.tools) - len(handles)
        assert len(bands) == len(handles)
        seen = set()
        for rect in bands:
            assert rect["height"] == pytest.approx(12 * PT, abs=TOL)
            text = _words_in(page, rect).replace(" ", "")
            tool = next(t for t in handles if t.id in text)
            seen.add(tool.id)
            zone = COLORS[tool.color]
            assert _same_colour(rect["non_stroking_color"], zone.hex), tool.id
            assert text.count(tool.id) == 3 and text.count(zone.zh) == 3 and zone.en.upper() in text
        assert seen == {t.id for t in handles}
        assert "手柄色标环" in page.extract_text()
