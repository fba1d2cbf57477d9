"""The admin's section on the workshops page: each district channel's state (``notify:`` in cloud.yaml).

For every configured channel: sent and failed (given up) in the last 24 hours, waiting now, the newest error and
a state by word and shape (never colour alone): ● 正常 / ok, ◆ 重试中 / retrying, ▲ 有失败 / failed. Channels
that have sent nothing yet are listed too; rows of channels no longer configured are not.
"""

from __future__ import annotations

from sqlalchemy import Connection

from cloud_ingest.access.auth import Principal
from cloud_ingest.notify import outbox
from cloud_ingest.web.html import Html, bi, el
from cloud_ingest.web.labels import when
from sebiao_common.clock import DAY_MS

KIND_WORDS = {"wecom": ("企业微信", "WeCom"), "dingtalk": ("钉钉", "DingTalk"), "webhook": ("Webhook", "Webhook")}


def state_words(state: dict) -> tuple[str, Html]:
    if state["failed"]:
        return "failed", bi("▲ 有失败", "failed")
    if state["last_error"]:
        return "retrying", bi("◆ 重试中", "retrying")
    return "ok", bi("● 正常", "ok")


def section(conn: Connection, who: Principal, now: int) -> Html:
    """The section for an admin when the cloud has ``notify:``; nothing for anyone else."""
    settings = outbox.settings_of(conn)
    if who.role != "admin" or settings is None:
        return Html("")
    found = {(s["district"], s["channel"]): s for s in outbox.channel_states(conn, now - DAY_MS)}
    rows = []
    for place in settings.districts:
        for channel in place.channels:
            s = found.get((place.district, channel.name)) or {"sent": 0, "failed": 0, "waiting": 0,
                                                               "last_sent": None, "last_error": None}
            key, words = state_words(s)
            rows.append(el("tr", {"data-channel": f"{place.district}/{channel.name}", "data-state": key},
                           el("td", None, place.district), el("td", None, channel.name),
                           el("td", None, bi(*KIND_WORDS[channel.kind])), el("td", {"class": f"state-{key}"}, words),
                           el("td", None, str(s["sent"])), el("td", None, str(s["failed"])),
                           el("td", None, str(s["waiting"])), el("td", None, when(s["last_sent"])),
                           el("td", {"class": "error-text"}, s["last_error"] or "—")))
    head = el("tr", None, *(el("th", None, bi(zh, en)) for zh, en in (
        ("区", "district"), ("通道", "channel"), ("类型", "kind"), ("状态", "state"), ("已发送", "sent"),
        ("失败", "failed"), ("等待", "waiting"), ("最近发送", "last sent"), ("最近错误", "last error"))))
    return el("section", {"class": "notify-channels", "id": "notify-channels"},
              el("h2", None, bi("监管推送通道", "District alarm channels")),
              el("p", {"class": "note"}, bi("已发送、失败（已放弃）为最近 24 小时；等待为当前待发",
                                            "sent and failed (given up): the last 24 hours; waiting: now")),
              el("div", {"class": "scroll"}, el("table", None, el("thead", None, head), el("tbody", None, rows))))
