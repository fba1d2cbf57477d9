"""Which ``Host`` the gateway answers to: the check that defeats DNS rebinding.

A web page the workshop PC's browser opens from ``evil.example`` can point that
name at 127.0.0.1 a moment later (DNS rebinding); its scripts then read the
gateway as their own origin, where loopback reads need no token. The browser
still sends ``Host: evil.example``, and that is what gives it away: every
request whose ``Host`` is not one of the gateway's own names is refused (400)
before any route runs, and the display's QR code, which carries the address
the TV used, only ever carries a checked one.

Allowed (port ignored, case-insensitive):

- ``localhost`` and every loopback address (127.0.0.0/8, ``[::1]``);
- the address the connection itself arrived at (the gateway bound to
  ``0.0.0.0`` and opened by its LAN address ``http://192.168.1.20:8080``):
  an IP address in ``Host`` is never the product of rebinding, which needs a
  name the attacker controls;
- the host of ``--http`` when it names one, the host of
  ``display.public_url``, this machine's host name (and ``<name>.local``);
- the names and addresses listed in ``http.allowed_hosts`` (a reverse proxy's
  name, a name given to the PC on the router).

A request without ``Host`` (HTTP/1.0 tools) passes: a browser always sends one.

Starlette's ``TrustedHostMiddleware`` checks a list fixed at start; the
address a connection arrived at is known only per connection (a DHCP lease
may change it), so the check is written out here, with the same parsing rules.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from edge_gateway.web.server import HttpRefusals
from sebiao_common import strict_json

# A name (letters, digits, '.', '-', '_') or a bracketed IPv6 address, then an optional port.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::[0-9]{1,5})?", re.IGNORECASE)
WILDCARDS = ("0.0.0.0", "::", "")


def parse_host(value: str) -> str | None:
    """The host of a ``Host`` header, lower case, without brackets, port or final dot (None: malformed)."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    if match["v6"] is not None:
        try:
            return str(ipaddress.IPv6Address(match["v6"]))
        except ValueError:
            return None
    return match["name"].lower().rstrip(".") or None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class AllowedHosts:
    names: frozenset[str]  # host names and addresses, normalised by ``parse_host``

    def allows(self, host: str, local: str | None) -> bool:
        """``host`` from ``parse_host``; ``local``: the address the connection arrived at."""
        if host == "localhost" or host in self.names:
            return True
        address = _ip(host)
        if address is None:
            return False
        if address.is_loopback:
            return True
        local_address = _ip(local) if local else None
        if local_address is not None and getattr(local_address, "ipv4_mapped", None):
            local_address = local_address.ipv4_mapped  # a dual-stack socket names IPv4 peers ::ffff:a.b.c.d
        return local_address is not None and address == local_address


def allowed_hosts(*, listen_host: str, public_url: str | None, extra: tuple[str, ...]) -> AllowedHosts:
    """The gateway's own names: ``--http``'s host, ``display.public_url``'s, ``http.allowed_hosts``, this
    machine's host name."""
    names = set(extra)
    if listen_host not in WILDCARDS:
        names.add(listen_host)
    if public_url:
        names.add(urlsplit(public_url).hostname or "")
    machine = socket.gethostname()
    names.update({machine, f"{machine}.local"})
    parsed = {parse_host(f"[{n}]" if ":" in n else n) for n in names if n}
    return AllowedHosts(names=frozenset(p for p in parsed if p))


class HostCheck:
    """Pure ASGI: refuses (400) a request whose ``Host`` is not one of ``allowed`` (pages, API, streams)."""

    def __init__(self, app: ASGIApp, allowed: AllowedHosts, refusals: HttpRefusals) -> None:
        self.app, self.allowed, self.refusals = app, allowed, refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == b"host"]
        if not values:
            await self.app(scope, receive, send)
            return
        host = parse_host(values[0].decode("latin-1")) if len(values) == 1 else None
        server = scope.get("server")
        if host is not None and self.allowed.allows(host, server[0] if server else None):
            await self.app(scope, receive, send)
            return
        self.refusals.count("host", f"Host {values[0][:100]!r} from {scope.get('client')}")
        shown = host if host is not None else "?"
        body = strict_json.dumps({"error": f"本网关不接受主机名 {shown}：请用网关自己的地址访问，或把它加入 "
                                    f"http.allowed_hosts / this gateway does not answer to the host {shown}: "
                                    f"open it by its own address, or add the name to http.allowed_hosts"},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})
