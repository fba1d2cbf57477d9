"""The running gateway's HTTP API as a command calls it (``sebiao commission``, ``sebiao fleet``,
``sebiao station-secrets``): JSON in and out, the bearer token (``http.token``), every failure named.

A refused token and an unreachable gateway (``Unreachable``) are ``SebiaoError`` saying what to do; any other HTTP error is
returned with its JSON answer (``{}`` when it has none), because each command words its own refusals.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError


class Unreachable(SebiaoError):
    """No answer from the gateway at all (refused, reset, timed out): it may be restarting."""


class GatewayApi:
    def __init__(self, base: str, token: str | None, timeout: float = 15.0) -> None:
        self.base, self.token, self.timeout = base.rstrip("/"), token, timeout

    def call(self, path: str, body: object = None, *, post: bool = False) -> tuple[int, object, Mapping[str, str]]:
        """(HTTP status, the answer's JSON, its headers) of GET ``path``, or of a POST of ``body`` (``{}``
        when None) when ``post`` or a body is given."""
        post = post or body is not None
        headers = {"Accept": "application/json", **({"Authorization": f"Bearer {self.token}"} if self.token else {})}
        data = None
        if post:
            data = strict_json.dumps(body if body is not None else {}).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method="POST" if post else "GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the owner's URL
                return response.status, strict_json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise SebiaoError(f"{self.base}{path}: HTTP {exc.code}: 令牌无效，请用 --token 或配置中的 http.token / "
                                  "the token is not accepted (--token, or http.token of the config)") from exc
            try:
                answer = strict_json.loads(exc.read())
            except ValueError:
                answer = {}
            return exc.code, answer, dict(exc.headers)
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(f"{self.base}: 无法连接网关 / cannot reach the gateway: {exc}") from exc
        except ValueError as exc:
            raise SebiaoError(f"{self.base}{path}: the answer is not JSON: {exc}") from exc
