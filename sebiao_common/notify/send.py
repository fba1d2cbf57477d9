"""Each channel kind's request and how its answer is read.

WeCom: POST ``{"msgtype":"markdown","markdown":{"content":...}}``, answer ``{"errcode":0}``; errcode 45009
(over 20 messages a minute) and -1 (busy) are tried again, any other errcode is a refusal (a wrong key).
DingTalk: POST ``{"msgtype":"markdown","markdown":{"title":..,"text":..}}``, signed when a secret is set
(``timestamp`` and ``sign`` = base64 HMAC-SHA256 of "timestamp\\nsecret", URL-encoded, in the query);
errcode 130101 (too fast) and -1 are tried again. Webhook: POST the notice's JSON; with a secret, the header
``X-Sebiao-Signature: sha256=<hex HMAC-SHA256 of the body>``; any 2xx is done.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3

from sebiao_common import strict_json
from sebiao_common.http_answers import OK, REFUSED, REJECTED, RETRY, TOO_LARGE, classify, parse_retry_after
from sebiao_common.notify.channels import Channel
from sebiao_common.notify.message import markdown, title

RETRY_ERRCODES = {"wecom": {45009, -1}, "dingtalk": {130101, 130102, -1}}
MAX_MARKDOWN = 4000  # WeCom takes 4096 bytes of markdown; a long comment is cut, never the head


@dataclass(frozen=True, kw_only=True)
class Result:
    outcome: str  # OK | RETRY | REFUSED (REJECTED: this one message is refused; the channel goes on)
    status: int
    reason: str
    retry_after: float | None = None


def request(channel: Channel, notice: dict[str, Any], now_ms: int) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of one message to ``channel``."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if channel.kind == "webhook":
        body = strict_json.dumps(notice).encode()
        headers["X-Sebiao-Id"] = notice["id"]
        if channel.secret:
            digest = hmac.new(channel.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Sebiao-Signature"] = f"sha256={digest}"
        return channel.url, body, headers
    text = _cut(markdown(notice, wecom=channel.kind == "wecom"))
    if channel.kind == "wecom":
        return channel.url, strict_json.dumps({"msgtype": "markdown", "markdown": {"content": text}}).encode(), \
            headers
    url = channel.url
    if channel.secret:
        url += f"&timestamp={now_ms}&sign={quote(dingtalk_sign(channel.secret, now_ms), safe='')}"
    body = {"msgtype": "markdown", "markdown": {"title": title(notice), "text": text}}
    return url, strict_json.dumps(body).encode(), headers


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _cut(text: str) -> str:
    data = text.encode()
    return text if len(data) <= MAX_MARKDOWN else data[:MAX_MARKDOWN - 3].decode("utf-8", "ignore") + "…"


def post(http: urllib3.PoolManager, channel: Channel, notice: dict[str, Any], now_ms: int) -> Result:
    url, body, headers = request(channel, notice, now_ms)
    try:
        response = http.request("POST", url, body=body, headers=headers)
    except urllib3.exceptions.HTTPError as exc:
        return Result(outcome=RETRY, status=0, reason=f"{type(exc).__name__}: {exc}"[:300])
    return judge(channel.kind, response.status, response.data, parse_retry_after(response.headers.get("Retry-After")))


def judge(kind: str, status: int, data: bytes, retry_after: float | None = None) -> Result:
    """What an answer means for this kind of channel."""
    outcome = classify(status)
    text = data.decode("utf-8", "replace")[:300]
    if outcome in (TOO_LARGE, REJECTED):
        outcome = REJECTED
    if outcome != OK or kind == "webhook":
        return Result(outcome=outcome, status=status, reason=text or f"HTTP {status}", retry_after=retry_after)
    try:  # the robots answer 200 with their verdict in errcode
        answer = strict_json.loads(text)
        errcode = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        return Result(outcome=RETRY, status=status, reason=f"not the robot's answer: {text[:100]!r}")
    if errcode == 0:
        return Result(outcome=OK, status=status, reason="")
    reason = f"errcode {errcode}: {answer.get('errmsg', '')}"[:300]
    if errcode in RETRY_ERRCODES[kind]:  # rate limited: wait a minute's share at least
        return Result(outcome=RETRY, status=status, reason=reason, retry_after=max(retry_after or 0, 3.0))
    return Result(outcome=REFUSED, status=status, reason=reason)
