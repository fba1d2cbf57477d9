"""The exception tree of the gateway (its base is ``sebiao_common/errors.py``).

    SebiaoError
    ├── ConfigError        a config file is wrong: names the file, the field path and the reason
    ├── PayloadError       one MQTT message is unusable: carries a metrics reason and the detail
    ├── AlarmActionError   an acknowledge or clear that the alarm's lifecycle does not allow
    │   └── AlarmNotFound
    ├── StoreError         the local SQLite store failed (disk full, locked, corrupt)
    ├── BrokerError        the MQTT broker refused us or cannot be reached
    └── SinkError          InfluxDB refused us or cannot be reached (``sebiao influx check``, reads)

Third-party exceptions (sqlite3, paho, yaml) are converted to these at the module
that talks to the library, so callers never catch a library's own errors.
"""

from __future__ import annotations

from sebiao_common.errors import ConfigError, SebiaoError, SinkError

__all__ = ["AlarmActionError", "AlarmNotFound", "BrokerError", "ConfigError", "PayloadError", "SebiaoError",
           "SinkError", "StoreError"]


class PayloadError(SebiaoError):
    """A message that cannot be accepted; ``reason`` is the metrics label."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


class AlarmActionError(SebiaoError):
    """An acknowledge or clear refused by the alarm lifecycle (HTTP 409 or 422)."""

    status = 409


class AlarmNotFound(AlarmActionError):
    status = 404


class StoreError(SebiaoError):
    """The local store could not read or write."""


class BrokerError(SebiaoError):
    """The MQTT broker refused the connection or could not be reached."""
