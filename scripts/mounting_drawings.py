"""Draw the mounting drawings hardware_docs/mount-{rack,sink,cabinet}.svg: schematic, dimensioned, bilingual.

    .venv/bin/python scripts/mounting_drawings.py           # (re)write the three files
    .venv/bin/python scripts/mounting_drawings.py --check   # exit 1 when a file is not what this script draws

Every label is Chinese first, then English (a ``<g class="label">`` of two lines, or one "中文 / English" line);
every zone colour is drawn with its name and its shape (sebiao_common/domain.py). Each dimension is a
``<g class="dim" data-key=… data-value=…>`` whose value hardware_docs/mounting.md quotes in both languages;
tests/docs/test_mounting_drawings.py checks that, and that these files are what this script draws.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sebiao_common.domain import COLOR_CLASSES  # noqa: E402

OUT = ROOT / "hardware_docs"
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif"
INK, DIM, GREY = "#212121", "#37474F", "#78909C"
METAL, METAL_DARK, PLASTIC, WATER, HEAT = "#CFD8DC", "#78909C", "#ECEFF1", "#0288D1", "#E65100"
LED_RED, LED_GREEN = "#D32F2F", "#2E7D32"
ZONES = {c.key: c for c in COLOR_CLASSES}
# The probe's defaults (firmware/defaults.json) and the cabinet's threshold (rules.disinfect.cabinet) drawn here;
# the test compares them with the firmware and the rules.
PROBE_PIN = 4
CABINET = (120, 600)


class Drawing:
    def __init__(self, name: str, width: int, height: int, title_zh: str, title_en: str) -> None:
        self.name, self.width, self.height = name, width, height
        self.parts: list[str] = []
        self.title = f"{title_zh} / {title_en}"
        self.rect(0, 0, width, height, fill="#FFFFFF")
        self.label(24, 34, title_zh, title_en, size=19, bold=True)
        self.label(24, 86, "示意图，不按比例；尺寸见 hardware_docs/mounting.md",
                   "schematic, not to scale; dimensions as in hardware_docs/mounting.md", size=12, fill=GREY)

    # -- primitives ---------------------------------------------------------------------------------------------
    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none", stroke: str | None = None,
             width: float = 1.5, dash: str | None = None, rx: float = 0, opacity: float | None = None) -> None:
        self.add(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}"{_paint(fill, stroke, width, dash)}'
                 + (f' rx="{rx:g}"' if rx else "") + (f' fill-opacity="{opacity:g}"' if opacity else "") + "/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = INK, width: float = 1.5,
             dash: str | None = None) -> None:
        self.add(f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}"{_paint(None, stroke, width, dash)}/>')

    def path(self, d: str, *, fill: str = "none", stroke: str = INK, width: float = 1.5, dash: str | None = None
             ) -> None:
        self.add(f'<path d="{d}"{_paint(fill, stroke, width, dash)}/>')

    def circle(self, cx: float, cy: float, r: float, *, fill: str = "none", stroke: str | None = INK,
               width: float = 1.5, dash: str | None = None) -> None:
        self.add(f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}"{_paint(fill, stroke, width, dash)}/>')

    def text(self, x: float, y: float, s: str, *, size: int = 13, anchor: str = "start", bold: bool = False,
             fill: str = INK) -> str:
        return (f'<text x="{x:g}" y="{y:g}" font-size="{size}"' + (' font-weight="bold"' if bold else "")
                + (f' text-anchor="{anchor}"' if anchor != "start" else "")
                + (f' fill="{fill}"' if fill != INK else "") + f">{escape(s)}</text>")

    def label(self, x: float, y: float, zh: str, en: str, *, size: int = 13, anchor: str = "start",
              bold: bool = False, fill: str = INK) -> None:
        """Two lines: the Chinese, then the English under it."""
        self.add('<g class="label">' + self.text(x, y, zh, size=size, anchor=anchor, bold=bold, fill=fill)
                 + self.text(x, y + size + 4, en, size=size - 1, anchor=anchor, fill=fill) + "</g>")

    def leader(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.line(x1, y1, x2, y2, stroke=GREY, width=1)
        self.circle(x1, y1, 2.5, fill=GREY, stroke=None)

    # -- dimensions -----------------------------------------------------------------------------------------------
    def dim(self, key: str, value: str, x1: float, y1: float, x2: float, y2: float, *, zh: str, en: str,
            tx: float | None = None, ty: float | None = None, anchor: str = "middle", broken: bool = False,
            shown: str | None = None) -> None:
        """A dimension line with arrows at both ends and its value (``shown``: as written, e.g. 约 5×5 cm), with
        what it measures under it."""
        horizontal = abs(y2 - y1) < abs(x2 - x1)
        # by default a horizontal dimension's value sits above its line and what it measures below it
        below = y1 + 16 if horizontal and tx is None and ty is None else None
        tx = tx if tx is not None else ((x1 + x2) / 2 if horizontal else x1 + 10)
        ty = ty if ty is not None else ((y1 - 8) if horizontal else (y1 + y2) / 2)
        ly = below if below is not None else ty + 15
        parts = [f'<g class="dim" data-key="{key}" data-value={quoteattr(value)}>']
        if broken:  # a break in the line: this length is not drawn to scale
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            parts.append(_arrow_line(x1, y1, mx, my - 8, start=True, end=False))
            parts.append(f'<path d="M{mx - 6:g},{my - 8:g} L{mx + 6:g},{my - 3:g} L{mx - 6:g},{my + 3:g} '
                         f'L{mx + 6:g},{my + 8:g}" fill="none" stroke="{DIM}" stroke-width="1.2"/>')
            parts.append(_arrow_line(mx, my + 8, x2, y2, start=False, end=True))
        else:
            parts.append(_arrow_line(x1, y1, x2, y2, start=True, end=True))
        parts.append(self.text(tx, ty, shown or value, size=13, anchor=anchor, bold=True, fill=DIM))
        parts.append('<g class="label">' + self.text(tx, ly, zh, size=11, anchor=anchor, fill=DIM)
                     + self.text(tx, ly + 14, en, size=10, anchor=anchor, fill=DIM) + "</g>")
        self.add("".join(parts) + "</g>")

    def callout(self, key: str, value: str, x: float, y: float, zh: str, en: str, *, anchor: str = "start",
                cls: str = "dim") -> None:
        """A dimension given as a note (a size, a rating) rather than a line; ``cls="fact"``: a number that is no
        dimension (a count)."""
        self.add(f'<g class="{cls}" data-key="{key}" data-value={quoteattr(value)}>'
                 + self.text(x, y, value, size=13, anchor=anchor, bold=True, fill=DIM)
                 + '<g class="label">' + self.text(x, y + 15, zh, size=11, anchor=anchor, fill=DIM)
                 + self.text(x, y + 29, en, size=10, anchor=anchor, fill=DIM) + "</g></g>")

    # -- things drawn in more than one place ------------------------------------------------------------------------
    def zone(self, key: str, x: float, y: float, r: float, *, text: bool = True, what_zh: str = "",
             what_en: str = "") -> None:
        """A zone colour: its shape filled with the colour, and its name and shape in words."""
        c = ZONES[key]
        fill, stroke = c.hex, ("#424242" if key == "white" else c.hex)
        self.add(f'<g class="zone" data-color="{key}" data-shape="{c.shape}">{_shape(c.shape, x, y, r, fill, stroke)}'
                 + "</g>")
        if text:
            self.label(x + r + 8, y - 2, f"{what_zh}{c.zh} {c.symbol} {c.shape_zh}",
                       f"{what_en}{c.en} {c.symbol} {c.shape}", size=12)

    def leds(self, x: float, y: float, r: float = 5) -> None:
        self.circle(x, y, r, fill=LED_RED, stroke="#212121", width=1)
        self.circle(x + 3 * r, y, r, fill=LED_GREEN, stroke="#212121", width=1)

    def svg(self) -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" font-family="{FONT}" font-size="13" '
                f'data-drawing="{self.name}">\n<title>{escape(self.title)}</title>\n'
                "<desc>Drawn by scripts/mounting_drawings.py; each dimension is a &lt;g class=\"dim\"&gt; with "
                "data-value, which hardware_docs/mounting.md quotes (tests/docs/test_mounting_drawings.py).</desc>\n"
                "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                f"markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{DIM}\"/>"
                "</marker><pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#90A4AE\" "
                "stroke-width=\"2\"/></pattern></defs>\n")
        return head + "\n".join(self.parts) + "\n</svg>\n"


def _paint(fill: str | None, stroke: str | None, width: float, dash: str | None) -> str:
    out = f' fill="{fill}"' if fill is not None else ""
    if stroke:
        out += f' stroke="{stroke}" stroke-width="{width:g}"'
    return out + (f' stroke-dasharray="{dash}"' if dash else "")


def _arrow_line(x1: float, y1: float, x2: float, y2: float, *, start: bool, end: bool) -> str:
    return (f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{DIM}" stroke-width="1.2"'
            + (' marker-start="url(#arrow)"' if start else "") + (' marker-end="url(#arrow)"' if end else "") + "/>")


def _shape(shape: str, x: float, y: float, r: float, fill: str, stroke: str) -> str:
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="2"'
    if shape == "circle":
        return f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}" {paint}/>'
    corners = {"diamond": [(0, -1), (1, 0), (0, 1), (-1, 0)],
               "triangle": [(0, -1), (0.95, 0.8), (-0.95, 0.8)],
               "square": [(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)],
               "hexagon": [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in range(30, 390, 60)]}[shape]
    points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in corners)
    return f'<polygon points="{points}" {paint}/>'


def rack() -> Drawing:
    d = Drawing("rack", 1400, 880, "安装图：器具架读卡站（以 rack-red-1 为例）",
                "Mounting drawing: a rack station (rack-red-1 as the example)")
    # ---- front view (about 2 px = 1 mm around the panel) ----
    d.label(40, 124, "正视图", "front view", size=15, bold=True)
    d.label(230, 168, "器具架面板：本区颜色的塑料板，3–5 mm", "rack panel: zone-coloured plastic, 3–5 mm", size=12)
    d.rect(230, 196, 400, 444, fill="#FFEBEE", stroke=ZONES["red"].hex, width=6)
    d.zone("red", 262, 230, 16, what_zh="面板：", what_en="panel: ")
    d.add(d.text(262, 276, "rack-red-1", size=13, bold=True))
    # the enclosure and its antenna, behind the panel (dashed); the read area on the panel in front of it
    d.rect(315, 290, 230, 180, stroke="#455A64", width=2, dash="8 5")
    d.rect(380, 330, 100, 100, fill="#90A4AE", stroke="#37474F", width=1.5, dash="4 3", opacity=0.25)
    d.dim("read_area", "5×5 cm", 380, 316, 480, 316, zh="天线读取区", en="the antenna's read area", shown="约 5×5 cm",
          tx=60, ty=300, anchor="start")
    d.leader(380, 330, 226, 304)
    # two knives stand in the slot block, handles up: their tags sit inside the read area, 1-2 cm apart
    for x in (405, 455):
        d.rect(x - 13, 352, 26, 228, fill="#5D4037", stroke="#3E2723", rx=8)
        d.circle(x, 372, 15, fill="#FFF59D", stroke="#F57F17", width=2)
    d.leader(405, 372, 226, 352)
    d.label(60, 348, "器具的电子标签", "a tool's NFC tag", size=12)
    d.dim("tag_spacing", "1–2 cm", 420, 398, 440, 398, zh="相邻标签之间", en="between tags", tx=60, ty=420,
          anchor="start")
    d.leader(430, 398, 226, 416)
    d.callout("enclosure", "115×90×55 mm", 60, 490, "IP65 外壳，在面板后（虚线）", "IP65 box, behind the panel")
    d.leader(315, 460, 226, 486)
    d.rect(250, 580, 360, 50, fill=METAL, stroke=METAL_DARK, width=1.5, rx=4)
    d.label(430, 602, "刀槽（刀身在槽内）", "knife slots (blades inside)", size=11, anchor="middle")
    # LEDs on the enclosure's lid, seen through holes in the panel
    d.leds(516, 306)
    d.leader(531, 306, 660, 232)
    d.label(664, 214, "红灯 = 报警，蜂鸣三声", "red LED = alarm, three beeps", size=12)
    d.label(664, 250, "绿灯 = 正常（经面板孔可见）", "green LED = ok (through panel holes)", size=12)
    d.callout("max_tags", "≤ 8", 664, 300, "一个读取区的标签（reader.max_tags）", "tags in one read area (reader.max_tags)",
              cls="fact")
    # the next reader, beyond the panel
    d.rect(680, 346, 60, 100, stroke="#455A64", width=1.5, dash="4 3")
    d.label(748, 360, "相邻读卡器", "next reader", size=11)
    d.line(480, 430, 480, 462, stroke=GREY, width=1, dash="3 3")
    d.line(680, 446, 680, 462, stroke=GREY, width=1, dash="3 3")
    d.dim("neighbour", "≥ 10 cm", 480, 455, 680, 455, zh="相邻读卡器之间（PN532：≥ 12 cm）",
          en="between readers (PN532: ≥ 12 cm)",
          tx=690, ty=486, anchor="start")
    # height above the floor
    d.line(30, 800, 780, 800, stroke=INK, width=3)
    d.rect(30, 800, 750, 12, fill="url(#hatch)")
    d.label(660, 772, "地面", "floor", size=11)
    d.dim("height", "1.2–1.5 m", 40, 380, 40, 800, zh="外壳中心离地", en="box centre above the floor", tx=50, ty=690,
          anchor="start", broken=True)
    d.line(34, 380, 226, 380, stroke=GREY, width=1, dash="3 3")
    # ---- side section (about 2 px = 1 mm) ----
    d.label(880, 124, "侧视剖面", "side section", size=15, bold=True)
    # the cable first (it runs behind the standoffs): out of the gland facing down, a drip loop, up to the supply
    d.path("M996,474 V520 C996,566 912,566 912,520 V176", stroke="#212121", width=3)
    d.label(920, 170, "→ 5 V 电源（干区）", "→ 5 V supply (dry area)", size=11)
    d.rect(880, 170, 24, 580, fill="url(#hatch)", stroke=METAL_DARK)
    d.label(880, 786, "不锈钢架或墙", "steel rack or wall", size=11)
    for y in (300, 410):
        d.rect(904, y, 40, 20, fill="#FFFFFF", stroke=INK)
    d.dim("standoff", "15–20 mm", 904, 290, 944, 290, zh="尼龙支柱（或铁氧体片）", en="nylon standoffs (or ferrite)",
          tx=960, ty=212, anchor="start")
    d.rect(944, 280, 110, 180, fill=PLASTIC, stroke="#455A64", width=2, rx=6)
    d.rect(960, 300, 14, 140, fill="#263238")
    d.add(d.text(982, 450, "ESP32", size=10))
    d.rect(1040, 320, 8, 100, fill="#0D47A1")
    d.leds(1022, 296, 4)
    d.rect(1058, 256, 8, 384, fill=ZONES["red"].hex)
    d.leader(1044, 330, 1120, 300)
    d.label(1124, 296, "读卡器天线朝向面板", "reader antenna faces the panel", size=12)
    d.leader(1062, 630, 1120, 700)
    d.label(1124, 700, "面板 3–5 mm（红色 ● 圆形）", "panel 3–5 mm (red ● circle)", size=12)
    # a knife on the front, its tag towards the panel
    d.rect(1090, 352, 22, 228, fill="#5D4037", stroke="#3E2723", rx=8)
    d.rect(1086, 360, 6, 26, fill="#FFF59D", stroke="#F57F17")
    d.rect(1066, 580, 100, 50, fill=METAL, stroke=METAL_DARK, rx=4)
    d.dim("tag_gap", "0.5–2 cm", 1054, 395, 1086, 395, zh="标签离外壳", en="tag to the enclosure", tx=1124, ty=410,
          anchor="start")
    # below the enclosure: gland, buzzer hole, drip loop
    d.rect(986, 460, 20, 14, fill="#424242")
    d.circle(1030, 462, 4, fill="#FFFFFF", stroke=INK)
    d.leader(954, 562, 940, 604)
    d.label(924, 620, "滴水弯", "drip loop", size=12)
    d.leader(996, 474, 1000, 660)
    d.label(924, 676, "PG7 格兰头朝下", "PG7 gland facing down", size=11)
    d.leader(1030, 466, 1080, 722)
    d.label(1084, 740, "蜂鸣器孔朝下，防水透气膜", "buzzer hole down, breathable membrane", size=11)
    d.label(40, 836, "钢制器具用抗金属标签；装好后用真实器具实测读距，必要时调 reader.gain",
            "steel tools carry on-metal tags; after mounting, measure with the real tools and adjust reader.gain",
            size=11)
    return d


def sink() -> Drawing:
    d = Drawing("sink", 1400, 860, "安装图：清洗池读卡站（以 sink-red-1 为例）",
                "Mounting drawing: a sink station (sink-red-1 as the example)")
    d.label(40, 124, "正视图（挡水板一侧）", "front view (the splashback)", size=15, bold=True)
    # wet and dry areas
    d.rect(40, 160, 960, 640, fill="#F5F9FC", stroke="#B0BEC5")
    d.rect(1000, 160, 360, 640, fill="#FFFDE7", stroke="#B0BEC5")
    d.label(56, 184, "湿区", "wet area", size=13, bold=True)
    d.label(1016, 184, "干区", "dry area", size=13, bold=True)
    # the sink: counter, basin (cut away), legs
    d.rect(120, 500, 540, 26, fill=METAL, stroke=METAL_DARK, width=2)
    d.path("M200,526 V640 Q200,660 220,660 H560 Q580,660 580,640 V526", fill="#ECEFF1", stroke=METAL_DARK, width=2,
           dash="6 4")
    d.label(390, 620, "不锈钢水池（剖开）", "stainless sink (cut away)", size=11, anchor="middle")
    for x in (140, 640):
        d.rect(x, 526, 12, 274, fill=METAL, stroke=METAL_DARK)
    d.line(40, 800, 1360, 800, stroke=INK, width=3)
    # the tap and its water, the splash zone around it
    d.path("M390,500 V380 Q390,360 410,360 H440 V378", stroke=METAL_DARK, width=8)
    d.label(300, 350, "水龙头", "tap", size=12)
    for dx in (-4, 0, 4):
        d.line(440 + dx, 384, 440 + dx * 2, 520, stroke=WATER, width=1.5, dash="6 4")
    d.add(f'<ellipse cx="440" cy="500" rx="120" ry="70" fill="{WATER}" fill-opacity="0.08" stroke="{WATER}" '
          'stroke-width="1.2" stroke-dasharray="5 4"/>')
    d.label(330, 470, "溅水区", "splash zone", size=11, fill=WATER)
    # the cable: down from the gland, a drip loop, up and over to the dry area
    d.path("M680,372 V410 C680,450 626,450 626,410 V280 H1060 V262", stroke="#212121", width=3)
    d.label(800, 258, "湿区只走 5 V 低压线", "only 5 V cable in the wet area", size=11)
    d.label(653, 472, "滴水弯", "drip loop", size=12, anchor="middle")
    # the station: enclosure on the splashback at the hand-off point, the zone's sticker on it
    d.rect(640, 300, 80, 62, fill=PLASTIC, stroke="#455A64", width=2, rx=5)
    d.rect(672, 362, 16, 10, fill="#424242")
    d.leds(654, 312, 4)
    d.rect(690, 330, 20, 20, fill="#FFFFFF", stroke="#424242")
    d.add('<g class="zone" data-color="red" data-shape="circle">'
          f'<circle cx="700" cy="340" r="7" fill="{ZONES["red"].hex}" stroke="{ZONES["red"].hex}"/></g>')
    d.line(440, 226, 440, 376, stroke=GREY, width=1, dash="3 3")
    d.line(640, 226, 640, 300, stroke=GREY, width=1, dash="3 3")
    d.dim("splash", "≥ 30 cm", 440, 232, 640, 232, zh="离水龙头出水口", en="from the tap's outlet")
    d.line(720, 362, 748, 362, stroke=GREY, width=1, dash="3 3")
    d.dim("above_rim", "≥ 20 cm", 740, 362, 740, 500, zh="外壳底边高于池沿", en="enclosure above the rim", tx=748,
          ty=470, anchor="start")
    d.leader(700, 340, 776, 326)
    d.callout("sticker", "20×20 mm", 780, 320, "交接位色标贴：红色 ● 圆形", "hand-off sticker: red ● circle")
    d.label(780, 398, "员工把器具标签贴近这里停留 1–2 秒", "staff hold the tool's tag here for 1–2 s", size=12)
    d.label(700, 580, "外壳 IP65 以上，格兰头朝下", "enclosure IP65 or better, glands facing down", size=11)
    d.label(700, 620, "钢制挡水板：尼龙支柱 15–20 mm 或铁氧体片", "steel splashback: nylon standoffs 15–20 mm or ferrite",
            size=11)
    d.label(700, 660, "不要把读卡器贴在不锈钢池壁上", "never fix the reader on the steel sink wall", size=11)
    # supply in the dry area, behind the RCD
    d.rect(1040, 222, 40, 40, fill="#FFFFFF", stroke=INK, rx=4)
    d.label(1090, 240, "5 V 电源适配器", "5 V power supply", size=12)
    d.rect(1040, 300, 110, 70, fill="#FFFFFF", stroke=INK, width=2, rx=4)
    d.rect(1052, 314, 20, 40, fill="#E0E0E0", stroke=INK)
    d.add(d.text(1110, 340, "RCD", size=14, anchor="middle", bold=True))
    d.line(1060, 262, 1060, 300, stroke=INK, width=3)
    d.callout("rcd", "30 mA", 1040, 400, "插座在漏电保护器（RCD）之后", "socket behind a residual-current device")
    return d


def cabinet() -> Drawing:
    d = Drawing("cabinet", 1400, 900, "安装图：消毒柜读卡站与温度探头（以 dis-1 为例）",
                "Mounting drawing: a disinfection cabinet station and its probe (dis-1 as the example)")
    d.label(40, 124, "正视图（柜体剖开）", "front view (cabinet cut away)", size=15, bold=True)
    # the cabinet, cut away: racks, heating elements, the vent
    d.rect(300, 220, 380, 560, fill=METAL, stroke=METAL_DARK, width=3, rx=6)
    d.rect(320, 240, 340, 520, fill="#FAFAFA", stroke=METAL_DARK, width=1.5)
    for y in (360, 500, 640):
        d.line(330, y, 650, y, stroke=METAL_DARK, width=3)
        for x in range(350, 640, 60):
            d.path(f"M{x},{y} q20,-30 40,0", stroke=GREY, width=2)
    d.path("M340,736 " + " ".join(f"l15,{-12 if i % 2 == 0 else 12}" for i in range(20)), stroke=HEAT, width=3)
    d.leader(340, 730, 226, 726)
    d.label(60, 722, "发热管", "heating elements", size=12)
    for x in (460, 490, 520):
        d.rect(x, 216, 16, 6, fill="#424242")
        d.path(f"M{x + 8},210 q-6,-10 0,-20 q6,-10 0,-20", stroke=HEAT, width=1.5)
    d.label(560, 200, "排气口", "vent", size=11)
    d.rect(450, 112, 80, 40, stroke=LED_RED, width=1.5, dash="5 4")
    d.path("M450,112 l80,40 M530,112 l-80,40", stroke=LED_RED, width=1.5)
    d.label(544, 124, "读卡站不装在排气口上方", "never put the station above the vent", size=11, fill=LED_RED)
    d.label(490, 808, "红外线消毒柜", "infrared cabinet", size=12, anchor="middle")
    d.label(490, 848, f"柜内 {CABINET[0]} °C 保持 {CABINET[1]} s（rules.disinfect.cabinet）",
            f"inside {CABINET[0]} °C held {CABINET[1]} s (rules.disinfect.cabinet)", size=11, anchor="middle")
    # the probe: through a gland in the side wall, its tip among the racks, high and away from the heaters
    d.path("M694,430 H470", stroke="#B71C1C", width=3)
    d.rect(680, 422, 14, 16, fill="#424242")
    d.rect(430, 423, 60, 14, fill="#B0BEC5", stroke="#37474F", rx=7)
    d.leader(430, 430, 240, 404)
    d.callout("probe", "Ø6×50 mm", 60, 400, "DS18B20 温度探头", "DS18B20 temperature probe")
    d.label(60, 460, "尖端在碗架中部，不贴柜壁", "tip among the racks, off the walls", size=11)
    d.label(60, 500, "额定 -55～125 °C", "rated -55 to 125 °C", size=11)
    d.label(60, 540, "装在上部，远离发热管", "high up, away from the heaters", size=11)
    d.label(700, 404, "PG7 格兰头", "PG7 gland", size=11)
    # the station outside, beside the cabinet; the probe cable with a drip loop into its gland
    d.rect(780, 380, 100, 80, fill=PLASTIC, stroke="#455A64", width=2, rx=6)
    d.rect(822, 460, 16, 10, fill="#424242")
    d.leds(796, 394, 4)
    d.add(d.text(830, 440, "dis-1", size=12, anchor="middle", bold=True))
    d.path("M694,430 C740,430 740,520 790,520 C836,520 830,490 830,470", stroke="#B71C1C", width=3)
    d.line(680, 334, 680, 346, stroke=GREY, width=1, dash="3 3")
    d.line(780, 334, 780, 380, stroke=GREY, width=1, dash="3 3")
    d.dim("reader_distance", "≥ 10 cm", 680, 340, 780, 340, zh="读卡站离柜体侧壁", en="station from the side wall",
          tx=690, ty=290, anchor="start")
    d.callout("cable_rating", "≥ 200 °C", 720, 570, "探头线：硅胶或 PTFE", "probe cable: silicone or PTFE")
    d.callout("cable_length", "1–3 m", 720, 630, "探头线长度", "probe cable length")
    d.label(900, 396, f"读卡器和 4.7 kΩ 上拉（GPIO{PROBE_PIN}）在外壳内",
            f"reader and 4.7 kΩ pull-up (GPIO{PROBE_PIN}) inside", size=12)
    d.label(900, 434, "读卡器在柜外：器具进柜前在这里刷一下", "the reader is outside: swipe each tool here before it goes in",
            size=12)
    d.label(900, 472, "隔着金属柜壁读不到标签", "it cannot read through the metal wall", size=11)
    d.zone("white", 800, 716, 14, what_zh="dis-1 放在白区：", what_en="dis-1 stands in the white zone: ")
    d.label(780, 770, "消毒柜接收各种颜色洗净的器具", "the cabinet takes washed tools of every colour", size=11)
    return d


DRAWINGS = {"mount-rack.svg": rack, "mount-sink.svg": sink, "mount-cabinet.svg": cabinet}


def render() -> dict[str, str]:
    return {name: draw().svg() for name, draw in DRAWINGS.items()}


def main(argv: list[str]) -> int:
    stale = []
    for name, text in render().items():
        path = OUT / name
        if "--check" in argv:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, "utf-8")
    if stale:
        print(f"not what scripts/mounting_drawings.py draws: {', '.join(stale)}; run it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
