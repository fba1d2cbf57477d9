"""A district's report as a PDF (A4 landscape): the ranked table of its workshops, numbered pages and the
lines to sign, in the report PDF's font and sizes (10 pt at least, ``pdf``)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cloud_ingest.reports.district import FIGURE_TEXT, FIGURES, HEADER, DistrictReport, district_rows
from cloud_ingest.reports.pdf import BODY_PT, numbered_canvas, printable
from sebiao_common.fonts import load_font

TITLE = "区色标化管理报告 / District colour-coding report"
NOTE = ("排名：先按分级（金榜、银榜、铜榜、橙榜，未分级最后），再按每百次使用误用、逾期问题、读卡站在线率。"
        "清洗合规率 = 计为清洗的停留 / 清洗池的全部停留；消毒合格率 = 合格周期 / 全部周期；"
        "整改已销号 = 期间告警的整改中已销号的占比。"
        " Ranked by grade (gold, silver, bronze, orange, not graded last), then misuse per 100 uses, overdue items "
        "and station uptime. Wash compliance = stays at a sink counted as washes / all stays at sinks; "
        "disinfection = cycles passed / all; rectifications closed = the share of the period's alarms' "
        "rectifications closed (销号).")
SIGNATURE = (("检查员签字 / inspector's signature：________________", "日期 / date：____________"),)


def district_pdf(d: DistrictReport) -> bytes:
    font = load_font()
    body = ParagraphStyle("body", fontName=font.name, fontSize=BODY_PT, leading=13)
    head = ParagraphStyle("head", parent=body, fontSize=16, leading=22, spaceAfter=4)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    made = datetime.fromtimestamp(d.generated_at / 1000, ZoneInfo(d.tz)).strftime("%Y-%m-%d %H:%M")
    story: list[Any] = [p(TITLE, head), p(f"区 / district：{d.district_name}（{d.district_id}）"),
                        p(f"期间 / period：{d.from_date} — {d.to_date}（{d.tz}，含首尾日期 / both days included）"),
                        p(f"生成时间 / generated：{made}；作坊 / workshops：{len(d.lines)}"), Spacer(1, 3 * mm)]
    header = [p(h) for h in HEADER[:2]] + [p(HEADER[2]), p(HEADER[3])] + [
        p(f"{FIGURE_TEXT[k][0]} / {FIGURE_TEXT[k][1]}") for k in FIGURES] + [p(h) for h in HEADER[-2:]]
    rows = [header] + [[p(c) for c in row] for row in district_rows(d)]
    widths = [14 * mm, 22 * mm, 34 * mm, 22 * mm] + [22 * mm] * len(FIGURES) + [20 * mm, 20 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E0E0E0")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table if d.lines else p("本区尚无作坊 / the district has no workshop yet"), Spacer(1, 3 * mm), p(NOTE),
              Spacer(1, 10 * mm),
              Table([[p(a), p(b)] for a, b in SIGNATURE], colWidths=[160 * mm, 80 * mm], rowHeights=[14 * mm])]
    out = io.BytesIO()
    size = landscape(A4)
    SimpleDocTemplate(out, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                      bottomMargin=18 * mm, title=f"{d.district_name} {d.from_date}—{d.to_date}",
                      author="sebiao").build(story, canvasmaker=numbered_canvas(font, size))
    return out.getvalue()
