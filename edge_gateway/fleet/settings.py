"""The ``fleet:`` section of workshop.yaml: firmware updates over Wi-Fi (``docs/fleet.md``, ``docs/config.md``).

    fleet:
      release_key: release_key.json  # required: the release key's public half (relative to this file);
                                     # a release whose signature it does not verify is refused
      wave_size: 5                   # stations a wave after the first station (1 .. 50)
      station_timeout_seconds: 600   # a station started and not ended in this time has failed; also how long
                                     # a wave waits for a station to be online with no unsent events
                                     # (5 .. 900; leave room for the download, a reset and the
                                     # station's own 120 s to confirm)
      port: 8080                     # where the stations fetch the release from (default: the gateway's HTTP port)
      host: 192.168.1.2              # default: omitted, the station fetches from its broker's host

Without the section the gateway offers no updates (``/api/fleet`` and ``/fw`` are 404).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from sebiao_common.errors import ConfigError
from sebiao_common.yamlfile import Node

HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
MAX_TIMEOUT_S = 900  # a download token lives at most 15 minutes (docs/fleet.md)


@dataclass(frozen=True, kw_only=True)
class FleetSettings:
    release_key: Path
    wave_size: int = 5
    station_timeout_seconds: int = 600
    port: int | None = None  # None: the gateway's HTTP port
    host: str | None = None  # None: the stations' broker host


def fleet_settings(data: object, file: str) -> FleetSettings | None:
    """The section, checked (a mistake names the file, the field and the reason), or None without it; the
    release key is read and checked too, so a wrong key stops the gateway at start, not at the first upload."""
    if data is None:
        return None
    node = Node(file, "fleet", data).mapping(
        required=("release_key",), optional=("wave_size", "station_timeout_seconds", "port", "host"))
    key_node = node.child("release_key")
    key = Path(key_node.string())
    if not key.is_absolute():
        key = Path(file).resolve().parent / key
    from edge_gateway.fleet.release import ReleaseError, load_public_key

    try:
        load_public_key(key)
    except ReleaseError as exc:
        raise ConfigError(file, "fleet.release_key", exc.en, exc.zh) from None
    defaults = FleetSettings(release_key=key)
    wave, timeout, port, host = (node.get(k) for k in ("wave_size", "station_timeout_seconds", "port", "host"))
    return FleetSettings(
        release_key=key,
        wave_size=wave.integer(1, 50) if wave is not None else defaults.wave_size,
        station_timeout_seconds=(timeout.integer(5, MAX_TIMEOUT_S) if timeout is not None
                                 else defaults.station_timeout_seconds),
        port=port.integer(1, 65535) if port is not None and port.value is not None else None,
        host=_host(host) if host is not None and host.value is not None else None,
    )


def _host(node: Node) -> str:
    value = node.string().strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if len(value) > 253 or not HOST.fullmatch(value):
        raise node.fail(f"{value!r} is not a host name or an IP address", f"{value!r} 不是主机名或 IP 地址")
    return value
