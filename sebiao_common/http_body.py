"""A request body read within its bound, before more than the bound is kept.

Starlette's ``request.body()`` keeps the whole body, however large, before the
caller can look at its size; the routes that read a body before any login or
token (the gateway console's login, the cloud's ingest, login and forms) let
three parallel gigabyte posts take a gateway to gigabytes of memory.
``read_body`` reads through ``request.stream()`` instead and raises
``BodyTooLarge`` at once when the ``Content-Length`` announces more than the
bound (nothing of the body is read), or, for a body without one (chunked), as
soon as what has streamed in passes the bound. Whatever the client still sends
is the server's to discard (uvicorn reads it and throws it away). Each side
answers ``BodyTooLarge`` with its own 413.

Both sides read every request body through this one function
(``tests/common/test_http_body.py`` checks it). Starlette's own
``max_body_size`` (1.6) counts the same way, but answers every refusal with an
English ``text/plain`` 413 in place of the route's own answer.
"""

from __future__ import annotations

from starlette.requests import Request

from sebiao_common.errors import BodyTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, at most ``limit`` bytes (``BodyTooLarge`` past it)."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
