"""The QR code of a tool id: segno's matrix, drawn as dark vector squares.

Drawing the matrix ourselves keeps the code sharp at any printer resolution and
lets the tests compare it with segno's encoding of the same id.
"""

from __future__ import annotations

import segno
from reportlab.pdfgen.canvas import Canvas

QUIET = 4  # modules of white border the QR standard asks for


def matrix(text: str) -> list[list[bool]]:
    """Rows of modules (True = dark), without the quiet zone. Error level M, raised if it fits."""
    code = segno.make_qr(text, error="m", boost_error=True)
    return [[bool(v) for v in row] for row in code.matrix]


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> float:
    """Draw the code with its quiet zone in the ``size``-point square at (x, y); returns the module size."""
    rows = matrix(text)
    n = len(rows)
    module = size / (n + 2 * QUIET)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, fill=1, stroke=0)
    canvas.setFillColorRGB(0, 0, 0)
    left, top = x + QUIET * module, y + size - QUIET * module
    for r, row in enumerate(rows):
        c = 0
        while c < n:  # one rectangle per run of dark modules: a smaller file, no hairline gaps
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                canvas.rect(left + start * module, top - (r + 1) * module, (c - start) * module, module,
                            fill=1, stroke=0)
            else:
                c += 1
    return module
