"""The browser's own word on where a request came from: the CSRF check every form POST passes."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or a browser that sends no Origin on same-origin requests
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")
