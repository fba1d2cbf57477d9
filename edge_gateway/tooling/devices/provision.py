"""Station configs from the workshop config: ``DIR/<station id>/config.json``.

Each file is the firmware's ``config.json`` (schema 1, validated by the
firmware's own ``config.validate``), with the station's MQTT account from the
credentials ``sebiao broker-config`` wrote. It is what a device boots with
(``sebiao firmware deploy``) and what ``sebiao station --config`` takes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_gateway.broker.credentials import (
    CREDENTIALS_FILE,
    Credentials,
    load_credentials,
)
from edge_gateway.model.workshop import BrokerSettings, WorkshopConfig, reader_overload
from edge_gateway.tooling.station_config import validate
from sebiao_common import strict_json
from sebiao_common.errors import ConfigError

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


# station kinds that carry a DS18B20 probe (hardware_docs/probe.md); a hot-wash sink gets
# one by hand ("probe" in its config.json)
PROBE_KINDS = ("disinfect",)


@dataclass(frozen=True, kw_only=True)
class ProvisionOptions:
    broker_url: str | None = None  # default: the workshop config's broker, else the embedded default
    reader: str = "mfrc522"  # for the stations whose workshop entry has no `reader`
    wifi_ssid: str = ""
    wifi_password: str = ""


def load_station_credentials(config: WorkshopConfig, directory: str | Path) -> Credentials:
    path = Path(directory)
    creds = load_credentials(path)
    name = str(path / CREDENTIALS_FILE if path.is_dir() else path)
    if creds.workshop != config.workshop.id:
        raise ConfigError(name, "workshop", f"these credentials are for workshop '{creds.workshop}', "
                                            f"the config is for '{config.workshop.id}'")
    for station in config.stations:
        if station.id not in creds.stations:
            raise ConfigError(name, f"stations.{station.id}", "no MQTT account for this station: run "
                                                              "`sebiao broker-config` again with this config")
    return creds


def broker_address(config: WorkshopConfig, url: str | None) -> tuple[str, int]:
    chosen = url or (config.broker.url if config.broker else DEFAULT_BROKER)
    where = "--broker" if url else (f"{config.file}: broker.url" if config.broker else "default broker")
    try:
        settings = BrokerSettings.parse(chosen)
    except ValueError as exc:
        raise ConfigError(where, "", str(exc)) from None
    if settings.tls:
        raise ConfigError(where, "", f"{chosen}: the station firmware speaks plain MQTT only (mqtt://)")
    return settings.host, settings.port


def station_reader(config: WorkshopConfig, station_id: str, options: ProvisionOptions) -> str:
    """The station's own ``reader`` from the workshop config, else ``--reader``; ConfigError if its rack homes
    more tools than that reader follows (an MFRC522 8, a PN532 2)."""
    station, own = config.station(station_id), config.reader(station_id)
    if station is None or own is not None:
        return own or options.reader
    problem = reader_overload(station, options.reader, config.tools)
    if problem is not None:
        index = config.stations.index(station)
        raise ConfigError(config.file, f"stations[{index}]", f"no 'reader' here, so --reader {options.reader}: "
                          + problem[0], f"未写 'reader'，按 --reader {options.reader}：" + problem[1])
    return options.reader


def station_config(config: WorkshopConfig, creds: Credentials, station_id: str,
                   options: ProvisionOptions) -> dict[str, Any]:
    host, port = broker_address(config, options.broker_url)
    account = creds.station(station_id)
    reader = station_reader(config, station_id, options)
    data = {
        "schema": 1,
        "workshop": config.workshop.id,
        "station": station_id,
        "wifi": {"ssid": options.wifi_ssid, "password": options.wifi_password},
        "broker": {"host": host, "port": port, "username": account.username, "password": account.password},
        "reader": {"type": reader},
    }
    station = config.station(station_id)
    if station is not None and str(station.kind.value) in PROBE_KINDS:
        data["probe"] = {}  # the firmware's defaults: GPIO 4, 45 °C, every 5 s, 2 h at most
    validate(data, f"{station_id}/config.json")  # the firmware's own check: refuse what a station would
    return data


def write_station_configs(config: WorkshopConfig, creds: Credentials, out: str | Path,
                          options: ProvisionOptions) -> list[Path]:
    written = []
    for station in config.stations:
        data = station_config(config, creds, station.id, options)
        written.append(_write_private(Path(out) / station.id / "config.json",
                                      strict_json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
    return written


def _write_private(path: Path, text: str) -> Path:
    """Atomically, mode 0600: the file holds the station's MQTT and Wi-Fi passwords."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot write the station config: {exc.strerror or exc}") from None
    return path
