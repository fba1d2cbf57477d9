"""The local store's health as the pipeline meets it at each commit, and its ``store_failed`` gateway alarm.

A commit that fails (a full disk, an I/O error) loses nothing: the batch is not
acknowledged, the broker keeps its messages, and the pipeline tries again each
second. But the workshop must know: ``/healthz`` says ``degraded`` with the
error, and the ``store_failed`` alarm (subject ``store``, critical) is raised.
The alarm is written like any other when a small write still fits; when not
even that fits, its picture is published on MQTT from memory and it is written,
raised at the first failure, as soon as the store takes writes again. The first
batch that commits clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.model.rules import Clear, Raise
from sebiao_common.alarms import GatewayAlarmType, Severity

STORE_FAILED = GatewayAlarmType.STORE_FAILED.value
SUBJECT = "store"


@dataclass(frozen=True, kw_only=True)
class StoreStatus:
    """What ``/healthz`` shows of the store."""

    ok: bool
    error: str | None
    since: int | None  # gateway clock, ms: the first failed commit of this spell
    failed_commits: int  # in this spell


class StoreHealth:
    """Written by the pipeline thread, read by /healthz from any thread (one reference swap per change)."""

    def __init__(self) -> None:
        self.status = StoreStatus(ok=True, error=None, since=None, failed_commits=0)
        self.alarm: str | None = None  # this spell's alarm: None, "published" (from memory) or "stored"

    @property
    def ok(self) -> bool:
        return self.status.ok

    def failed(self, error: str, now: int) -> None:
        s = self.status
        self.status = StoreStatus(ok=False, error=error[:500], since=s.since if not s.ok else now,
                                  failed_commits=s.failed_commits + 1)

    def recovered(self) -> None:
        self.status = StoreStatus(ok=True, error=None, since=None, failed_commits=0)
        self.alarm = None

    def raise_decision(self) -> Raise:
        s = self.status
        return Raise(type=STORE_FAILED, severity=Severity.CRITICAL.value, subject=SUBJECT, tool=None, tag=None,
                     station=None, ts=s.since or 0,
                     text_zh=f"网关本地存储写入失败（{s.error}）：磁盘已满或损坏？事件暂存在消息服务器，"
                             "未确认、未丢失，存储恢复后自动写入。",
                     text_en=f"The gateway cannot write its store ({s.error}): a full or failing disk? The events "
                             "wait at the broker, unacknowledged and not lost, and are written once it takes "
                             "writes again.")

    @staticmethod
    def clear_decision() -> Clear:
        return Clear(type=STORE_FAILED, subject=SUBJECT, reason_zh="本地存储恢复写入",
                     reason_en="the store takes writes again")
