"""Words and signs of the pages: every state has a Chinese name, an English name and a symbol,
so colour is never the only signal; times are shown and entered in China Standard Time.

The reader's language: Chinese by default, English once chosen with the switch in the header (``/lang``),
remembered in the ``LANG_COOKIE`` cookie of that browser. ``html.bi`` writes both, each marked, and the
stylesheet shows the reader's; ``pick`` chooses one where markup cannot carry both (an ``<option>``, a
title, a CSV heading). Every signed-in page speaks one language at a time, the report's figures table too
(its ``reports.text.Words``); what keeps both by design is the report's PDF and CSV, error messages and the
public page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Mapping

from cloud_ingest.errors import BadRequest
from cloud_ingest.web.html import Html, bi, el, esc
from sebiao_common.alarms import ALARM_TYPE_NAMES, SEVERITY_NAMES
from sebiao_common.clock import CST

SEVERITY = SEVERITY_NAMES  # (zh, en, symbol): each severity also has its own shape, not only its colour
ALARM_TYPE = ALARM_TYPE_NAMES
WORKSHOP_STATE = {  # the workshop's own alarm state
    "active": ("未消除", "active", "●"),
    "cleared": ("已消除", "cleared", "✓"),
}
REVIEW = {  # the inspector's review
    "open": ("待审核", "open", "○"),
    "acknowledged": ("已确认", "acknowledged", "◐"),
    "cleared": ("已审结", "cleared", "✓"),
}
TRANSITION = {
    "raised": ("发生", "raised"), "repeated": ("再次发生", "repeated"),
    "acknowledged": ("作坊确认", "acknowledged"), "cleared": ("作坊清除", "cleared"),
}
NOTE_ACTION = {"ack": ("确认", "acknowledged"), "clear": ("审结", "cleared"), "comment": ("意见", "comment")}
EVENT_ACTION = {"removed": ("取下", "removed"), "placed": ("放上", "placed"), "seen": ("读到", "seen")}
ROLE = {"admin": ("管理员", "admin"), "inspector": ("检查员", "inspector"), "owner": ("作坊主", "owner")}


LANG_COOKIE = "sebiao_lang"
LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}


def lang_of(cookies: Mapping[str, str]) -> str:
    """The reader's language from its cookie; anything else is Chinese."""
    value = cookies.get(LANG_COOKIE, "")
    return value if value in LANGS else "zh"


def pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def badge(kind: str, key: str, table: Mapping[str, tuple[str, ...]]) -> Html:
    """A badge carrying a class for its colour, a symbol for its shape and its name in both languages."""
    zh, en, *symbol = table.get(key, (key, key))
    return el("span", {"class": f"badge {kind}-{key}", "data-" + kind: key},
              el("span", {"class": "sym", "aria-hidden": "true"}, symbol[0]) if symbol else None, bi(zh, en))


def words(key: str, table: Mapping[str, tuple[str, ...]]) -> Html:
    zh, en = table.get(key, (key, key))[:2]
    return bi(zh, en)


def cell_label(zh: str, en: str) -> dict[str, str]:
    """A table cell's label on a phone (the cell shows it before its value, cloud.css), in the reader's
    language: ``data-label`` with both, as the pages had it, and one of each for the stylesheet to choose."""
    return {"data-label": f"{zh} / {en}", "data-label-zh": zh, "data-label-en": en}


def name_of(found: Mapping[str, str] | None, raw: str | None) -> Html:
    """A tool's or station's name ``{"zh", "en"}`` (``review.triage``: colour name, shape, kind and id), or its
    bare id, or "—"."""
    if not found:
        return esc(raw or "—")
    return bi(found["zh"], found["en"]) if found["zh"] != found["en"] else el("span", None, found["zh"])


def when(ms: int | None) -> Html:
    if ms is None:
        return Html("—")
    moment = datetime.fromtimestamp(ms / 1000, CST)
    return el("time", {"datetime": moment.isoformat(timespec="milliseconds")}, moment.strftime("%Y-%m-%d %H:%M:%S"))


def day_start_ms(text: str, field: str) -> int:
    """``YYYY-MM-DD`` (a date input) → ms at 00:00 China Standard Time."""
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(field, "日期格式应为 YYYY-MM-DD", "a date must be YYYY-MM-DD") from exc
    return int(datetime(day.year, day.month, day.day, tzinfo=CST).timestamp() * 1000)


def day_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).date().isoformat()


def option_words(table: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(key, f"{value[0]} / {value[1]}") for key, value in table.items()]


def option_names(table: Mapping[str, tuple[str, ...]], lang: str) -> list[tuple[str, str]]:
    """``option_words`` in the reader's language only (an ``<option>`` cannot hold ``bi``'s two spans)."""
    return [(key, pick(lang, value[0], value[1])) for key, value in table.items()]


__all__ = ["CST", "SEVERITY", "ALARM_TYPE", "WORKSHOP_STATE", "REVIEW", "TRANSITION", "NOTE_ACTION",
           "EVENT_ACTION", "ROLE", "badge", "words", "when", "day_start_ms", "day_text", "option_words",
           "LANG_COOKIE", "LANGS", "LANG_NAMES", "lang_of", "pick", "option_names", "name_of", "cell_label"]
