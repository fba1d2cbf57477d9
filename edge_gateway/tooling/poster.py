"""The staff poster (员工色标海报): one A4 page from the workshop config, Chinese first, then English.

Top to bottom: the five colour classes of the seed (name, shape, what they are
for: colour is never the only signal), where each of this workshop's tools lives
(its home rack, by zone), what the station's red light and beeps mean, and the
daily routine (use → wash at the sink of its colour for at least the dwell →
disinfect where required → back home). Drawn with reportlab and the labels' CJK
font (``sebiao_common/fonts.py``), like the label sheet. ``sebiao poster``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.tooling.labels.contrast import OUTLINE
from sebiao_common.domain import COLOR_CLASSES, KINDS, StationKind
from sebiao_common.errors import SebiaoError
from sebiao_common.fonts import LabelFont, load_font
from sebiao_common.shapes import draw_shape

MM = 72 / 25.4
MARGIN = 14 * MM
MIN_SIZE = 5.0  # points: the poster's smallest text (a long tool list shrinks down to this)
SCALE = 1.3  # every size below is for a small workshop's page, enlarged to fill A4 and be read from a step away


class PosterError(SebiaoError):
    pass


@dataclass(frozen=True, kw_only=True)
class Poster:
    path: Path
    font: LabelFont


class _Page:
    """A cursor down the page: each line is fitted to the width, never below ``MIN_SIZE``."""

    def __init__(self, canvas: Canvas, font: str) -> None:
        self.c, self.font = canvas, font
        self.width = A4[0] - 2 * MARGIN
        self.y = A4[1] - MARGIN

    def line(self, text: str, size: float = 9, indent: float = 0, gap: float = 1.35) -> None:
        width, size = self.width - indent, size * SCALE
        fitted = max(MIN_SIZE, min(size, size * width / max(stringWidth(text, self.font, size), 1)))
        self.y -= fitted * gap
        if self.y < MARGIN:
            raise PosterError("the workshop's tools do not fit on one A4 page: split the tool list "
                              "(every tool still has its label) / 器具过多，一页放不下")
        self.c.setFont(self.font, fitted)
        self.c.setFillColor(black)
        self.c.drawString(MARGIN + indent, self.y, text)

    def space(self, mm: float) -> None:
        self.y -= mm * MM


def render_poster(config: WorkshopConfig, out: str | Path, font_file: str | None = None) -> Poster:
    font = load_font(font_file)
    path = Path(out)
    try:
        canvas = Canvas(str(path), pagesize=A4)
    except OSError as exc:
        raise PosterError(f"{path}: cannot write: {exc}") from exc
    canvas.setTitle(f"色标管理 员工须知 / colour-coding staff poster — {config.workshop.name}")
    page = _Page(canvas, font.name)
    page.line(f"色标管理 员工须知 · {config.workshop.name}", size=18)
    page.line("Colour-coded tools: what every worker does", size=11)
    page.space(2)
    _colours(page)
    page.space(2)
    _homes(page, config)
    page.space(2)
    _station(page)
    page.space(2)
    _routine(page, config)
    try:
        canvas.save()
    except OSError as exc:
        raise PosterError(f"{path}: cannot write: {exc}") from exc
    return Poster(path=path, font=font)


def _colours(page: _Page) -> None:
    page.line("一、颜色与用途 / Colours and what they are for", size=12)
    for zone in COLOR_CLASSES:
        page.y -= 2
        page.c.setFillColor(HexColor(zone.hex))
        page.c.setStrokeColor(HexColor(OUTLINE))
        size = 9.5 * SCALE
        draw_shape(page.c, zone.shape, MARGIN + 3 * MM, page.y - size * 1.35 + size * 0.35, 4.2 * MM * SCALE,
                   fill=True, stroke=True)
        page.line(f"{zone.zh}（{zone.shape_zh}）：{zone.purpose_zh}", size=9.5, indent=9 * MM)
        page.line(f"{zone.en} ({zone.shape}): {zone.purpose_en}", size=7.5, indent=9 * MM, gap=1.2)


def _homes(page: _Page, config: WorkshopConfig) -> None:
    page.line("二、器具的固定位置 / Where each tool lives (its home rack)", size=12)
    names = {s.id: s.name for s in config.stations}
    for zone in COLOR_CLASSES:
        tools = [t for t in config.tools if t.color == zone.key]
        if not tools:
            continue
        # The shape in words: the fonts at hand lack some symbols (⬢), and the words are read aloud too.
        page.line(f"{zone.zh}（{zone.shape_zh}）/ {zone.en} ({zone.shape})", size=9.5)
        for home in dict.fromkeys(t.home for t in tools):
            listed = "、".join(f"{t.id} {KINDS[t.kind].zh}" for t in tools if t.home == home)
            place = f"{home}（{names[home]}）" if names.get(home) else home
            page.line(f"{place}：{listed}", size=8.5, indent=5 * MM)
    sinks = [s for s in config.stations if s.kind is StationKind.SINK]
    if sinks:
        page.line("清洗池 / sinks: " + "、".join(
            f"{s.id}{'（' + s.name + '）' if s.name else ''}" for s in sinks), size=8.5)


def _station(page: _Page) -> None:
    page.line("三、读卡站的灯和声音 / The reader station's light and beeps", size=12)
    page.line("红灯亮并蜂鸣：器具放错了区域、未清洗就放回等。请立即停下，把器具拿回本颜色区域，并告诉负责人。",
              size=9)
    page.line("Red light and beeps: a tool in the wrong zone, returned unwashed, ... Stop, take it back to its own "
              "colour and tell the person in charge.", size=7.5, gap=1.2)
    page.line("绿灯亮：负责人已处理并解除报警，可以继续工作。", size=9)
    page.line("Green light: the person in charge has handled and cleared the alarm; carry on.", size=7.5, gap=1.2)


def _routine(page: _Page, config: WorkshopConfig) -> None:
    page.line("四、每天的做法 / The daily routine", size=12)
    dwell = config.rules.wash_min_seconds
    page.line(f"1. 从本颜色的器具架取用 → 2. 用后到同颜色的清洗池清洗，在池边读卡处至少停留 {dwell} 秒", size=9)
    page.line(f"1. Take from a rack of its colour → 2. after use, wash at a sink of the same colour, at least "
              f"{dwell} s at the sink's reader", size=7.5, gap=1.2)
    required = sorted(config.rules.disinfect_required) if config.disinfection_monitored else []
    if required:
        kinds_zh = "、".join(KINDS[k].zh for k in required)
        kinds_en = ", ".join(KINDS[k].en for k in required)
        page.line(f"3. 消毒：{kinds_zh} 须放入消毒设备消毒", size=9)
        page.line(f"3. Disinfect: {kinds_en} go through the disinfection station", size=7.5, gap=1.2)
    else:
        page.line("3. 按作坊规定消毒（本作坊未用读卡站记录消毒）", size=9)
        page.line("3. Disinfect as the workshop's rules say (not recorded by a station here)", size=7.5, gap=1.2)
    page.line("4. 放回它的固定位置（见上表），不放到其他架上", size=9)
    page.line("4. Put it back on its own home rack (see above), never on another rack", size=7.5, gap=1.2)
    page.line("收工时系统会点检：每件器具是否已归位、已清洗、已消毒。", size=9)
    page.line("At closing time the system checks every tool is home, washed and disinfected.", size=7.5, gap=1.2)
