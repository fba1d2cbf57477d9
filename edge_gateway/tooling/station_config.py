"""Reading a station's ``config.json`` on the host, with the firmware's own validation.

The firmware's ``config.load`` gives defaults for a missing file (a device must
boot); on the host a missing or broken file is an error naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_gateway.model.workshop import BrokerSettings
from edge_gateway.tooling.firmware_files import use_firmware
from sebiao_common import strict_json
from sebiao_common.errors import ConfigError


def validate(data: Any, file: str) -> dict[str, Any]:
    """The full station config (defaults filled in) or ConfigError naming the file and the paths."""
    use_firmware()
    from sebiao_station import config as fw_config

    try:
        return fw_config.validate(data)
    except fw_config.ConfigError as exc:
        raise ConfigError(file, "", str(exc)) from None


def load_station_config(path: str | Path) -> dict[str, Any]:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the station config: {exc.strerror or exc}") from None
    try:
        data = strict_json.loads(text)
    except ValueError as exc:
        raise ConfigError(name, "", f"not valid JSON: {exc}") from None
    return validate(data, name)


def override_broker(cfg: dict[str, Any], url: str) -> dict[str, Any]:
    """``--broker mqtt://HOST:PORT``: the station's host and port, its credentials kept."""
    try:
        settings = BrokerSettings.parse(url)
    except ValueError as exc:
        raise ConfigError("--broker", "", str(exc)) from None
    if settings.tls:
        raise ConfigError("--broker", "", f"{url}: the station firmware speaks plain MQTT only (mqtt://)")
    cfg = strict_json.loads(strict_json.dumps(cfg))
    cfg["broker"]["host"], cfg["broker"]["port"] = settings.host, settings.port
    return cfg
