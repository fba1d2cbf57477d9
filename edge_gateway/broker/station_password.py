"""Switching one station's MQTT password in Mosquitto's files (``credentials.json`` and ``passwd`` of
``sebiao broker-config``), for a new broker password sent to the station (``docs/fleet.md``, Secrets).

Both files are replaced atomically, the credentials first: a later ``sebiao broker-config`` or provisioning
writes the password the broker takes. Mosquitto reads ``passwd`` again on a reload (SIGHUP); the caller does
that. The embedded broker has no such files: a new broker password is for Mosquitto workshops.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from edge_gateway.broker.credentials import CREDENTIALS_FILE, Account, load_credentials, write_credentials
from edge_gateway.broker.mosquitto import PASSWD_FILE, _existing_hashes, _write, passwd_entries
from edge_gateway.broker.passwd import render_passwd
from sebiao_common.errors import ConfigError


def switch_station_password(broker_dir: str | Path, station_id: str, password: str) -> str:
    """Set ``station_id``'s password in ``broker_dir``; returns the password it had (to switch back)."""
    directory = Path(broker_dir)
    creds = load_credentials(directory / CREDENTIALS_FILE)
    if station_id not in creds.stations:
        raise ConfigError(str(directory / CREDENTIALS_FILE), f"stations.{station_id}",
                          "no MQTT account for this station: run sebiao broker-config with the workshop's config")
    old = creds.stations[station_id]
    stations = {**creds.stations, station_id: Account(username=old.username, password=password)}
    new = replace(creds, stations=stations)
    write_credentials(new, directory / CREDENTIALS_FILE)
    passwd = directory / PASSWD_FILE
    _write(passwd, render_passwd(passwd_entries(new, _existing_hashes(passwd))), 0o600)
    return old.password
