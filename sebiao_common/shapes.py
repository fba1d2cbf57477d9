"""The zone shapes of domain.ColorClass.shape, drawn as vector paths.

A label names its zone in words and shows its shape, so a colour-blind worker
or a faded print still tells the zones apart (colour is never the only signal).
The gateway's labels and posters and the cloud's report PDFs draw them from here.
"""

from __future__ import annotations

import math

from reportlab.pdfgen.canvas import Canvas

SHAPES = ("circle", "diamond", "triangle", "square", "hexagon")


def _polygon(canvas: Canvas, points: list[tuple[float, float]], fill: bool, stroke: bool) -> None:
    path = canvas.beginPath()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    canvas.drawPath(path, fill=int(fill), stroke=int(stroke))


def draw_shape(canvas: Canvas, shape: str, cx: float, cy: float, size: float,
               fill: bool = True, stroke: bool = False) -> None:
    """Draw ``shape`` centred on (cx, cy) within a ``size``-point square, in the current colours."""
    r = size / 2
    if shape == "circle":
        canvas.circle(cx, cy, r, fill=int(fill), stroke=int(stroke))
    elif shape == "square":
        s = r * 0.86
        canvas.rect(cx - s, cy - s, 2 * s, 2 * s, fill=int(fill), stroke=int(stroke))
    elif shape == "diamond":
        _polygon(canvas, [(cx, cy + r), (cx + r, cy), (cx, cy - r), (cx - r, cy)], fill, stroke)
    elif shape == "triangle":
        h = r * math.sqrt(3)
        base = cy - r * 0.8
        _polygon(canvas, [(cx - r, base), (cx + r, base), (cx, base + h)], fill, stroke)
    elif shape == "hexagon":  # pointy top, like ⬢
        _polygon(canvas, [(cx + r * math.cos(math.radians(90 + 60 * k)),
                           cy + r * math.sin(math.radians(90 + 60 * k))) for k in range(6)], fill, stroke)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
