"""MQTT accounts of a workshop: one per station, one for the gateway, one read-only monitor.

Kept in plain text in ``credentials.json`` (mode 0600), because the stations'
firmware and the gateway need the passwords themselves; Mosquitto and the
embedded broker only ever see hashes. A re-run keeps every existing password,
so stations that were already provisioned keep connecting.

Both brokers make a client's id its user name, so each account has one
session and one live connection: a second connection with the gateway's
account would knock the gateway off. Watching the traffic (``mosquitto_sub``,
tests) therefore takes the monitor account, which may read everything of the
workshop and write nothing.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common import strict_json
from sebiao_common.errors import ConfigError

CREDENTIALS_FILE = "credentials.json"
DEFAULT_GATEWAY_USER = "gateway"
# '_' is not allowed in a station id (sebiao_common.ids.SLUG): this name can never be a station's.
MONITOR_USER = "monitor_ro"
# Usernames go into the password file (``user:hash``) and the ACL file
# (``user NAME``): no ':' and no whitespace.
USERNAME = r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}"


@dataclass(frozen=True, kw_only=True)
class Account:
    username: str
    password: str


@dataclass(frozen=True, kw_only=True)
class Credentials:
    workshop: str
    gateway: Account
    stations: dict[str, Account] = field(default_factory=dict)  # station id -> account; read-only
    monitor: Account | None = None  # read-only; None in a credentials.json written before it existed

    def station(self, station_id: str) -> Account:
        try:
            return self.stations[station_id]
        except KeyError:
            raise KeyError(f"no MQTT account for station '{station_id}'") from None

    def accounts(self) -> Iterator[Account]:
        """The gateway's account first, then the monitor's, then the stations' in config order."""
        yield self.gateway
        if self.monitor is not None:
            yield self.monitor
        yield from self.stations.values()

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"workshop": self.workshop, "gateway": vars(self.gateway)}
        if self.monitor is not None:
            data["monitor"] = vars(self.monitor)
        data["stations"] = {sid: vars(acc) for sid, acc in self.stations.items()}
        return data


def new_password() -> str:
    # 24 URL-safe characters (144 bits): easy to type into a station's config.
    return secrets.token_urlsafe(18)


def gateway_username(config: WorkshopConfig) -> str:
    broker = config.broker
    return broker.username if broker and broker.username else DEFAULT_GATEWAY_USER


def ensure_credentials(config: WorkshopConfig, directory: str | Path) -> Credentials:
    """Load ``directory/credentials.json``, add what the config needs, write it back if changed.

    Existing passwords are kept; a password set in the config's ``broker``
    section wins for the gateway. Stations no longer in the config are dropped.
    """
    path = Path(directory) / CREDENTIALS_FILE
    old = load_credentials(path) if path.exists() else None
    if old is not None and old.workshop != config.workshop.id:
        raise ConfigError(str(path), "workshop",
                          f"these credentials are for workshop '{old.workshop}', the config is for "
                          f"'{config.workshop.id}'; use another directory")
    gateway_user = gateway_username(config)
    _check_username(config, gateway_user)
    configured = config.broker.password if config.broker else None
    gateway = Account(username=gateway_user, password=configured or (old.gateway.password if old else new_password()))
    stations = {
        s.id: Account(username=s.id,
                      password=old.stations[s.id].password if old and s.id in old.stations else new_password())
        for s in config.stations
    }
    monitor = Account(username=MONITOR_USER,
                      password=old.monitor.password if old and old.monitor else new_password())
    creds = Credentials(workshop=config.workshop.id, gateway=gateway, stations=stations, monitor=monitor)
    if creds != old:
        write_credentials(creds, path)
    return creds


def _check_username(config: WorkshopConfig, username: str) -> None:
    if not re.fullmatch(USERNAME, username):
        raise ConfigError(config.file, "broker.username",
                          f"{username!r} cannot be an MQTT username here: use letters, digits, "
                          "'_', '.', '@' and '-' (no ':' or spaces), at most 64 characters")
    if config.station(username) is not None:
        raise ConfigError(config.file, "broker.username",
                          f"'{username}' is a station id; the gateway needs a user name of its own")
    if username == MONITOR_USER:
        raise ConfigError(config.file, "broker.username",
                          f"'{username}' is the read-only monitor account; the gateway needs a user name of its own")


def load_credentials(path: str | Path) -> Credentials:
    """Read ``credentials.json`` (``path`` is the file or its directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / CREDENTIALS_FILE
    name = str(path)
    try:
        data = strict_json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(name, "", f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(name, "", "must be a JSON object")
    workshop = data.get("workshop")
    if not isinstance(workshop, str) or not workshop:
        raise ConfigError(name, "workshop", "must be a non-empty string")
    stations = data.get("stations")
    if not isinstance(stations, dict):
        raise ConfigError(name, "stations", "must be an object of station id -> account")
    monitor = data.get("monitor")
    return Credentials(
        workshop=workshop,
        gateway=_account(name, "gateway", data.get("gateway")),
        stations={sid: _account(name, f"stations.{sid}", acc) for sid, acc in stations.items()},
        monitor=None if monitor is None else _account(name, "monitor", monitor),
    )


def _account(file: str, where: str, value: object) -> Account:
    if not isinstance(value, dict):
        raise ConfigError(file, where, "must be an object with 'username' and 'password'")
    for key in ("username", "password"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise ConfigError(file, f"{where}.{key}", "must be a non-empty string")
    return Account(username=value["username"], password=value["password"])


def write_credentials(creds: Credentials, path: str | Path) -> None:
    """Write atomically, readable by the owner only (it holds plain-text passwords)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(strict_json.dumps(creds.to_json(), indent=2, ensure_ascii=False))
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)  # the file may have existed with a wider mode
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot write the file: {exc.strerror or exc}") from exc
