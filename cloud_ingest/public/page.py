"""The public page as one small HTML document: inline critical CSS, no script, no image, no font.

A phone on mobile data opens it from the shop's QR code: one response, a few
kilobytes (``tests/cloud/test_public_page.py`` holds it under ``BUDGET``),
readable at 390 px with text of at least 14 px. Chinese first, the English
on the line below in smaller text. Colour is never the only signal: the
grade has its medal character and its name, the data state a symbol and
words. The style is inline and allowed by its hash in the
Content-Security-Policy (``CSP``); nothing else may load.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from cloud_ingest.public.summary import Summary
from cloud_ingest.web.html import Html, el, join
from sebiao_common.alarms import ALARM_TYPE_NAMES
from sebiao_common.clock import CST
from sebiao_common.grade_statement import GRADE_WORDS

BUDGET = 30 * 1024  # bytes of the whole page, the budget of a phone on a slow mobile connection
MEDAL = {"gold": "金", "silver": "银", "bronze": "铜", "orange": "橙"}
STYLE = (
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
    "sans-serif;color:#1b1f24;background:#f4f5f7}"
    "main{max-width:40rem;margin:0 auto;padding:12px}"
    "h1{font-size:1.5rem;margin:.2em 0}h2{font-size:1.1rem;margin:0 0 .4em}"
    ".en{display:block;font-size:14px;color:#57606a}"
    "section,header{background:#fff;border-radius:10px;padding:12px 14px;margin:0 0 12px;"
    "overflow-wrap:anywhere}"
    ".medal{display:inline-block;min-width:2em;padding:0 .3em;margin-right:.4em;border:2px solid #1b1f24;"
    "border-radius:1em;text-align:center;font-weight:700}"
    ".grade-gold .medal{background:#f5d76e}.grade-silver .medal{background:#d9dde3}"
    ".grade-bronze .medal{background:#e3a87a}.grade-orange .medal{background:#f59e42}"
    ".state{font-weight:700}.silent{border:3px solid #b42318;background:#fff1f0}"
    "dl{display:grid;grid-template-columns:1fr auto;gap:6px 12px;margin:0}dt{margin:0}"
    "dd{margin:0;font-weight:700;text-align:right;font-size:1.1rem}"
    "p{margin:.3em 0}ul{margin:0;padding-left:1.2em}li{margin:0 0 6px}"
    ".note{font-size:14px;color:#57606a;margin:.6em 0 0}footer{font-size:14px;color:#57606a;padding:0 4px 24px}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")


def _two(zh: str, en: str) -> Html:
    """Chinese, then the English below it."""
    return join(zh, el("span", {"class": "en", "lang": "en"}, en))


def _hhmm(ms: int, today: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, CST)
    return moment.strftime("%H:%M") if ms >= today else moment.strftime("%Y-%m-%d %H:%M")


def _hours(ms: int) -> str:
    return f"{ms / 3_600_000:.1f}"


def _document(title: str, body: Html) -> bytes:
    head = join(Html('<meta charset="utf-8">'),
                el("meta", {"name": "viewport", "content": "width=device-width,initial-scale=1"}),
                # noindex: the random address is what keeps the workshops from being listed (docs/public-page.md)
                el("meta", {"name": "robots", "content": "noindex,nofollow"}),
                el("meta", {"name": "referrer", "content": "no-referrer"}),
                el("title", None, title), el("style", None, Html(STYLE)))
    return ("<!doctype html>" + el("html", {"lang": "zh-CN"}, el("head", None, head),
                                   el("body", None, el("main", None, body)))).encode("utf-8")


def _grade(s: Summary) -> Html:
    label = _two("监管部门分级定榜（由市场监管部门评定并发布）", "Grade by the regulator (set and published by the "
                                                      "market regulator)")
    if s.grade is None:
        return el("section", {"id": "grade"}, el("h2", None, label),
                  el("p", {"data-grade": "none"}, _two("等级由监管部门发布，暂无", "Published by the regulator: "
                                                                       "none yet")))
    zh, en = GRADE_WORDS[s.grade]
    return el("section", {"id": "grade", "class": f"grade-{s.grade}"}, el("h2", None, label),
              el("p", {"data-grade": s.grade},
                 el("span", {"class": "medal", "aria-hidden": "true"}, MEDAL[s.grade]), el("strong", None, zh),
                 f" · {s.grade_effective} 起生效",
                 el("span", {"class": "en", "lang": "en"}, f"{en}, since {s.grade_effective}")))


def _feed(s: Summary, silent_minutes: int) -> Html:
    if s.last_received is None:
        return el("section", {"id": "feed", "class": "silent", "data-state": "none"},
                  el("p", {"class": "state"}, "⚠ ", _two("数据中断：云端尚未收到本作坊的数据",
                                                        "No data: the cloud has received nothing from this "
                                                        "workshop yet")))
    last = _hhmm(s.last_received, s.day_start)
    if s.silent:
        return el("section", {"id": "feed", "class": "silent", "data-state": "silent"},
                  el("p", {"class": "state"}, "⚠ ", _two(
                      f"数据中断：作坊网关已超过 {silent_minutes} 分钟未上报，最后上报 {last}。以下数字截至该时刻，"
                      "之后的情况云端不知道。",
                      f"Data interrupted: the workshop's gateway has sent nothing for over {silent_minutes} min; "
                      f"last report {last}. The figures below stop there: the cloud does not know what "
                      "happened since.")))
    return el("section", {"id": "feed", "data-state": "live"},
              el("p", {"class": "state"}, "● ", _two(f"最后上报 {last}", f"Last report {last}")))


def _today(s: Summary) -> Html:
    day = datetime.fromtimestamp(s.now / 1000, CST).strftime("%Y-%m-%d")
    rows = [
        ("events", "读卡器记录的取放", "tool moves the readers recorded", str(s.events)),
        ("raised", "告警发生", "alarms raised", str(s.raised)),
        ("cleared", "告警消除", "alarms closed", str(s.cleared)),
        ("coverage", "读卡器全部在线", "every reader online",
         f"{_hours(s.all_online_ms)} / {_hours(s.known_ms)} h" if s.stations else "—"),
    ]
    items = [join(el("dt", None, _two(zh, en)), el("dd", {"id": f"today-{key}"}, value))
             for key, zh, en, value in rows]
    note = (_two(f"共 {s.stations} 个读卡站；在线时间只算到最后一次上报。",
                 f"{s.stations} reader stations; online time counts only up to the last report.")
            if s.stations else _two("云端尚不知道本作坊的读卡站。", "The cloud knows no reader station of this "
                                                                  "workshop yet."))
    return el("section", {"id": "today"}, el("h2", None, _two(f"今日 {day}", f"Today {day}")),
              el("dl", None, items), el("p", {"class": "note"}, note))


def _closed(s: Summary) -> Html:
    title = el("h2", None, _two("最近完成的整改", "Rectifications recently closed"))
    if not s.closed:
        return el("section", {"id": "rectifications"}, title,
                  el("p", None, _two("暂无", "None")))
    items = []
    for c in s.closed:
        zh, en = ALARM_TYPE_NAMES.get(c.alarm_type, ("告警", "alarm"))
        asked, done = _day(c.requested_at), _day(c.closed_at)
        items.append(el("li", {"data-type": c.alarm_type},
                        _two(f"{done} 通过审核：{zh}（{asked} 要求整改）",
                             f"{done} accepted by the inspector: {en} (asked for on {asked})")))
    return el("section", {"id": "rectifications"}, title, el("ul", None, items))


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).strftime("%Y-%m-%d")


def render(s: Summary, silent_minutes: int) -> bytes:
    header = el("header", None, el("h1", {"id": "name"}, s.name),
                el("p", {"id": "district"}, _two(f"辖区：{s.district}", f"District: {s.district}")),
                el("p", None, _two("透明作坊 · 云端公开页", "Open workshop · public page on the cloud")))
    footer = el("footer", None, _two(
        "本页只显示作坊的读卡器与监管系统记录到的内容；读卡器看不到的事情，本页不作声明。"
        f"页面生成于 {_hhmm(s.now, s.day_start)}（北京时间）。",
        "This page shows only what the workshop's readers and the regulator's system recorded; it claims "
        f"nothing the readers cannot see. Made at {_hhmm(s.now, s.day_start)} (China Standard Time)."))
    body = join(header, _grade(s), _feed(s, silent_minutes), _today(s), _closed(s), footer)
    return _document(f"{s.name} · 透明作坊", body)


def not_found() -> bytes:
    """The one answer for every address that is not a workshop's page: it tells nothing about any workshop."""
    return _document("未找到 · Not found", el("section", None, el("h1", None, _two(
        "没有这个页面", "No such page")), el("p", None, _two(
            "请扫描作坊现场的二维码。", "Scan the QR code at the workshop."))))
