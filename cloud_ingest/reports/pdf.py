"""The report as a PDF (A4), for the graded ranking's file: a title block and one table of figures.

The CJK font is found as for the tool labels (``sebiao_common.fonts``:
fonts-wqy-microhei and the like, embedded as a subset). A symbol the font has
no glyph for (``⬢``) is left out: the zone's shape is also named in words.
"""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cloud_ingest.reports.reports import CSV_HEADER, Report, report_rows
from cloud_ingest.reports.reports import NOTE as NOTE_FIGURE
from cloud_ingest.reports.text import CYCLES_TEXT
from sebiao_common.fonts import LabelFont, load_font

TITLE = "色标化管理报告 / Colour-coding compliance report"
NOTE = ("使用：器具架上已登记器具的取出；误用：跨区放置、跨区清洗、未清洗归位、"
        "未定位存放告警的发生次数（含重复）；用时取最近秩中位数与 P90；在线率 = 在线时间 / 已知状态时间。 "
        "Use: a registered tool taken from a rack; misuse: occurrences "
        "(repeats included) of cross-zone, cross-zone wash, unwashed return and misplaced alarms; times are "
        "nearest-rank median and 90th percentile; uptime = online time / time with a known status.")


def _printable(text: str, font: LabelFont) -> str:
    """Drops the characters an embedded font cannot draw (they would print as empty boxes)."""
    if not font.embedded:
        return text
    glyphs = pdfmetrics.getFont(font.name).face.charToGlyph  # type: ignore[attr-defined]
    return "".join(ch for ch in text if ch.isspace() or ord(ch) in glyphs)


printable = _printable  # the other PDFs of the cloud (plan_pdf) drop what the font cannot draw the same way


def report_pdf(r: Report, font: LabelFont | None = None) -> bytes:
    font = font or load_font()
    body = ParagraphStyle("body", fontName=font.name, fontSize=8.5, leading=11)
    head = ParagraphStyle("head", parent=body, fontSize=15, leading=20, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10, textColor=colors.HexColor("#444444"))

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(_printable(text, font)), style)

    made = datetime.fromtimestamp(r.generated_at / 1000, ZoneInfo(r.tz)).strftime("%Y-%m-%d %H:%M")
    story = [
        p(TITLE, head),
        p(f"作坊 / workshop：{r.workshop_name}（{r.workshop_id}）"),
        p(f"区 / district：{r.district_name}（{r.district_id}）"),
        p(f"期间 / period：{r.from_date} — {r.to_date}（{r.tz}，含首尾日期 / both days included）"),
        p(f"生成时间 / generated：{made}"),
    ]
    rows = report_rows(r)
    for _, note, which, _ in (row for row in rows if row[0] == NOTE_FIGURE):
        # kinds, zones and colours guessed from the ids: said above the figures that rest on them
        story.append(p(f"{NOTE_FIGURE}：{note}：{which}"))
    story.append(Spacer(1, 4 * mm))
    rows = [[p(h) for h in CSV_HEADER]] + [[p(c) for c in row] for row in rows[3:] if row[0] != NOTE_FIGURE]
    table = Table(rows, colWidths=[52 * mm, 70 * mm, 22 * mm, 36 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E0E0E0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (2, 1), (2, -1), "RIGHT"),
    ]))
    story += [table, Spacer(1, 4 * mm), p(CYCLES_TEXT, small), p(NOTE, small)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title=f"{r.workshop_name} {r.from_date}—{r.to_date}",
                      author="sebiao").build(story)
    return out.getvalue()
