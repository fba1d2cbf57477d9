"""Names shown in reports: zones with their symbols and shapes, alarm types, stations, durations.

Chinese first, English second; a zone is never named by its colour alone: the
symbol and the shape of ``sebiao_common.domain`` go with it. A name is a
``Words``: the text the CSV and the PDF print (both languages), which also
keeps each language apart for the pages (one language at a time).
"""

from __future__ import annotations

from cloud_ingest.reports.figures import StationInfo
from sebiao_common.alarms import alarm_type_words
from sebiao_common.domain import COLORS

STATION_KIND_NAMES = {False: ("器具架", "rack"), True: ("清洗池", "sink")}


class Words(str):
    """A text in both languages: its value is what the CSV and the PDF print (``中文 / English`` unless
    ``text`` says otherwise); ``zh`` and ``en`` are each language alone, for a page that shows one."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str, text: str | None = None) -> "Words":
        self = super().__new__(cls, f"{zh} / {en}" if text is None else text)
        self.zh, self.en = zh, en
        return self


INFERRED_NOTE = Words("站点类型由编号推断", "station kind inferred from its id")
TOOL_COLOUR_NOTE = Words("器具编号未标明颜色，其清洗未计入", "the tool id names no colour: its washes are not counted")
NO_CYCLES = Words("本期间未收到消毒周期", "no disinfection cycle was reported in the period")
CYCLES_TEXT = Words("消毒周期：消毒设备或带温度探头的清洗池报告的周期，按结束时间计；合格由网关按温度与保持时间判定",
                    "disinfection cycles: the cycles a disinfection station or a sink with a temperature probe "
                    "reported, by their end; passed as the gateway judged the temperature and its hold")


def wash_rule_text(dwell_ms: int) -> Words:
    """What the report counts as a wash (the dwell is the one the figures used)."""
    s = dwell_ms // 1000
    return Words(f"清洗：已登记器具放入其本色清洗池，停留至少 {s} 秒后取出（按取出时间计；器具颜色由编号读出）",
                 f"wash: a registered tool placed at a sink of its colour and taken out at least {s} s later (counted "
                 "when taken out; the tool's colour read from its id)")


def zone_text(zone: str | None) -> Words:
    """``● 红色 red（圆形 circle）``; unknown and not in the id: ``未标明颜色 / no colour in the id``."""
    if zone is None:
        return Words("未标明颜色", "no colour in the id")
    c = COLORS[zone]
    return Words(f"{c.symbol} {c.zh}（{c.shape_zh}）", f"{c.symbol} {c.en} ({c.shape})",
                 f"{c.symbol} {c.zh} {c.en}（{c.shape_zh} {c.shape}）")


def station_text(st: StationInfo) -> Words:
    """``● 红色器具架 rack-red-1 / red rack``."""
    zh_kind, en_kind = ("消毒设备", "disinfection station") if st.disinfect else STATION_KIND_NAMES[st.sink]
    if st.zone is None:
        return Words(f"{zh_kind} {st.id}", f"{en_kind} {st.id}", f"{zh_kind} {st.id} / {en_kind}")
    c = COLORS[st.zone]
    return Words(f"{c.symbol} {c.zh}{zh_kind} {st.id}", f"{c.symbol} {c.en} {en_kind} {st.id}",
                 f"{c.symbol} {c.zh}{zh_kind} {st.id} / {c.en} {en_kind}")


def alarm_type_text(alarm_type: str) -> Words:
    zh, en = alarm_type_words(alarm_type)
    return Words(zh, en, f"{zh} {en}")


def joined(sep: str, *parts: str) -> Words:
    """Names put together: each language with its own halves (a plain ``str`` part is the same in both)."""
    zh = sep.join(p.zh if isinstance(p, Words) else p for p in parts)
    en = sep.join(p.en if isinstance(p, Words) else p for p in parts)
    return Words(zh, en, sep.join(parts))


def seconds(ms: int | None) -> str:
    """A duration for people: whole seconds, or ``—`` when there is none."""
    return "—" if ms is None else f"{ms / 1000:.0f}"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.2f}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """A CSV cell a spreadsheet will not run: one that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return; OWASP's list) gets a leading ``'``, which Excel and LibreOffice show as text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
