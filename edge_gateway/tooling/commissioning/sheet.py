"""The commissioning sign-off sheet (安装验收签字单): A4 PDF pages, Chinese first, then English.

Workshop, date and time, the gateway and its version; each station (online, its clock, the LED and buzzer
test, who confirmed what they saw and heard); each tool named by colour, shape and kind (colour is never the
only signal), seen at home or not; what failed; signature lines for the installer and the owner. Drawn with
reportlab and the labels' CJK font (``sebiao_common/fonts.py``), as the staff poster is. It says only what
the system saw: a failed or skipped item says so.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from edge_gateway.tooling.commissioning.check import SEEN_TEXT, TEST_TEXT, Commissioning, StationResult
from sebiao_common.errors import SebiaoError
from sebiao_common.fonts import load_font

MM = 72 / 25.4
MARGIN = 14 * MM
FAIL = HexColor("#B71C1C")
OK_MARK, FAIL_MARK = "通过 / pass", "未通过 / FAIL"  # words: the CJK fonts at hand lack some symbols


class SheetError(SebiaoError):
    pass


class _Pages:
    """A cursor down the pages: a new page when the next line would not fit."""

    def __init__(self, canvas: Canvas, font: str, title: str) -> None:
        self.c, self.font, self.title = canvas, font, title
        self.width = A4[0] - 2 * MARGIN
        self.y = A4[1] - MARGIN
        self.page = 1

    def _room(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.c.showPage()
            self.page += 1
            self.y = A4[1] - MARGIN
            self.line(f"{self.title}（第 {self.page} 页 / page {self.page}）", size=8)

    def line(self, text: str, size: float = 9, indent: float = 0, color=black) -> None:
        width = self.width - indent
        fitted = max(5.0, min(size, size * width / max(stringWidth(text, self.font, size), 1)))
        self._room(fitted * 1.4)
        self.y -= fitted * 1.4
        self.c.setFont(self.font, fitted)
        self.c.setFillColor(color)
        self.c.drawString(MARGIN + indent, self.y, text)

    def row(self, cells: list[str], widths: list[float], size: float = 7.5, color=black) -> None:
        """Table cells at fixed widths (mm), each shrunk to fit its cell."""
        self._room(size * 1.5)
        self.y -= size * 1.5
        x = MARGIN
        self.c.setFillColor(color)
        for text, width_mm in zip(cells, widths):
            width = width_mm * MM - 1.5 * MM
            fitted = max(4.0, min(size, size * width / max(stringWidth(text, self.font, size), 1)))
            self.c.setFont(self.font, fitted)
            self.c.drawString(x, self.y, text)
            x += width_mm * MM

    def rule(self) -> None:
        self._room(2 * MM)
        self.y -= 1 * MM
        self.c.setLineWidth(0.4)
        self.c.line(MARGIN, self.y, MARGIN + self.width, self.y)
        self.y -= 1 * MM

    def space(self, mm: float) -> None:
        self.y -= mm * MM


STATION_WIDTHS = [26, 24, 13, 27, 29, 43, 20]  # mm; A4 less the margins is 182 mm
TOOL_WIDTHS = [70, 34, 60, 18]


def _clock(station: StationResult) -> str:
    if station.clock_synced is None:
        return "未报告 / not reported"
    if not station.clock_synced:
        return "未设置 / not set"
    text = "已设置 / set"
    if station.clock_offset_ms is not None:
        text += f" {station.clock_offset_ms / 1000:+.1f} s"
    return text + ("，报警中 / alarm" if station.clock_alarm else "")


def _test(station: StationResult) -> str:
    zh, en = TEST_TEXT[station.test]
    return f"{zh} / {en}"


def _seen(station: StationResult) -> str:
    zh, en = SEEN_TEXT[station.seen]
    who = station.confirmed_by
    return f"{zh} / {en}" + (f"（{who}）" if who and who != "--yes" else "")


def render_sheet(result: Commissioning, out: str | Path, font_file: str | None = None) -> Path:
    font = load_font(font_file)
    path = Path(out)
    title = f"色标系统安装验收单 / Commissioning sign-off — {result.workshop_name}"
    try:
        canvas = Canvas(str(path), pagesize=A4)
    except OSError as exc:
        raise SheetError(f"{path}: cannot write: {exc}") from exc
    canvas.setTitle(title)
    page = _Pages(canvas, font.name, title)
    page.line("色标系统安装验收单", size=18)
    page.line("Colour-coding system: commissioning sign-off sheet", size=11)
    page.space(1)
    page.line(f"作坊 / workshop：{result.workshop_name}（{result.workshop_id}）")
    page.line(f"检查时间 / checked at：{result.at}")
    page.line(f"安装人员 / installer：{result.installer or '未填写 / not given'}")
    clock = {True: "已同步 / synchronised", False: "未同步 / not synchronised", None: "未知 / unknown"}[
        result.gateway_clock_synchronised]
    page.line(f"网关 / gateway：{result.gateway}，版本 / version {result.gateway_version or '未知 / unknown'}，"
              f"网关时钟 / gateway clock：{clock}")
    verdict = "全部通过 / everything passed" if result.passed else f"未通过 {len(result.failures)} 项 / " \
                                                                     f"{len(result.failures)} item(s) FAILED"
    page.line(f"结论 / result：{verdict}", size=12, color=black if result.passed else FAIL)
    page.space(2)

    page.line(f"读卡站（{len(result.stations)}）/ Stations", size=11)
    page.row(["读卡站 / station", "名称 / name", "在线 / online", "时钟 / clock", "灯光蜂鸣 / LED, buzzer",
              "人工确认 / confirmed", "结果 / result"], STATION_WIDTHS)
    page.rule()
    for station in result.stations:
        page.row([station.id, station.name, "在线 / yes" if station.online else "不在线 / NO", _clock(station),
                  _test(station), _seen(station), OK_MARK if station.passed else FAIL_MARK],
                 STATION_WIDTHS, color=black if station.passed else FAIL)
    page.space(2)

    tagged = [t for t in result.tools if t.tagged]
    page.line(f"器具（{len(result.tools)}，贴标签 {len(tagged)}）/ Tools", size=11)
    page.row(["器具 / tool", "固定位置 / home", "系统所见 / what the system saw", "结果 / result"], TOOL_WIDTHS)
    page.rule()
    for tool in result.tools:
        zh, en = tool.where
        mark = "—" if not tool.tagged else (OK_MARK if tool.at_home else FAIL_MARK)
        page.row([f"{tool.name_zh} / {tool.name_en}", tool.home, f"{zh} / {en}", mark], TOOL_WIDTHS,
                 color=black if tool.problem is None else FAIL)
    page.space(2)

    page.line("未通过项 / What failed", size=11)
    if not result.failures:
        page.line("无 / none", indent=4 * MM)
    for zh, en in result.failures:
        page.line(f"- {zh}", indent=4 * MM, color=FAIL)
        page.line(en, size=7.5, indent=7 * MM, color=FAIL)
    page.space(3)
    page.line("本单只记录系统看到的情况；“未经人工确认（--yes）”表示无人确认看到灯光、听到蜂鸣。", size=8)
    page.line("This sheet states only what the system saw; \"confirmed by --yes\" means no person confirmed "
              "seeing the lights or hearing the buzzer.", size=7.5)
    page.space(8)
    for label in ("安装人员签字 / installer", "店主签字 / owner"):
        page.line(f"{label}：____________________________    日期 / date：________________", size=10)
        page.space(8)
    try:
        canvas.save()
    except OSError as exc:
        raise SheetError(f"{path}: cannot write: {exc}") from exc
    return path
