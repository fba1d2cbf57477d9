"""The CJK font for labels.

A label sheet goes to a print shop or a phone, so the font is embedded: the
first TrueType CJK font found (``--font FILE`` or a Debian font package such as
fonts-wqy-microhei, fonts-wqy-zenhei, fonts-droid-fallback) is registered with
reportlab, which embeds the subset of glyphs used. Without one, reportlab's
built-in CID font STSong-Light is used: it needs no file but is not embedded, so
the reader's own Chinese font shows it (Acrobat, poppler with poppler-data, pdfium
do). ``sebiao labels`` says which one it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from sebiao_common.errors import SebiaoError

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
CID_FALLBACK = "STSong-Light"
LATIN_BOLD = "Helvetica-Bold"  # tool ids are ASCII (config.TOOL_ID)


class FontError(SebiaoError):
    pass


@dataclass(frozen=True)
class LabelFont:
    name: str  # the reportlab font name to draw with
    path: str | None  # the embedded file, None for the CID fallback
    embedded: bool


def _register_ttf(path: Path) -> LabelFont:
    name = "SebiaoCJK-" + path.stem
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            font = TTFont(name, str(path), subfontIndex=0) if path.suffix.lower() == ".ttc" \
                else TTFont(name, str(path))
        except (TTFError, OSError) as exc:
            raise FontError(f"--font {path}: not a usable TrueType font ({exc})") from exc
        if not font.face.charToGlyph.get(ord("色")):
            raise FontError(f"--font {path}: has no Chinese glyphs (no 色)")
        pdfmetrics.registerFont(font)
    return LabelFont(name, str(path), True)


def load_font(explicit: str | None = None, search: tuple[str, ...] = CANDIDATES) -> LabelFont:
    """The explicit font file, else the first candidate present, else STSong-Light (not embedded)."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise FontError(f"--font {explicit}: no such file")
        return _register_ttf(path)
    for candidate in search:
        path = Path(candidate)
        if path.is_file():
            return _register_ttf(path)
    if CID_FALLBACK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return LabelFont(CID_FALLBACK, None, False)
