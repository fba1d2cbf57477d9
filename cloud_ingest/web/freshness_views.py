"""最后上报 / 数据中断 on the inspectors' pages: pure rendering of ``reports.freshness``' dicts.

Freshness comes first: a workshop's stations are named only "as of the last
report", and 全部在线 / all online only when that report is fresh. A silent
workshop reads 数据中断 / data interrupted everywhere, with a symbol and its
words besides the colour.
"""

from __future__ import annotations

from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, when

STATE = {"fresh": ("数据正常", "data arriving", "●"), "silent": ("数据中断", "data interrupted", "⚠"),
         "never": ("未上报", "never reported", "—")}


def silence_words(ms: int) -> str:
    """``ms`` of silence as 3 天 4 小时 / 3 d 4 h, 2 小时 5 分 / 2 h 5 min, 12 分 / 12 min."""
    return " / ".join(silence_parts(ms))


def silence_parts(ms: int) -> tuple[str, str]:
    """``silence_words`` as its Chinese and its English, for ``bi``."""
    minutes = ms // 60_000
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} 天 {hours} 小时", f"{days} d {hours} h"
    if hours:
        return f"{hours} 小时 {mins} 分", f"{hours} h {mins} min"
    return f"{mins} 分", f"{mins} min"


def freshness_badge(f: dict | None) -> Html:
    """The workshop's freshness: its state as a badge, then when the cloud last received its data."""
    if not f:
        return Html("")
    zh, en, sym = STATE[f["state"]]
    badge = el("span", {"class": f"badge fresh-{f['state']}", "data-fresh": f["state"]},
               el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en))
    if f["last_received"] is None:
        return el("span", {"class": "freshness"}, badge)
    zh_for, en_for = silence_parts(f["silent_ms"])
    since = (el("span", {"class": "silent-for"}, bi(f"（已中断 {zh_for}）", f"(silent for {en_for})"))
             if f["state"] == "silent" else "")
    return el("span", {"class": "freshness"}, badge, " ",
              el("span", {"class": "last-received", "data-last-received": f["last_received"]},
                 bi("最后上报", "last data"), " ", when(f["last_received"])), since)


def stations_cell(s: dict | None, f: dict | None) -> Html:
    """The stations' count, said only of the last report; 全部在线 only while the data is fresh."""
    if not s:
        return Html("—")
    up, total = s["online"], s["total"]
    fresh = f is None or f["state"] == "fresh"
    cls, sym, zh, en = (("muted", "—", "未上报", "none reported") if not total else
                        ("bad", "⚠", "数据中断", "data interrupted") if not fresh else
                        ("ok", "✓", "全部在线", "all online") if up == total else
                        ("bad", "✕", "有离线", "some offline"))
    at_last = el("span", {"class": "muted at-last"}, bi("（最后上报时）", "(at last report)")) if f and not fresh else ""
    return el("span", {"class": f"state {cls}", "data-online": up, "data-total": total,
                       "data-claim": "all-online" if cls == "ok" else cls},
              el("span", {"aria-hidden": "true"}, sym), f" {up}/{total} ",
              el("span", {"class": "claim"} if not fresh else {"class": "sr-only"}, bi(zh, en)), at_last)


def stations_table(f: dict, rows: list[dict], outages: list[dict] | None = None) -> Html:
    """The workshop page's stations: each one's state named with the time of its last status; then the
    outages (数据中断记录) with their ledger items."""
    head = el("h2", None, bi("数据上报", "Data received"))
    summary = el("p", {"class": "card", "id": "freshness", "data-fresh": f["state"]}, freshness_badge(f))
    if not rows:
        return join(head, summary, el("p", {"class": "empty"}, bi("尚无读卡站", "No station yet")),
                    outages_table(outages))
    header = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("读卡站", "Station"), ("类型", "Kind"), ("色区", "Zone"), ("最后状态", "Last status"))])
    body = [el("tr", {"data-station": r["station"]},
               el("td", cell_label("读卡站", "Station"), r["station"]),
               el("td", cell_label("类型", "Kind"), r["kind"] or "—"),
               el("td", cell_label("色区", "Zone"), r["zone"] or "—"),
               el("td", {**cell_label("最后状态", "Last status"), "data-online": _online(r["online"])},
                  _station_state(r)))
            for r in rows]
    note = el("p", {"class": "note"}, bi("读卡站的在线状态只是其最后一次上报时的状态。",
                                        "A station's online state is only what its last report said."))
    return join(head, summary, note, el("div", {"class": "scroll"}, el(
        "table", {"class": "grid", "id": "stations"}, el("thead", None, header), el("tbody", None, body))),
        outages_table(outages))


def outages_table(outages: list[dict] | None) -> Html:
    """数据中断记录: when each silence began, when data came back (or still silent), its ledger item."""
    if not outages:
        return Html("")
    header = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
        ("中断起点（最后上报）", "Silent since (last data)"), ("恢复上报", "Data back"), ("问题台账", "Ledger item"))])
    body = [el("tr", {"data-outage": o["id"], "data-ended": "yes" if o["ended_at"] else "no"},
               el("td", cell_label("中断起点", "Silent since"), when(o["started_at"])),
               el("td", cell_label("恢复上报", "Data back"),
                  when(o["ended_at"]) if o["ended_at"] else el("strong", {"class": "state bad"},
                                                               "⚠ ", bi("仍中断", "still silent"))),
               el("td", cell_label("问题台账", "Ledger item"),
                  el("a", {"href": f"/ledger/{o['item']}"}, f"#{o['item']}") if o["item"] else "—"))
            for o in outages]
    return join(el("h3", None, bi("数据中断记录", "Data interruptions")), el("div", {"class": "scroll"}, el(
        "table", {"class": "grid", "id": "outages"}, el("thead", None, header), el("tbody", None, body))))


def _online(online: bool | None) -> str:
    return "unknown" if online is None else "yes" if online else "no"


def _station_state(r: dict) -> Html:
    if r["online"] is None or r["status_ts"] is None:
        return el("span", {"class": "muted"}, bi("未上报状态", "no status yet"))
    zh, en, sym = ("在线", "online", "✓") if r["online"] else ("离线", "offline", "✕")
    return join(el("span", {"aria-hidden": "true"}, sym), " ", bi(zh, en), " · ",
                bi("上报于", "at last report"), " ", when(r["status_ts"]))
