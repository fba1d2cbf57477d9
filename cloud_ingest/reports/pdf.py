"""The report as a PDF (A4), for the graded ranking's file: a title block, the zones' legend, the figures,
the alarms with their rectifications, and the lines to sign.

Every text is 10 pt at least; every page says "第 N 页 / 共 M 页" (page N of M); each zone is drawn with
its colour and its shape (``sebiao_common.shapes``, the gateway labels' shapes) beside its name, so
colour is never the only signal and a symbol the font lacks (``⬢``) still shows. The CJK font is found as
for the tool labels (``sebiao_common.fonts``: fonts-wqy-microhei and the like, embedded as a subset); a
character the embedded font has no glyph for is left out (it would print as an empty box).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cloud_ingest.reports.ledger_view import LEDGER_STATE_TEXT, MAX_LINES
from cloud_ingest.reports.reports import CSV_HEADER, Report, report_rows
from cloud_ingest.reports.reports import NOTE as NOTE_FIGURE
from cloud_ingest.reports.text import CYCLES_TEXT, alarm_type_text
from sebiao_common.alarms import SEVERITY_NAMES
from sebiao_common.domain import COLOR_CLASSES
from sebiao_common.fonts import LabelFont, load_font
from sebiao_common.shapes import draw_shape

TITLE = "色标化管理报告 / Colour-coding compliance report"
BODY_PT = 10  # the smallest text of the report (a printed A4 read at arm's length)
HEADING_ROOM = 40 * mm  # less room than this left on the page: a heading goes to the next
NOTE = ("使用：器具架上已登记器具的取出；误用：跨区放置、跨区清洗、未清洗归位、"
        "未定位存放告警的发生次数（含重复）；用时取最近秩中位数与 P90；在线率 = 在线时间 / 已知状态时间。 "
        "Use: a registered tool taken from a rack; misuse: occurrences "
        "(repeats included) of cross-zone, cross-zone wash, unwashed return and misplaced alarms; times are "
        "nearest-rank median and 90th percentile; uptime = online time / time with a known status.")
SIGNATURES = (("作坊负责人签字 / owner's signature：________________", "日期 / date：____________"),
              ("检查员签字 / inspector's signature：________________", "日期 / date：____________"))


def _printable(text: str, font: LabelFont) -> str:
    """Drops the characters an embedded font cannot draw (they would print as empty boxes)."""
    if not font.embedded:
        return text
    glyphs = pdfmetrics.getFont(font.name).face.charToGlyph  # type: ignore[attr-defined]
    return "".join(ch for ch in text if ch.isspace() or ord(ch) in glyphs)


printable = _printable  # the other PDFs of the cloud (plan_pdf) drop what the font cannot draw the same way


class ZoneLegend(Flowable):
    """The five zones side by side: each one's shape filled with its colour and outlined (white shows on
    white paper), its name and its shape's name under it."""

    SHAPE = 9 * mm

    def __init__(self, font: LabelFont, width: float) -> None:
        super().__init__()
        self.font, self.width, self.height = font, width, self.SHAPE + 12 * mm

    def draw(self) -> None:
        c, step = self.canv, self.width / len(COLOR_CLASSES)
        for i, zone in enumerate(COLOR_CLASSES):
            cx = step * i + step / 2
            c.setFillColor(colors.HexColor(zone.hex))
            c.setStrokeColor(colors.HexColor("#333333"))
            c.setLineWidth(0.8)
            draw_shape(c, zone.shape, cx, self.height - self.SHAPE / 2, self.SHAPE, fill=True, stroke=True)
            c.setFillColor(colors.black)
            c.setFont(self.font.name, BODY_PT)
            c.drawCentredString(cx, 6 * mm, _printable(f"{zone.zh} {zone.en}", self.font))
            c.drawCentredString(cx, 1.5 * mm, _printable(f"{zone.shape_zh} {zone.shape}", self.font))


def numbered_canvas(font: LabelFont, size: tuple[float, float] = A4) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so that each can say how many there are."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._held:
                self.__dict__.update(state)
                self.setFont(font.name, BODY_PT)
                self.setFillColor(colors.black)
                n, m = self._pageNumber, len(self._held)
                self.drawCentredString(size[0] / 2, 9 * mm, f"第 {n} 页 / 共 {m} 页 (page {n} of {m})")
                super().showPage()
            super().save()

    return Numbered


def report_pdf(r: Report, font: LabelFont | None = None, summary: dict | None = None) -> bytes:
    """``summary``: ``summary.workshop_summary``'s answer for the same period, printed before the figures."""
    font = font or load_font()
    body = ParagraphStyle("body", fontName=font.name, fontSize=BODY_PT, leading=13)
    head = ParagraphStyle("head", parent=body, fontSize=16, leading=22, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=body, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, textColor=colors.HexColor("#333333"))

    def p(text: str, style: ParagraphStyle = body) -> Any:
        if style is sub:  # a heading starts a new page rather than end one alone
            return [CondPageBreak(HEADING_ROOM), Paragraph(escape(_printable(text, font)), style)]
        return Paragraph(escape(_printable(text, font)), style)

    made = datetime.fromtimestamp(r.generated_at / 1000, ZoneInfo(r.tz)).strftime("%Y-%m-%d %H:%M")
    story: list[Any] = [
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
    if summary is not None:
        story += _summary(summary, p, sub)
    story += [*p("色区 / Zones（颜色、名称与形状 / colour, name and shape）", sub), ZoneLegend(font, 180 * mm),
              *p("指标 / Figures", sub)]
    rows = [[p(h) for h in CSV_HEADER]] + [[p(c) for c in row] for row in rows[3:] if row[0] != NOTE_FIGURE]
    story += [_table(rows, [50 * mm, 72 * mm, 22 * mm, 36 * mm], numbers=2), Spacer(1, 3 * mm),
              p(CYCLES_TEXT, small), p(NOTE, small)]
    story += _alarms(r, p, sub)
    story.append(Spacer(1, 12 * mm))
    story.append(Table([[p(a), p(b)] for a, b in SIGNATURES], colWidths=[115 * mm, 65 * mm],
                       rowHeights=[14 * mm, 14 * mm]))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=18 * mm, title=f"{r.workshop_name} {r.from_date}—{r.to_date}",
                      author="sebiao").build(story, canvasmaker=numbered_canvas(font))
    return out.getvalue()


def _summary(s: dict, p: Any, sub: ParagraphStyle) -> list[Any]:
    """This period beside the previous one, the trend in words and arrows, the district's median (quartiles)."""
    rows = [[p("指标 / figure"), p(f"本期 / this period {s['period']['from']} — {s['period']['to']}"),
             p(f"上期 / previous {s['previous']['from']} — {s['previous']['to']}"), p("趋势 / trend"),
             p(f"全区中位数（四分位）/ district median (quartiles)，{s['district']['name']}")]]
    for f in s["figures"]:
        d = f["district"]
        rows.append([p(f"{f['zh']} / {f['en']}"), p(f["text"]), p(f["previous_text"]), p(f["trend_text"]),
                     p("—" if d is None else f"{d['median_text']}（{d['q1_text']} – {d['q3_text']}，n = {d['n']}）")])
    return [*p("概要 / Summary", sub), _table(rows, [44 * mm, 30 * mm, 30 * mm, 38 * mm, 38 * mm], numbers=1)]


def _alarms(r: Report, p: Any, sub: ParagraphStyle) -> list[Any]:
    """The alarms raised in the period, each with its rectification as a ledger item (挂账销号) and its state."""
    out: list[Any] = [*p(f"期间告警及整改 / Alarms and their rectifications（{r.alarms_total}）", sub)]
    if not r.alarm_lines:
        return out + [p("本期间无告警 / no alarm was raised in the period")]
    rows = [[p("告警 / alarm"), p("时间 / raised"), p("类型 / type"), p("级别 / severity"), p("站点 / station"),
             p("现场 / on site"), p("整改（挂账）/ rectification")]]
    for a in r.alarm_lines:
        zh, en, mark = SEVERITY_NAMES.get(a.severity, (a.severity, a.severity, ""))
        at = datetime.fromtimestamp(a.raised_at / 1000, ZoneInfo(r.tz)).strftime("%m-%d %H:%M")
        if a.item is None:
            ledger = "未要求整改 / none requested"
        else:
            due = "" if a.due is None else "，期限 / due " + datetime.fromtimestamp(
                a.due / 1000, ZoneInfo(r.tz)).date().isoformat()
            ledger = f"#{a.item} {LEDGER_STATE_TEXT[a.state or 'open']}{due}" + ("（逾期 / overdue）" if a.overdue
                                                                                 else "")
        rows.append([p(f"#{a.alarm_id}"), p(at), p(alarm_type_text(a.type)), p(f"{mark} {zh} {en}"),
                     p(a.station or "—"), p("已解除 / cleared" if a.cleared else "未解除 / active"), p(ledger)])
    out.append(_table(rows, [16 * mm, 22 * mm, 30 * mm, 22 * mm, 26 * mm, 22 * mm, 42 * mm]))
    if r.alarms_total > len(r.alarm_lines):
        out.append(p(f"仅列出前 {MAX_LINES} 条 / only the first {MAX_LINES} are listed"))
    return out


def _table(rows: list[list[Any]], widths: list[float], numbers: int | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E0E0E0")),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if numbers is not None:
        style.append(("ALIGN", (numbers, 1), (numbers, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table
