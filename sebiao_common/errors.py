"""The base of sebiao's exception tree, shared by the gateway and the cloud.

    SebiaoError            every error sebiao raises on purpose
    ├── ConfigError        a config file is wrong: names the file, the field path and the reason
    ├── JsonError          text that is not strict JSON, with the path to the fault (``strict_json``;
    │                      a ValueError too)
    ├── BodyTooLarge       a request body over its bound (``http_body``): each side answers 413
    └── SinkError          an HTTP sink (InfluxDB) refused us or cannot be reached

Each side adds its own branches (``edge_gateway/errors.py``,
``cloud_ingest/errors.py``). Third-party exceptions are converted to these at
the module that talks to the library, so callers never catch a library's own.
"""

from __future__ import annotations


class SebiaoError(Exception):
    """Base of every error sebiao raises on purpose."""


class ConfigError(SebiaoError):
    """A config file's mistake: the file, the field path and the reason. With ``zh`` (the reason in Chinese) the
    line says it first, naming the field, then the English as before, whole::

        tools[3].color：'purple' 不是可选值之一（…） / workshop.yaml: tools[3].color: 'purple' is not one of: …
    """

    def __init__(self, file: str, path: str, reason: str, zh: str = "") -> None:
        self.file, self.path, self.reason, self.zh = file, path, reason, zh
        where = f"{file}: {path}: " if path else f"{file}: "
        first = (f"{path}：{zh} / " if path else f"{zh} / ") if zh else ""
        super().__init__(first + where + reason)


class BodyTooLarge(SebiaoError):
    """A request body over ``limit`` bytes, refused before it was read whole."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"请求体超过 {limit} 字节 / the request body is over {limit} bytes")


class SinkError(SebiaoError):
    """InfluxDB refused a request or could not be reached; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        self.status = status
        super().__init__(message)
