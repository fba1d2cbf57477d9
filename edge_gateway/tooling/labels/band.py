"""The handle band: a narrow label that wraps round a knife's, scissors' or brush's handle.

The seed puts those tools' colour label on the handle (刀柄/手柄), where a 60 × 30 mm card does not fit. The
band is 90 × 12 mm in the zone's colour with a black cut line; its marks (the zone's shape, its name in Chinese
and English, the tool's id) repeat every 30 mm, so whichever side of the handle faces the user shows one::

    ┌──────────────────────────────────────────────────────────────┐
    │ ● 红色 RED KN-R-01 │ ● 红色 RED KN-R-01 │ ● 红色 RED KN-R-01 │
    └──────────────────────────────────────────────────────────────┘

No QR code: at 12 mm it would not scan reliably; the tool's NFC tag carries its id.
"""

from __future__ import annotations

from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from edge_gateway.model.workshop import Tool
from edge_gateway.tooling.labels import layout as L
from edge_gateway.tooling.labels.contrast import OUTLINE, text_colour
from sebiao_common.domain import COLORS, KINDS
from sebiao_common.fonts import LATIN_BOLD
from sebiao_common.shapes import draw_shape

MM = L.MM
OUTLINE_WIDTH = 0.6  # points
HANDLE = "handle"  # the seed's label position of the kinds that get a band


def on_handle(tool: Tool) -> bool:
    """Whether the seed puts this tool's label on its handle (knife, scissors, brush)."""
    return KINDS[tool.kind].label_position_en == HANDLE


def draw_band(c: Canvas, tool: Tool, x: float, y: float, font: str) -> None:
    zone = COLORS[tool.color]
    w, h = L.BAND_W * MM, L.BAND_H * MM
    c.setFillColor(HexColor(zone.hex))
    c.setStrokeColor(HexColor(OUTLINE))
    c.setLineWidth(OUTLINE_WIDTH)
    c.rect(x, y, w, h, fill=1, stroke=1)
    c.setFillColor(HexColor(text_colour(zone.hex)))
    name = f"{zone.zh} {zone.en.upper()}"
    step = L.BAND_REPEAT * MM
    for k in range(int(L.BAND_W // L.BAND_REPEAT)):
        left = x + k * step + 1.5 * MM
        draw_shape(c, zone.shape, left + 2 * MM, y + h / 2, 3.6 * MM)
        c.setFont(font, _fit(name, font, 6.5, step - 7 * MM))
        c.drawString(left + 4.5 * MM, y + h / 2 + 0.6 * MM, name)
        c.setFont(LATIN_BOLD, _fit(tool.id, LATIN_BOLD, 6.5, step - 7 * MM))
        c.drawString(left + 4.5 * MM, y + h / 2 - 2.9 * MM, tool.id)


def _fit(text: str, font: str, size: float, width: float) -> float:
    used = stringWidth(text, font, size)
    return size if used <= width else size * width / used
