"""Printable colour labels (色标标签): A4 sheets of tool labels, handle bands and 20×20 mm sink stickers.

    layout.py    sizes (mm) and where each label goes on the page, pure
    contrast.py  the text colour for each zone's background (WCAG contrast)
    fonts.py     the CJK font: an installed TrueType font embedded, or reportlab's STSong-Light
    (the zone shapes are sebiao_common.shapes: the cloud's PDFs draw them too)
    qr.py        the QR matrix of a tool id (segno) drawn as vector squares
    band.py      the 90 × 12 mm band wrapped round a knife's, scissors' or brush's handle
    sheet.py     the PDF itself (reportlab)

``sebiao labels --config workshop.yaml --out labels.pdf`` is the command
(edge_gateway/commands/labels.py); hardware_docs/ tells where each label goes.
"""

from edge_gateway.tooling.labels.sheet import LabelError, render_labels

__all__ = ["LabelError", "render_labels"]
