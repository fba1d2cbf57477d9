"""The HTML pages: static files from ``static/``, read once, with a few escaped fill-ins."""

from __future__ import annotations

import functools
import html
from pathlib import Path

from starlette.responses import HTMLResponse

STATIC = Path(__file__).parent / "static"


@functools.lru_cache(maxsize=None)
def _text(name: str) -> str:
    return (STATIC / name).read_text("utf-8")


def page(name: str, status: int = 200, **fill: str) -> HTMLResponse:
    """``static/name`` with each ``{{key}}`` replaced by the HTML-escaped value."""
    text = _text(name)
    for key, value in fill.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})
