"""The pages as HTML, from the dicts the review functions return: pure functions, no I/O.

Chinese first, English second on every label; severities and states are
badges with a name and a symbol besides their colour; everything from the
database or the request is escaped by ``html.el``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import quote

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import CloudError, NotFound
from cloud_ingest.web.freshness_views import freshness_badge, stations_cell
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import (
    ALARM_TYPE,
    EVENT_ACTION,
    LANG_NAMES,
    NOTE_ACTION,
    REVIEW,
    ROLE,
    SEVERITY,
    TRANSITION,
    WORKSHOP_STATE,
    badge,
    cell_label,
    name_of,
    pick,
    when,
    words,
)

NAV = (("/workshops", "工作坊", "Workshops"), ("/alarms", "告警队列", "Alarm queue"),
       ("/rectifications", "整改", "Rectification"), ("/reports", "报告", "Reports"),
       ("/setups", "配置与进度", "Setups"), ("/ledger", "问题台账", "Ledger"))
NAV += (("/inspections", "现场检查", "Inspections"),)  # on-site inspections and the spot checks
NAV += (("/overview", "辖区总览", "Overview"),)
NAV += (("/map", "作坊地图", "Map"),)  # the workshops' locations (map_pages)


@dataclass(frozen=True)
class Shown:
    """A page to answer: its title (zh, en), body, navigation entry and status."""

    title: tuple[str, str]
    body: Html
    active: str = ""
    status: int = 200


def error_shown(exc: CloudError) -> Shown:
    title = ("未找到", "Not found") if isinstance(exc, NotFound) else ("无法完成", "Refused")
    return Shown(title, error_page(str(exc)), status=exc.status)


def layout(title: tuple[str, str], who: Principal | None, csrf: str, body: Html, active: str = "",
           overdue: int = 0, lang: str = "zh", here: str = "/", counts: Mapping[str, int] | None = None) -> Html:
    """``lang``: the reader's (``labels.lang_of``); ``here``: this page's path and query, where the language
    switch comes back to; ``counts``: what waits for the user, by navigation entry (``triage.nav_counts``)."""
    head = el("head", None,
              Html('<meta charset="utf-8">'),
              Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
              el("title", None, f"{pick(lang, *title)} — {pick(lang, '色标云', 'sebiao cloud')}"),
              el("link", {"rel": "stylesheet", "href": "/assets/cloud.css"}))
    bar = el("header", {"class": "bar"},
             el("p", {"class": "brand"}, bi("色标云 · 远程审核", "sebiao cloud review")),
             _nav(active, overdue, counts or {}, lang) if who else None,
             _switch(lang, here),
             _user(who, csrf) if who else None)
    main = el("main", {"id": "main"}, el("h1", None, bi(*title)), body)
    return Html("<!doctype html>" + el("html", {"lang": "en" if lang == "en" else "zh-CN", "class": f"lang-{lang}"},
                                       head, el("body", None, bar, main)))


def _switch(lang: str, here: str) -> Html:
    """The language switch: a link, so it works before a login and without script (the page has none)."""
    other = "zh" if lang == "en" else "en"
    return el("a", {"class": "lang-switch", "id": "lang", "lang": "zh-CN" if other == "zh" else "en",
                    "href": f"/lang?to={other}&next={quote(here, safe='')}", "data-lang": lang},
              LANG_NAMES[other])


def _nav(active: str, overdue: int = 0, counts: Mapping[str, int] | None = None, lang: str = "zh") -> Html:
    late = el("span", {"class": "nav-count", "id": "nav-overdue", "data-count": overdue},
              el("span", {"class": "sym", "aria-hidden": "true"}, "⚠"), f"{overdue} ", bi("逾期", "overdue"))

    def waiting(href: str) -> Html | None:  # what waits for this user there: a number and its word
        n = (counts or {}).get(href, 0)
        return el("span", {"class": "nav-count", "id": f"nav-count{href.replace('/', '-')}", "data-count": n},
                  f"{n} ", bi("待处理", "to do")) if n else None
    return el("nav", {"aria-label": pick(lang, "主导航", "main")},
              [el("a", {"href": href, "aria-current": "page" if href == active else None}, bi(zh, en),
                  late if href == "/ledger" and overdue else None, waiting(href))
               for href, zh, en in NAV])


def _user(who: Principal, csrf: str) -> Html:
    return el("form", {"class": "user", "method": "post", "action": "/logout"},
              el("span", None, who.username or "", " · ", words(who.role, ROLE)),
              _csrf(csrf), el("button", {"type": "submit", "id": "logout"}, bi("退出", "Log out")))


def _csrf(token: str) -> Html:
    return el("input", {"type": "hidden", "name": "csrf", "value": token})


def error_box(message: str | None) -> Html:
    return el("p", {"class": "error", "role": "alert", "id": "error"}, message) if message else Html("")


def error_page(message: str) -> Html:
    back = el("a", {"href": "/workshops"}, bi("返回工作坊列表", "Back to the workshops"))
    return join(error_box(message), el("p", None, back))


def login_page(error: str | None, username: str = "", target: str = "/workshops") -> Html:
    return el("form", {"class": "card login", "method": "post", "action": "/login"},
              el("input", {"type": "hidden", "name": "next", "value": target}),
              el("label", {"for": "username"}, bi("用户名", "Username")),
              el("input", {"id": "username", "name": "username", "autocomplete": "username", "required": True,
                           "value": username, "autofocus": not username}),
              el("label", {"for": "password"}, bi("密码", "Password")),
              el("input", {"id": "password", "name": "password", "type": "password", "required": True,
                           "autocomplete": "current-password", "autofocus": bool(username)}),
              error_box(error),
              el("button", {"type": "submit"}, bi("登录", "Log in")))


# -- workshops -------------------------------------------------------------------------


def workshops_page(rows: list[dict], districts: list[dict]) -> Html:
    """``rows``: ``review.list_workshops`` with its compliance figures; ``districts``: ``compliance.list_districts``."""
    if not rows:
        return el("p", {"class": "empty"}, bi("没有可查看的作坊", "No workshop in your scope"))
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["district"], []).append(row)
    by_id = {d["id"]: d for d in districts}
    window = rows[0].get("misuse_30d")
    return join(el("p", {"class": "note"}, bi("误用率按最近 30 天统计", "Misuse over the last 30 days"), "：",
                   when(window["since"]), " — ", when(window["until"])) if window else "",
                [el("section", {"class": "district", "data-district": district},
                    el("h2", None, by_id.get(district, {}).get("name", district), " ",
                       el("span", {"class": "muted"}, f"({district})")),
                    _district_totals(by_id.get(district)),
                    el("div", {"class": "scroll"}, _workshop_table(group)))
                 for district, group in groups.items()])


def _district_totals(d: dict | None) -> Html:
    if d is None or "stations" not in d:
        return Html("")
    return el("p", {"class": "totals", "data-totals": d["id"]},
              f"{d['workshops']} ", bi("个作坊", "workshops"), " · ",
              bi("读卡站在线（按最后上报）", "stations online at last report"),
              f" {d['stations']['online']}/{d['stations']['total']} · ",
              bi("未消除告警", "active alarms"), f" {d['open_alarms']['total']} · ", _misuse(d.get("misuse_30d")),
              el("strong", {"class": "state bad", "data-silent": d["silent"]},
                 " · ⚠ ", bi(f"{d['silent']} 个作坊数据中断", f"{d['silent']} workshop(s): data interrupted"))
              if d.get("silent") else "")


def _workshop_table(group: list[dict]) -> Html:
    head = el("tr", None, [el("th", {"class": cls}, bi(zh, en)) for cls, zh, en in (
        ("", "作坊", "Workshop"), ("", "最后上报", "Last data"), ("num", "在线读卡站", "Stations online"),
        ("", "未消除告警", "Active alarms"),
        ("num", "30 天误用", "Misuse, 30 days"), ("num", "30 天消毒周期", "Disinfection cycles, 30 days"),
        ("", "最近培训", "Last training"))])
    body = [el("tr", {"data-workshop": r["id"]},
               el("td", None, el("a", {"href": f"/workshops/{r['id']}", "class": "record-link"}, r["name"]), " ",
                  el("span", {"class": "muted"}, r["id"]), " ",
                  el("a", {"href": f"/workshops/{r['id']}/grade", "class": "grade-link"}, bi("等级", "grade"))),
               el("td", {"class": "last-data", **cell_label("最后上报", "Last data")},
                  freshness_badge(r.get("freshness"))),
               el("td", {"class": "num", **cell_label("在线读卡站", "Stations online")},
                  stations_cell(r.get("stations"), r.get("freshness"))),
               el("td", {**cell_label("未消除告警", "Active alarms")},
                  el("a", {"href": f"/alarms?workshop={r['id']}&state=active", "class": "alarms-link"},
                     _open_alarms(r))),
               el("td", {"class": "num", **cell_label("30 天误用", "Misuse, 30 days")}, _misuse(r.get("misuse_30d"))),
               el("td", {"class": "num", **cell_label("30 天消毒周期", "Disinfection cycles, 30 days")},
                  _cycles(r.get("disinfection_30d"))),
               el("td", {**cell_label("最近培训", "Last training"), "class": "last-training"},
                  r.get("last_training_day") or bi("未上报", "none reported")))
            for r in group]
    return el("table", {"class": "grid"}, el("thead", None, head), el("tbody", None, body))


def _cycles(c: dict | None) -> Html:
    """Passed of all, with a symbol and words (never colour alone); none: the gateway reported no cycle."""
    if not c or not c["total"]:
        return el("span", {"class": "muted", "data-cycles": 0}, "— ", bi("无消毒周期", "no cycles reported"))
    ok = c["passed"] == c["total"]
    return el("span", {"class": f"state {'ok' if ok else 'bad'}", "data-cycles": c["total"],
                       "data-passed": c["passed"]},
              el("span", {"aria-hidden": "true"}, "✓" if ok else "✕"),
              " ", bi(f"合格 {c['passed']}/{c['total']}", f"passed {c['passed']} of {c['total']}"))


def _open_alarms(r: dict) -> Html:
    by = r.get("open_alarms")
    if not by:  # the figures are absent: the plain count
        return join("● " if r["active_alarms"] else "✓ ", str(r["active_alarms"]))
    parts = [el("span", {"class": f"count sev-{sev}"},  # its name is shown: no tooltip in both languages
                f"{SEVERITY[sev][2]} {by[sev]} ", bi(SEVERITY[sev][0], SEVERITY[sev][1]))
             for sev in SEVERITY if by.get(sev)]
    return join(el("strong", {"data-open": by["total"]}, str(by["total"])), " ", parts) if parts else \
        el("span", {"class": "state ok", "data-open": 0}, "✓ 0")


def _misuse(m: dict | None) -> Html:
    if not m:
        return Html("—")
    rate = "—" if m["per_100_uses"] is None else f"{m['per_100_uses']:.2f}"
    return el("span", {"data-misuse": m["misuse"]}, bi(f"{m['misuse']} 次 / {m['uses']} 次使用 · {rate} 次/百次使用",
                                                       f"{m['misuse']} in {m['uses']} uses · {rate} per 100"))


# -- one alarm -------------------------------------------------------------------------


def alarm_page(a: dict, who: Principal, csrf: str, error: str | None, extra: Html = Html(""),
               lang: str = "zh") -> Html:
    return join(error_box(error), _summary(a), _timeline(a), _review_forms(a, who, csrf), extra,
                _action_bar(a, who, lang))


def _action_bar(a: dict, who: Principal, lang: str = "zh") -> Html:
    """The actions of this page in one bar that stays at the bottom of the screen (a phone's thumb reach):
    links to the forms below, so it needs no script."""
    links: list[tuple[str, str, str, str]] = [("/alarms", "back", "← 队列", "← Queue")]
    state, rects = a["review"]["state"], a.get("rectifications") or []
    if who.role in ("inspector", "admin"):
        if state == "open":
            links.append(("#form-ack", "ack", "确认", "Acknowledge"))
        if state != "cleared":
            links.append(("#form-clear", "clear", "审结", "Clear"))
        if any(r["state"] == "answered" for r in rects):
            links.append(("#form-accept", "accept", "审核答复", "Review the answer"))
        elif not any(r["state"] in ("requested", "answered", "returned") for r in rects):
            links.append(("#form-request", "request", "要求整改", "Rectification"))
    elif who.role == "owner" and any(r["state"] in ("requested", "returned") for r in rects):
        links.append(("#form-answer", "answer", "答复整改", "Answer"))
    return el("nav", {"class": "action-bar", "id": "action-bar", "aria-label": pick(lang, "操作", "actions")},
              [el("a", {"href": href, "data-action": key}, bi(zh, en)) for href, key, zh, en in links])


def _summary(a: dict) -> Html:
    workshop = join(a.get("workshop_name") or a["workshop"], " ", el("span", {"class": "muted"}, a["workshop"]),
                    " · ", a["district"], " ", freshness_badge(a.get("freshness")))
    facts = ((("编号", "No."), el("span", {"id": "alarm-number"}, a.get("number") or a["id"])),
             (("作坊", "Workshop"), workshop),
             (("类型", "Type"), words(a["type"], ALARM_TYPE)),
             (("器具", "Tool"), el("span", {"id": "tool-name"}, name_of(a.get("tool_name"), a["tool"]))),
             (("标签", "Tag"), a["tag"] or "—"),
             (("读卡站", "Station"), el("span", {"id": "station-name"}, name_of(a.get("station_name"), a["station"]))),
             (("发生时间", "Time"), when(a["ts"])),
             (("最近", "Latest"), when(a["last_ts"])), (("次数", "Count"), str(a["count"])),
             (("作坊状态", "Workshop state"), badge("state", a["state"], WORKSHOP_STATE)),
             (("检查员审核", "Inspector's review"), join(badge("review", a["review"]["state"], REVIEW), " ",
                                                      when(a["review"]["at"]) if a["review"]["at"] else "")))
    return el("section", {"class": f"card alarm sev-{a['severity']}", "id": "summary", "data-alarm": a["id"]},
              el("p", {"class": "headline"}, badge("sev", a["severity"], SEVERITY), " ",
                 el("span", {"class": "text"}, bi(a["text"]["zh"], a["text"]["en"]))),
              el("dl", {"class": "facts"}, [join(el("dt", None, bi(*k)), el("dd", None, v)) for k, v in facts]))


LANES = (("tool", "器具事件", "Tool events", "⬚"), ("workshop", "作坊处置", "Workshop's actions", "⚑"),
         ("inspector", "检查员意见", "Inspector's notes", "✎"))


def timeline_entries(a: dict) -> list[tuple[int, str, Html]]:
    """(time, lane, content), oldest first; each source stays in its own lane."""
    out: list[tuple[int, str, Html]] = []
    for e in a["evidence"]:
        tool = name_of(a.get("tool_names", {}).get(e["tool"]), e["tool"] or e["tag"])
        station = name_of(a.get("station_names", {}).get(e["station"]), e["station"])
        out.append((e["ts"], "tool", join(words(e["action"], EVENT_ACTION), " ", tool, " @ ", station,
                                          el("span", {"class": "muted"}, f" — {e['note']}") if e["note"] else "")))
    for t in a["workshop_actions"]:
        out.append((t["at"], "workshop", join(words(t["action"], TRANSITION), " · ", t["by"],
                                              el("q", {"class": "comment"}, t["comment"]) if t["comment"] else "")))
    for n in a["inspector_notes"]:
        out.append((n["at"], "inspector", join(words(n["action"], NOTE_ACTION), " · ", n["by"],
                                               el("q", {"class": "comment"}, n["note"]) if n["note"] else "")))
    out.extend(a.get("rectification_steps", ()))  # (at, lane, html), built by rectification_pages
    return sorted(out, key=lambda item: item[0])


def _timeline(a: dict) -> Html:
    head = el("tr", None, el("th", None, bi("时间", "Time")),
              [el("th", {"class": f"lane-{key}"}, el("span", {"aria-hidden": "true"}, sym), " ", bi(zh, en))
               for key, zh, en, sym in LANES])
    rows = [el("tr", {"data-lane": lane}, el("td", None, when(at)),
               [el("td", {"class": f"lane-{key}", **cell_label(zh, en)}, content if key == lane else "")
                for key, zh, en, _ in LANES])
            for at, lane, content in timeline_entries(a)]
    return el("section", {"id": "timeline"}, el("h2", None, bi("证据时间线", "Evidence timeline")),
              el("p", {"class": "note"}, bi("三列分开：读卡站记录的器具事件、作坊自己的处置（整改措施）、"
                                           "检查员的意见。",
                                           "Three lanes kept apart: the tool's events from the stations, the "
                                           "workshop's own actions (corrective actions), the inspectors' notes.")),
              el("div", {"class": "scroll"}, el("table", {"class": "grid timeline"}, el("thead", None, head),
                                                 el("tbody", None, rows))))


def _review_forms(a: dict, who: Principal, csrf: str) -> Html:
    if who.role not in ("inspector", "admin"):
        return Html("")
    state = a["review"]["state"]
    forms = []
    if state == "open":
        forms.append(note_form("ack", f"/alarms/{a['id']}/ack", csrf, ("确认告警", "Acknowledge"),
                               ("检查意见（可选）", "Note (optional)"), required=False))
    if state != "cleared":
        forms.append(note_form("clear", f"/alarms/{a['id']}/clear", csrf, ("审结告警", "Clear"),
                               ("检查意见（必填）", "Note (required)"), required=True))
    if not forms:
        return el("p", {"class": "note"}, bi("本告警已审结。", "This alarm's review is closed."))
    return el("section", {"id": "review"}, el("h2", None, bi("审核", "Review")),
              el("p", {"class": "note"}, bi("审核只记录检查员的意见，不改变作坊自己的告警状态。",
                                           "The review records the inspector's view; it never changes the "
                                           "workshop's own alarm state.")), forms)


def note_form(name: str, action: str, csrf: str, button: tuple[str, str], label: tuple[str, str],
              required: bool, extra: Html = Html("")) -> Html:
    return el("form", {"class": "card note-form", "method": "post", "action": action, "id": f"form-{name}"},
              _csrf(csrf), el("label", {"for": f"{name}-note"}, bi(*label)),
              el("textarea", {"id": f"{name}-note", "name": "note", "maxlength": 2000, "required": required,
                              "rows": 3}), extra,
              el("button", {"type": "submit", "id": f"{name}-submit"}, bi(*button)))


def csrf_input(token: str) -> Html:
    return _csrf(token)
