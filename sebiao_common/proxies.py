"""Which reverse proxies may say who the client is: ``trusted_proxies``, as both config files take it.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are only headers: whoever
connects can write them. A login brake that counted clients by a header
anyone may write would count nobody (a guesser changes it on every try). So
they are read only from a connection whose peer address is one of the
configured proxies (a list of addresses or CIDR networks; none by default),
by uvicorn's own ``ProxyHeadersMiddleware``: the client is then the first
address in the header, read from the right, that is not itself a trusted
proxy. The servers run uvicorn with ``proxy_headers=False``, so its
built-in default (trust 127.0.0.1 and ::1) never applies instead.
"""

from __future__ import annotations

import ipaddress

from starlette.middleware import Middleware
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sebiao_common.yamlfile import Node

MOST = 64


def parse_trusted_proxies(node: Node | None) -> tuple[str, ...]:
    """A list of IP addresses or CIDR networks (``10.0.0.5``, ``10.0.1.0/24``, ``::1``); none when absent."""
    if node is None:
        return ()
    out = []
    for item in node.items():
        value = item.string()
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise item.fail(f"{value!r} is not an IP address or CIDR network "
                            "(e.g. 10.0.1.0/24 or 127.0.0.1)") from exc
    if len(out) > MOST:
        raise node.fail(f"lists {len(out)} proxies, at most {MOST}: give a network (CIDR) instead")
    return tuple(out)


def proxy_middleware(trusted: tuple[str, ...]) -> list[Middleware]:
    """The Starlette middleware that reads the client's address and scheme from the proxy headers of
    ``trusted`` peers only (none without trusted proxies: the peer is the client)."""
    if not trusted:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted))]  # type: ignore[arg-type]


def client_address(request: Request) -> str:
    """The client's address as the brake counts it: the peer, or what a trusted proxy said it was."""
    return request.client.host if request.client else "unknown"
