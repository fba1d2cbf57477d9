"""The display's QR code (its public address), drawn on the server as SVG with segno."""

from __future__ import annotations

import functools
import io


@functools.lru_cache(maxsize=8)
def qr_svg(url: str) -> bytes:
    """A dark-on-white QR code of ``url`` with its quiet zone, as a standalone SVG that scales."""
    import segno  # here: only a display that shows its address needs it (docs/performance.md, "Memory")

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=1, border=4, dark="#000000", light="#ffffff", omitsize=True,
        xmldecl=False, title=url)
    return out.getvalue()
