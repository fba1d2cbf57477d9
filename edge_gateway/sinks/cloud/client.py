"""``POST {url}/api/v1/ingest``: one gzip JSON batch, signed, answered as a :class:`PushResult`.

The batch is signed with the gateway's own key (``store/signing_key.py``) over
its inflated body, workshop and batch id (``sebiao_common.batch_signature``), in
the ``X-Sebiao-Signature`` header; the cloud refuses a batch without it.

The client never raises for what the cloud answers or for a lost connection
(status 0); :func:`classify` sorts the answer into what the push worker does.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

import urllib3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_gateway.sinks.cloud.config import CloudSettings
from sebiao_common import batch_signature, strict_json

# The same HTTP answers mean the same for the cloud as for InfluxDB: one classification.
from sebiao_common.http_answers import ALARM_HEADER, classify, parse_retry_after, sink_pool

_ITEM = re.compile(r"items\[(\d+)\]")
PAGE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")  # an address for a QR code: no space, query or fragment
MAX_PAGE_URL = 500


@dataclass(frozen=True, kw_only=True)
class PushResult:
    status: int  # 0: no answer (refused, reset, timeout)
    reason: str = ""
    path: str = ""  # the field a 400 names (``items[12].seq``)
    retry_after: float | None = None
    linger_seconds: float | None = None  # a 2xx's "linger_seconds": the cloud is busy, asks for fewer requests

    @property
    def outcome(self) -> str:
        return classify(self.status)

    @property
    def item(self) -> int | None:
        """The index of the item a 400 names, if it names one."""
        match = _ITEM.match(self.path)
        return int(match.group(1)) if match else None


def batch_body(workshop: str, batch_id: str, items: list[str]) -> bytes:
    """The inflated body; items are already JSON text, so a batch sent again is byte-identical."""
    head = strict_json.dumps({"v": 1, "workshop": workshop, "batch": batch_id}, separators=(",", ":"))[:-1]
    return f'{head},"items":[{",".join(items)}]}}'.encode("utf-8")


class CloudClient:
    def __init__(self, settings: CloudSettings, *, key: Ed25519PrivateKey | None = None) -> None:
        """``key``: the gateway's signing key (None: batches go unsigned, which the cloud refuses; for tests of
        the push's answers against scripted servers)."""
        self.key = key
        self.url = settings.ingest_url
        self.accepted_url = f"{settings.url}/api/v1/gateway/accepted-setup"
        self.public_page_url = f"{settings.url}/api/v1/gateway/public-page"
        self.headers = {"Authorization": f"Bearer {settings.token}", "Content-Type": "application/json",
                        "Content-Encoding": "gzip"}
        self.http = sink_pool(settings.timeout_seconds)

    def push(self, body: bytes, *, workshop: str, batch: str, alarm: bool = False) -> PushResult:
        """``alarm``: the batch carries an alarm transition (``ALARM_HEADER``: the cloud serves it first)."""
        data = gzip.compress(body, compresslevel=1)
        headers = self.headers if self.key is None else {
            **self.headers, batch_signature.HEADER: batch_signature.sign(self.key, workshop, batch, body)}
        if alarm:
            headers = {**headers, ALARM_HEADER: "1"}
        try:
            response = self.http.request("POST", self.url, body=data, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            return PushResult(status=0, reason=f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status < 300:
            return PushResult(status=response.status, linger_seconds=_asked_linger(response.data))
        reason, path = _error(response.data)
        return PushResult(status=response.status, reason=reason, path=path,
                          retry_after=parse_retry_after(response.headers.get("Retry-After")))

    def accepted_setup(self) -> dict | None:
        """``GET {url}/api/v1/gateway/accepted-setup``: the rules of the workshop's last accepted setup
        (``{"version", "rules"}``); None when the cloud does not answer it (down, refused, an older cloud)."""
        try:
            response = self.http.request("GET", self.accepted_url, headers={"Authorization": self.headers[
                "Authorization"]})
        except urllib3.exceptions.HTTPError:
            return None
        if response.status != 200:
            return None
        try:
            doc = strict_json.loads(response.data)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) and "rules" in doc else None

    def public_page(self) -> str | None:
        """``GET {url}/api/v1/gateway/public-page``: the address of the workshop's public page on the cloud (the
        display's QR code carries it); None when the cloud does not answer it (down, refused, an older cloud) or
        answers something that is not an http(s) address."""
        try:
            response = self.http.request("GET", self.public_page_url, headers={"Authorization": self.headers[
                "Authorization"]})
        except urllib3.exceptions.HTTPError:
            return None
        if response.status != 200:
            return None
        try:
            doc = strict_json.loads(response.data)
        except ValueError:
            return None
        url = doc.get("url") if isinstance(doc, dict) else None
        if not isinstance(url, str) or len(url) > MAX_PAGE_URL or not PAGE_URL.fullmatch(url):
            return None
        return url

    def close(self) -> None:
        self.http.clear()


MAX_ASKED_LINGER = 600.0  # a cloud asking for more is held to ten minutes


def _asked_linger(body: bytes) -> float | None:
    """The cloud's ``"linger_seconds"`` in an accepted batch's answer (back-pressure, docs/cloud-ingest.md), at
    most ``MAX_ASKED_LINGER``; None when absent or not a positive number (an older cloud never sends it)."""
    try:
        doc = strict_json.loads(body)
    except ValueError:
        return None
    value = doc.get("linger_seconds") if isinstance(doc, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    return min(float(value), MAX_ASKED_LINGER)


def _error(body: bytes) -> tuple[str, str]:
    """The cloud's ``{"error": ..., "path": ...}``, or the text of another server's answer."""
    text = body.decode("utf-8", "replace")
    try:
        doc = strict_json.loads(text)
    except ValueError:
        return text.strip()[:2000], ""
    if isinstance(doc, dict):
        error, path = doc.get("error"), doc.get("path")
        return (str(error)[:2000] if error is not None else text.strip()[:2000],
                path if isinstance(path, str) else "")
    return text.strip()[:2000], ""
