"""The display's QR code (its public address), drawn on the server as SVG with segno."""

from __future__ import annotations

import functools
import io

import segno


@functools.lru_cache(maxsize=8)
def qr_svg(url: str) -> bytes:
    """A dark-on-white QR code of ``url`` with its quiet zone, as a standalone SVG that scales."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=1, border=4, dark="#000000", light="#ffffff", omitsize=True,
        xmldecl=False, title=url)
    return out.getvalue()
