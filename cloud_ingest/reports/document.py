"""What the cloud's printed records share (the 一坊一策 plan, an on-site inspection's record): A4, the reports'
CJK font (characters it cannot draw left out, as in ``pdf``), body text 10 pt, a grid table with its header
repeated on each page, the lines people sign and date, and "第 N 页 / 共 M 页" on every page
(``pdf.numbered_canvas``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from cloud_ingest.reports.pdf import numbered_canvas, printable
from sebiao_common.fonts import LabelFont, load_font

BODY_PT = 10


@dataclass(frozen=True, kw_only=True)
class Styles:
    font: LabelFont
    body: ParagraphStyle
    head: ParagraphStyle
    sub: ParagraphStyle

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(printable(text, self.font)), style or self.body)


def styles() -> Styles:
    font = load_font()
    body = ParagraphStyle("body", fontName=font.name, fontSize=BODY_PT, leading=14)
    return Styles(font=font, body=body, head=ParagraphStyle("head", parent=body, fontSize=16, leading=22, spaceAfter=6),
                  sub=ParagraphStyle("sub", parent=body, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4))


def grid(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E0E0E0")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def signatures(s: Styles, who: list[str]) -> Table:
    """One line to sign per person named (e.g. "检查员签字 / inspector's signature"), each with its date line."""
    rows = [[s.p(f"{w}：________________"), s.p("日期 / date：____________")] for w in who]
    return Table(rows, colWidths=[115 * mm, 65 * mm], rowHeights=[14 * mm] * len(rows))


def build(story: list[Any], title: str, s: Styles) -> bytes:
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=18 * mm, title=title, author="sebiao").build(
        story, canvasmaker=numbered_canvas(s.font))
    return out.getvalue()
