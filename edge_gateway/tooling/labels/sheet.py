"""The label PDF: A4 sheets of tool labels (60 × 30 mm), handle bands (90 × 12 mm, ``band.py``) and sink
stickers (20 × 20 mm).

Tool label (one per tool, in its zone's colour, black cut line around it):

    ┌──────────────────────────────────────────┐
    │ ● 红色 RED                     ┌────────┐ │
    │ KN-R-01                        │ QR of  │ │
    │ 刀具 knife                      │ the id │ │
    │                                └────────┘ │
    │ 标注部位：刀柄                              │
    │ label on: handle                          │
    └──────────────────────────────────────────┘

Sink sticker (seed 四.7, 20×20mm相对应色标的不干胶粘贴): the zone's colour, its
shape and its name; the station id is printed under it on the backing sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from edge_gateway.model.workshop import Station, Tool, WorkshopConfig
from edge_gateway.tooling.labels import layout as L
from edge_gateway.tooling.labels.band import draw_band, on_handle
from edge_gateway.tooling.labels.contrast import OUTLINE, text_colour
from edge_gateway.tooling.labels.qr import draw_qr
from sebiao_common.domain import COLOR_CLASSES, COLORS, KINDS, StationKind
from sebiao_common.errors import SebiaoError
from sebiao_common.fonts import LATIN_BOLD, LabelFont, load_font
from sebiao_common.shapes import draw_shape

MM = L.MM
OUTLINE_WIDTH = 0.6  # points
MIN_FONT = 3.6  # points: the smallest text we print (long label positions shrink down to this)


class LabelError(SebiaoError):
    pass


@dataclass(frozen=True, kw_only=True)
class LabelSheet:
    path: Path
    pages: int
    tools: int
    sinks: int
    font: LabelFont
    bands: int = 0  # handle bands (knives, scissors, brushes), counted apart from ``tools``


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width`` points."""
    w = stringWidth(text, font, size)
    return size if w <= width else max(MIN_FONT, size * width / w)


def _text(c: Canvas, text: str, x: float, y: float, font: str, size: float, width: float) -> None:
    c.setFont(font, _fit(text, font, size, width))
    c.drawString(x, y, text)


def _tool_label(c: Canvas, tool: Tool, x: float, y: float, font: str) -> None:
    zone, kind = COLORS[tool.color], KINDS[tool.kind]
    w, h, pad = L.TOOL_W * MM, L.TOOL_H * MM, 2 * MM
    ink = HexColor(text_colour(zone.hex))
    c.setFillColor(HexColor(zone.hex))
    c.setStrokeColor(HexColor(OUTLINE))
    c.setLineWidth(OUTLINE_WIDTH)
    c.rect(x, y, w, h, fill=1, stroke=1)

    qr = L.QR_PAD * MM
    draw_qr(c, tool.id, x + w - pad - qr, y + h - pad - qr, qr)

    text_w = w - 3 * pad - qr
    c.setFillColor(ink)
    draw_shape(c, zone.shape, x + pad + 2.6 * MM, y + h - pad - 2.6 * MM, 5 * MM)
    _text(c, f"{zone.zh} {zone.en.upper()}", x + pad + 6.5 * MM, y + h - pad - 4.2 * MM, font, 10,
          text_w - 6.5 * MM)
    _text(c, tool.id, x + pad, y + h - 14 * MM, LATIN_BOLD, 13, text_w)
    _text(c, f"{kind.zh} {kind.en}", x + pad, y + h - 19.5 * MM, font, 8.5, text_w)
    full = w - 2 * pad
    _text(c, f"标注部位：{kind.label_position_zh}", x + pad, y + 3.9 * MM, font, 5.5, full)
    _text(c, f"label on: {kind.label_position_en}", x + pad, y + 1.5 * MM, font, 5.5, full)


def _sink_sticker(c: Canvas, station: Station, x: float, y: float, font: str) -> None:
    zone = COLORS[station.zone]
    s, cap = L.SINK_SIZE * MM, L.SINK_CAPTION_H * MM
    top = y + cap  # the sticker sits above its caption
    c.setFillColor(HexColor(zone.hex))
    c.setStrokeColor(HexColor(OUTLINE))
    c.setLineWidth(OUTLINE_WIDTH)
    c.rect(x, top, s, s, fill=1, stroke=1)
    c.setFillColor(HexColor(text_colour(zone.hex)))
    draw_shape(c, zone.shape, x + s / 2, top + s * 0.58, s * 0.5)
    name = f"{zone.zh} {zone.en}"
    size = _fit(name, font, 5.5, s - 2 * MM)
    c.setFont(font, size)
    c.drawCentredString(x + s / 2, top + 1.6 * MM, name)
    c.setFillColorRGB(0, 0, 0)  # the caption is on the backing sheet, not on the sticker
    _text(c, station.id, x, y + cap - 2.4 * MM, font, 5.5, (L.SINK_SIZE + L.SINK_GAP_X - 1) * MM)
    if station.name:
        _text(c, station.name, x, y + cap - 4.8 * MM, font, 5.5, (L.SINK_SIZE + L.SINK_GAP_X - 1) * MM)


def _page_frame(c: Canvas, config: WorkshopConfig, page: int, pages: int, font: str) -> None:
    left, top = L.MARGIN * MM, (L.PAGE_H - L.MARGIN) * MM
    width = (L.PAGE_W - 2 * L.MARGIN) * MM
    c.setFillColorRGB(0, 0, 0)
    ws = config.workshop
    _text(c, f"色标标签 Colour labels — {ws.name} ({ws.id})", left, top - 5 * MM, font, 12, width)
    _text(c, "请按实际大小（100%）打印，不要选“适合页面”。  Print at actual size (100 %), not “fit to page”.",
          left, top - 10 * MM, font, 7.5, width)
    # the scale bar: 100 mm with a tick every 10 mm
    y0 = (L.MARGIN + 6) * MM
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(0.5)
    c.line(left, y0, left + L.SCALE_BAR * MM, y0)
    for k in range(11):
        tick = 2 * MM if k % 5 == 0 else 1 * MM
        c.line(left + k * 10 * MM, y0, left + k * 10 * MM, y0 + tick)
    _text(c, "100 mm：量一量，应正好 100 毫米  measure: exactly 100 mm", left, y0 - 4 * MM, font, 6.5,
          L.SCALE_BAR * MM)
    c.setFont(font, 7)
    c.drawRightString(left + width, y0 - 4 * MM, f"第 {page + 1}/{pages} 页  page {page + 1} of {pages}")


HEADINGS = {
    "tools": f"器具标签 Tool labels ({L.TOOL_W:g} × {L.TOOL_H:g} mm)：贴于标注部位 stick on the label position",
    "bands": f"手柄色标环 Handle bands ({L.BAND_W:g} × {L.BAND_H:g} mm)：绕手柄一圈贴 wrap round the handle",
    "sinks": f"清洗池色标贴 Sink stickers ({L.SINK_SIZE:g} × {L.SINK_SIZE:g} mm)：贴于清洗池 stick on the sink",
}


def _ordered_tools(config: WorkshopConfig) -> list[Tool]:
    order = {c.key: i for i, c in enumerate(COLOR_CLASSES)}
    return sorted(config.tools, key=lambda t: order[t.color])  # stable: config order within a zone


HANDLE_FORMATS = ("band", "card")


def render_labels(config: WorkshopConfig, out: str | Path, font_file: str | None = None,
                  handles: str = "band") -> LabelSheet:
    """Write the label PDF for every tool and every sink of ``config`` to ``out``: a handle band for each tool the
    seed labels on its handle (``handles="card"``: a card like the others), a card for each other tool."""
    if handles not in HANDLE_FORMATS:
        raise LabelError(f"--handles {handles}: not one of {', '.join(HANDLE_FORMATS)}")
    path = Path(out)
    if not path.parent.is_dir():
        raise LabelError(f"--out {out}: the directory {path.parent} does not exist")
    font = load_font(font_file)
    every = _ordered_tools(config)
    bands = [t for t in every if handles == "band" and on_handle(t)]
    tools = [t for t in every if t not in bands]
    sinks = [s for s in config.stations if s.kind is StationKind.SINK]
    if not every and not sinks:
        raise LabelError(f"{config.file}: no tools and no sinks: nothing to print")
    sheet = L.place_all(len(tools), len(bands), len(sinks))
    tool_slots, band_slots, sink_slots, headings, pages = (sheet.tools, sheet.bands, sheet.sinks, sheet.headings,
                                                           sheet.pages)

    c = Canvas(str(path), pagesize=(L.PAGE_W * MM, L.PAGE_H * MM), invariant=1)
    c.setTitle(f"色标标签 Colour labels — {config.workshop.name}")
    c.setAuthor("sebiao labels")
    c.setSubject("tool labels and 20×20 mm sink stickers, print at 100 %")
    for page in range(pages):
        _page_frame(c, config, page, pages, font.name)
        for head in headings:
            if head.page == page:
                c.setFillColorRGB(0, 0, 0)
                title = HEADINGS[head.which] + ("（续 continued）" if head.continued else "")
                _text(c, title, L.MARGIN * MM, head.y * MM, font.name, 9,
                      (L.PAGE_W - 2 * L.MARGIN) * MM)
        for tool, slot in zip(tools, tool_slots):
            if slot.page == page:
                _tool_label(c, tool, slot.x * MM, slot.y * MM, font.name)
        for tool, slot in zip(bands, band_slots):
            if slot.page == page:
                draw_band(c, tool, slot.x * MM, slot.y * MM, font.name)
        for sink, slot in zip(sinks, sink_slots):
            if slot.page == page:
                _sink_sticker(c, sink, slot.x * MM, slot.y * MM, font.name)
        c.showPage()
    try:
        c.save()
    except OSError as exc:
        raise LabelError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    return LabelSheet(path=path, pages=pages, tools=len(tools), sinks=len(sinks), font=font, bands=len(bands))
