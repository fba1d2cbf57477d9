"""The ``time_server:`` section of workshop.yaml: the gateway as the workshop's SNTP server.

    time_server:
      enabled: true          # answer SNTP (default true): stations ask the gateway by default
      listen: 0.0.0.0        # the address to answer on (an IPv4 address)
      port: 123              # the NTP port; binding it needs CAP_NET_BIND_SERVICE (docs/config.md)
      local_stratum: 10      # absent (default): an unsynchronised gateway says so (leap 3, stratum 16) and
                             # stations keep "clock not set"; N (1..15): serve the gateway's own clock, set by
                             # hand, at stratum N — for a workshop without internet (chrony's "local stratum 10")
      per_address_per_min: 30  # answers per client address a minute (a station asks once an hour)

The port stays 123 by default, the one every SNTP client asks (``firmware`` and any phone or scale): the
gateway's unit grants ``CAP_NET_BIND_SERVICE``. Started without it, the gateway runs on and says why it does not
answer (``/healthz`` ``clock.time_server.error``, the log); ``port: 1123`` with the stations' ``ntp_port: 1123``
is the unprivileged alternative.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sebiao_common.yamlfile import Node


@dataclass(frozen=True, kw_only=True)
class TimeServerSettings:
    enabled: bool = True
    listen: str = "0.0.0.0"
    port: int = 123  # 0: a free port (tests), reported in /healthz
    local_stratum: int | None = None
    per_address_per_min: int = 30


def parse_time_server(data: object, file: str = "workshop.yaml") -> TimeServerSettings:
    if data is None:
        return TimeServerSettings()
    node = Node(file, "time_server", data).mapping(
        optional=("enabled", "listen", "port", "local_stratum", "per_address_per_min"))
    defaults = TimeServerSettings()
    enabled, listen, port = node.get("enabled"), node.get("listen"), node.get("port")
    stratum, rate = node.get("local_stratum"), node.get("per_address_per_min")
    return TimeServerSettings(
        enabled=enabled.boolean() if enabled is not None else defaults.enabled,
        listen=_address(listen) if listen is not None else defaults.listen,
        port=port.integer(0, 65535) if port is not None else defaults.port,
        local_stratum=stratum.integer(1, 15) if stratum is not None and stratum.value is not None else None,
        per_address_per_min=rate.integer(1, 600) if rate is not None else defaults.per_address_per_min,
    )


def _address(node: Node) -> str:
    value = node.string().strip()
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise node.fail(f"{value!r} is not an IPv4 address (0.0.0.0 answers on every interface)") from None
