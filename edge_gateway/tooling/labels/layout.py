"""Label sizes and the page grid, in millimetres (PDF points = mm × 72 / 25.4).

Everything here is printed at true size: print with "actual size / 100 %"
(实际大小), never "fit to page". A 100 mm scale bar on every page checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4  # PDF points per millimetre

PAGE_W, PAGE_H = 210.0, 297.0  # A4 portrait
MARGIN = 10.0
HEADER_H = 14.0  # title and print instruction
FOOTER_H = 12.0  # the 100 mm scale bar
SECTION_H = 7.0  # a section heading ("器具标签 Tool labels")

TOOL_W, TOOL_H = 60.0, 30.0  # tool label
TOOL_GAP_X, TOOL_GAP_Y = 5.0, 4.0
QR_PAD = 20.0  # white square around the QR code (holds its quiet zone)

# A handle band wraps round a knife's, scissors' or brush's handle (the seed's label position for them): 90 mm
# covers a handle up to about 25 mm across (a circumference of 79 mm) with the rest to overlap; 12 mm fits the
# flat of a paring-knife handle. Its marks repeat every BAND_REPEAT mm, so one shows from any side.
BAND_W, BAND_H = 90.0, 12.0
BAND_REPEAT = 30.0
BAND_GAP_X, BAND_GAP_Y = 6.0, 5.0

SINK_SIZE = 20.0  # the seed: 20×20mm相对应色标的不干胶粘贴
SINK_GAP_X = 8.0
SINK_CAPTION_H = 6.0  # the sink's station id, printed under the sticker on the backing sheet
SINK_GAP_Y = 4.0

SCALE_BAR = 100.0


@dataclass(frozen=True, kw_only=True)
class Slot:
    page: int
    x: float  # left edge, mm from the page's left
    y: float  # bottom edge, mm from the page's bottom


@dataclass(frozen=True, kw_only=True)
class Heading:
    page: int
    y: float  # baseline, mm from the bottom
    which: str  # "tools" | "bands" | "sinks"
    continued: bool = False  # the section goes on from the page before


def _columns(width: float, gap: float) -> int:
    return int((PAGE_W - 2 * MARGIN + gap) // (width + gap))


@dataclass(frozen=True, kw_only=True)
class Sheet:
    tools: list[Slot]
    bands: list[Slot]
    sinks: list[Slot]
    headings: list[Heading]
    pages: int


def place(n_tools: int, n_sinks: int) -> tuple[list[Slot], list[Slot], list[Heading], int]:
    """Slots for the tool labels, then the sink stickers, flowing over pages.

    Returns (tool slots, sink slots, section headings, page count).
    """
    sheet = place_all(n_tools, 0, n_sinks)
    return sheet.tools, sheet.sinks, sheet.headings, sheet.pages


def place_all(n_tools: int, n_bands: int, n_sinks: int) -> Sheet:
    """Slots for the tool labels, the handle bands, then the sink stickers, flowing over pages."""
    top = PAGE_H - MARGIN - HEADER_H
    bottom = MARGIN + FOOTER_H
    page, y = 0, top  # y: the top of the next free row
    headings: list[Heading] = []

    def flow(count: int, w: float, h: float, gap_x: float, gap_y: float, which: str) -> list[Slot]:
        nonlocal page, y
        slots: list[Slot] = []
        if count == 0:
            return slots
        cols = _columns(w, gap_x)
        if y - SECTION_H - h < bottom:
            page, y = page + 1, top
        headings.append(Heading(page=page, y=y - 5.0, which=which))
        y -= SECTION_H
        for i in range(count):
            col = i % cols
            if col == 0 and i:
                y -= h + gap_y
            if col == 0 and y - h < bottom:
                page, y = page + 1, top
                headings.append(Heading(page=page, y=y - 5.0, which=which, continued=True))
                y -= SECTION_H
            slots.append(Slot(page=page, x=MARGIN + col * (w + gap_x), y=y - h))
        y -= h + gap_y + 4.0
        return slots

    tools = flow(n_tools, TOOL_W, TOOL_H, TOOL_GAP_X, TOOL_GAP_Y, "tools")
    bands = flow(n_bands, BAND_W, BAND_H, BAND_GAP_X, BAND_GAP_Y, "bands")
    sinks = flow(n_sinks, SINK_SIZE, SINK_SIZE + SINK_CAPTION_H, SINK_GAP_X, SINK_GAP_Y, "sinks")
    return Sheet(tools=tools, bands=bands, sinks=sinks, headings=headings, pages=page + 1)
