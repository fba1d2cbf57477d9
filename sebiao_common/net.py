"""Listen addresses: ``HOST:PORT`` as the command line and the config files write them."""

from __future__ import annotations

import ipaddress

from sebiao_common.errors import ConfigError


def parse_listen(value: str, where: str = "--http", *, any_port: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:8080``) -> (host, port); ``any_port``: port 0 (a free one) is allowed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not (0 if any_port else 1) <= int(port) < 65536:
        raise ConfigError(where, "", f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
