"""A new Wi-Fi network or broker password for one station: the request checked as the station checks it
(firmware/sebiao_station/secrets.py ``parse``), the command, and what the station's status says of it (pure).

The station keeps the old set until the new one has connected (``docs/fleet.md``, Secrets); the version of a
request is chosen by the caller (random: two requests with the same values are still two attempts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_gateway.model.protocol import encode_command

VERSION = re.compile(r"[a-z0-9]{1,16}")
STATES = ("pending", "applied", "dropped", "refused")  # the station's "secrets": {"state"}


class SecretsRefused(ValueError):
    """The request's field and why (English; the station would refuse it with the same words)."""


@dataclass(frozen=True, kw_only=True)
class SecretsRequest:
    wifi_ssid: str | None = None
    wifi_password: str | None = None
    broker_password: str | None = None

    def __repr__(self) -> str:  # never the values: a request may reach a log line
        return (f"SecretsRequest(wifi={'set' if self.wifi_ssid is not None else 'unchanged'}, "
                f"broker_password={'set' if self.broker_password is not None else 'unchanged'})")


def _text(value: object, where: str, low: int, high: int) -> str:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise SecretsRefused(f"{where}: must be a string of {low}..{high} characters")
    return value


def parse_request(body: object) -> SecretsRequest:
    """``{"wifi": {"ssid", "password"}, "broker": {"password"}}`` (either or both), or SecretsRefused."""
    if not isinstance(body, dict):
        raise SecretsRefused("the body must be a JSON object with 'wifi' and/or 'broker'")
    unknown = sorted(set(body) - {"wifi", "broker"})
    if unknown:
        raise SecretsRefused(f"{unknown[0]}: unknown key (known keys: wifi, broker)")
    wifi, broker = body.get("wifi"), body.get("broker")
    if wifi is None and broker is None:
        raise SecretsRefused("wifi, broker: give at least one")
    ssid = password = broker_password = None
    if wifi is not None:
        if not isinstance(wifi, dict) or sorted(wifi) != ["password", "ssid"]:
            raise SecretsRefused('wifi: must be {"ssid", "password"}')
        password = _text(wifi["password"], "wifi.password", 0, 63)
        if 0 < len(password) < 8:
            raise SecretsRefused('wifi.password: WPA2 needs 8..63 characters ("" for an open network)')
        ssid = _text(wifi["ssid"], "wifi.ssid", 1, 32)
    if broker is not None:
        if not isinstance(broker, dict) or list(broker) != ["password"]:
            raise SecretsRefused('broker: must be {"password"}')
        broker_password = _text(broker["password"], "broker.password", 1, 64)
    return SecretsRequest(wifi_ssid=ssid, wifi_password=password, broker_password=broker_password)


def secrets_command(version: str, request: SecretsRequest) -> bytes:
    if not VERSION.fullmatch(version):
        raise SecretsRefused("version: 1..16 lowercase letters and digits")
    fields: dict[str, object] = {"version": version}
    if request.wifi_ssid is not None:
        fields["wifi"] = {"ssid": request.wifi_ssid, "password": request.wifi_password or ""}
    if request.broker_password is not None:
        fields["broker"] = {"password": request.broker_password}
    return encode_command("secrets", **fields)


def secrets_state(health: object, version: str) -> tuple[str | None, str | None]:
    """(state, error) the station's status reports for the request ``version``; (None, None) before it does."""
    report = health.get("secrets") if isinstance(health, dict) else None
    if not isinstance(report, dict) or report.get("version") != version:
        return None, None
    state, error = report.get("state"), report.get("error")
    return (state if state in STATES else None), (error if isinstance(error, str) else None)
