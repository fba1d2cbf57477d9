"""The exception tree of the cloud service (under sebiao's own ``SebiaoError``).

    SebiaoError
    ├── ConfigError            (sebiao_common.errors) the cloud config: file, field path, reason
    └── CloudError             anything the cloud refuses or fails at; ``status`` is its HTTP status
        ├── BadRequest         400: a request is malformed; names the field or parameter and the reason
        │   └── BatchError     an ingest batch is malformed; names ``items[12].seq`` and the reason
        ├── PayloadTooLarge    413: a body over the size limits
        ├── Unauthorized       401: no bearer token, or an unknown or revoked one
        ├── Forbidden          403: the caller's role may not do this
        ├── NotFound           404: does not exist, or lies outside the caller's scope
        ├── Conflict           409: refused by the current state (already acknowledged, batch id reused)
        ├── Unprocessable      422: well-formed but not acceptable (a clear without a note)
        ├── TooManyAttempts    429: the login brake: this client tried too many wrong passwords
        └── StorageError       503: the database failed (SQLAlchemy errors are converted in store/db.py)

Every message is Simplified Chinese first, English second. Third-party errors
(SQLAlchemy, argon2, gzip, json) are converted where the library is called.
"""

from __future__ import annotations

from sebiao_common.errors import ConfigError, SebiaoError

__all__ = ["ConfigError", "CloudError", "BadRequest", "BatchError", "PayloadTooLarge", "Unauthorized", "Forbidden",
           "NotFound", "Conflict", "Unprocessable", "TooManyAttempts", "StorageError"]


class CloudError(SebiaoError):
    status = 500

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")

    def body(self) -> dict:
        return {"error": str(self)}

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the body (``Retry-After``)."""
        return {}


class BadRequest(CloudError):
    """``path`` names the field or query parameter (``items[12].seq``, ``severity``), empty for the body."""

    status = 400

    def __init__(self, path: str, zh: str, en: str) -> None:
        self.path = path
        super().__init__(f"{path}: {zh}" if path else zh, f"{path}: {en}" if path else en)

    def body(self) -> dict:
        return {"error": str(self), "path": self.path}


class BatchError(BadRequest):
    """A batch refused as a whole."""


class PayloadTooLarge(CloudError):
    status = 413


class Unauthorized(CloudError):
    status = 401


class Forbidden(CloudError):
    status = 403


class NotFound(CloudError):
    status = 404


class Conflict(CloudError):
    status = 409


class Unprocessable(CloudError):
    status = 422


class TooManyAttempts(CloudError):
    """``retry_after``: whole seconds until the client may try again."""

    status = 429

    def __init__(self, wait: float) -> None:
        self.retry_after = int(wait) + 1
        super().__init__(f"尝试次数过多，请 {self.retry_after} 秒后再试",
                         f"too many attempts: try again in {self.retry_after} s")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class StorageError(CloudError):
    status = 503
