"""Text on a zone colour: black or white, whichever reads better (WCAG 2 contrast).

Dark zones (red, blue, green) get white text, yellow and white get black. The
tests require at least 4.5:1 (WCAG AA for normal text) for every zone.
"""

from __future__ import annotations

BLACK = "#000000"
WHITE = "#FFFFFF"
OUTLINE = "#444444"  # the cut line around every label: white labels stay visible on white paper


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"{hex_colour!r} is not #RRGGBB")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(background: str) -> str:
    return WHITE if contrast_ratio(background, WHITE) > contrast_ratio(background, BLACK) else BLACK
