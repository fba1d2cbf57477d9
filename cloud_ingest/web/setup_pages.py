"""The setups on the pages (配置与进度): every workshop's current setup version, the relaxations waiting for an
acceptance (备案), the alarms silenced meanwhile, and the seed deadline's progress; one workshop's setup with
every change as a diff and the acceptance form. The same functions as the JSON API
(``reports/setups.py``, ``review/setup_accept.py``), through the page session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.reports import setups
from cloud_ingest.reports.setup_rules import STATE_WORDS, Progress
from cloud_ingest.review.setup_accept import accept
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.web.frame import Build, Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import ALARM_TYPE, badge, when, words
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, error_box, note_form

PENDING = {"pending": ("待备案", "waiting for acceptance", "△"), "accepted": ("已备案", "accepted", "✓"),
           "none": ("无放宽", "relaxes nothing", "○")}
PROGRESS = {"done": ("按期完成", "done", "✓"), "late": ("逾期完成", "done late", "◐"),
            "behind": ("逾期未完成", "behind", "✗"), "in_progress": ("进行中", "in progress", "…"),
            "unknown": ("未上报", "not reported", "?")}
MARKING = {"labelled": ("已贴标识", "labelled"), "replaced": ("已更换", "replaced"), "pending": ("未完成", "pending")}


def _value(v: Any) -> str:
    return "—" if v is None or v == [] else v if isinstance(v, str) else canonical_json(v)


def _progress_cells(p: Progress | None) -> list[Html]:
    if p is None:
        return [el("td", None, "—"), el("td", None, "—"), el("td", None, badge("progress", "unknown", PROGRESS))]
    return [el("td", {"class": "marked"}, f"{p.marked}/{p.tools}"),
            el("td", {"class": "tagged"}, f"{p.tagged}/{p.tools}"),
            el("td", None, badge("progress", p.state, PROGRESS))]


def overview_page(rows: list[setups.WorkshopSetup]) -> Html:
    head = el("tr", None, [el("th", None, bi(*h)) for h in (
        ("区", "District"), ("作坊", "Workshop"), ("配置版本", "Setup version"), ("备案", "Acceptance"),
        ("未备案压下的告警", "Silenced, counted"), ("已标识/全部", "Marked / all"), ("已装标签/全部", "Tagged / all"),
        ("截止 2026-11-30", "Deadline 2026-11-30"))])
    body = []
    for s in rows:
        current = s.current
        state = "pending" if s.pending else "accepted" if current and current.accepted else "none"
        body.append(el("tr", {"data-workshop": s.workshop_id},
                       el("td", None, s.district_name),
                       el("td", None, el("a", {"href": f"/setups/{s.workshop_id}"},
                                         f"{s.workshop_name} ({s.workshop_id})")),
                       el("td", None, current.version if current else "—"),
                       el("td", None, badge("acceptance", state, PENDING) if current else "—"),
                       el("td", {"class": "silenced"}, s.silenced), *_progress_cells(s.progress)))
    districts = setups.district_progress(rows)
    summary = [el("li", {"data-district": d["district"]["id"]},
                  f"{d['district']['name']}：",
                  bi(f"{d['done']}/{d['workshops']} 个作坊按期完成；器具 {d['marked']}/{d['tools']} 已标识，"
                     f"{d['tagged']}/{d['tools']} 已装标签",
                     f"{d['done']}/{d['workshops']} workshops done; tools {d['marked']}/{d['tools']} marked, "
                     f"{d['tagged']}/{d['tools']} tagged"),
                  el("br"), bi("落后的作坊", "Workshops behind"), "：",
                  ", ".join(b["workshop"] for b in d["behind"]) or "—") for d in districts]
    return join(el("h2", None, bi("各区进度", "Progress per district")),
                el("ul", {"class": "card", "id": "district-progress"}, summary),
                el("h2", None, bi("各作坊", "Workshops")),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "setups"},
                                                  el("thead", None, head), el("tbody", None, body))))


def _setup_tables(setup: dict[str, Any]) -> Html:
    tools = [el("tr", {"data-tool": t.get("id")}, el("td", None, t.get("id")), el("td", None, t.get("kind")),
                el("td", None, t.get("color")), el("td", None, t.get("home")),
                el("td", None, t.get("tag") or bi("无标签（不跟踪）", "no tag (not tracked)")),
                el("td", None, words(t.get("marking") or "pending", MARKING)),
                el("td", None, t.get("marked_on") or "—"))
             for t in setup.get("tools") or []]
    rules = [el("tr", None, el("th", None, k), el("td", None, _value(v)))
             for k, v in sorted((setup.get("rules") or {}).items())]
    stations = [el("tr", None, el("td", None, s.get("id")), el("td", None, s.get("kind")),
                   el("td", None, s.get("zone"))) for s in setup.get("stations") or []]
    heads = (("器具", "Tool"), ("种类", "Kind"), ("颜色", "Colour"), ("固定位置", "Home"), ("NFC 标签", "NFC tag"),
             ("色标", "Marking"), ("完成日期", "Marked on"))
    return join(el("h3", None, bi("规则与例外", "Rules and exceptions")),
                el("table", {"class": "grid", "id": "rules"}, el("tbody", None, rules)),
                el("h3", None, bi("器具", "Tools")),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "tools"}, el("thead", None, el(
                    "tr", None, [el("th", None, bi(*h)) for h in heads])), el("tbody", None, tools))),
                el("h3", None, bi("读卡站", "Stations")),
                el("table", {"class": "grid", "id": "stations"}, el("tbody", None, stations)))


def _version(v: setups.Version, s: setups.WorkshopSetup, who: Principal, csrf: str) -> Html:
    changes = [el("li", None, el("code", None, c.path), "：", _value(c.before), " → ", _value(c.after))
               for c in v.changes] or [el("li", None, bi("首个版本", "the first version"))]
    relaxed = [el("li", {"class": "relaxation"}, bi(r.zh, r.en)) for r in v.relaxations]
    state = "pending" if v.pending else "accepted" if v.accepted else "none"
    parts: list[Html] = [
        el("h3", None, bi(f"版本 {v.version}", f"version {v.version}"), " ", badge("acceptance", state, PENDING)),
        el("p", {"class": "muted"}, bi("网关启用", "in force from"), " ", when(v.at), " · SHA-256 ", el("code", None, v.hash)),
        el("ul", {"class": "changes"}, changes)]
    if relaxed:
        parts.append(join(el("p", None, bi("放宽（使告警更少发生）", "Relaxations (make an alarm less likely)")),
                          el("ul", None, relaxed)))
    if v.accepted is not None:
        parts.append(el("p", {"class": "accepted"}, bi("已备案", "Accepted"), "：", v.accepted.by, " · ",
                        when(v.accepted.at), " · ", v.accepted.note))
    elif v.pending and who.role in ("admin", "inspector"):
        parts.append(note_form(f"accept-{v.version}", f"/setups/{s.workshop_id}/{v.version}/accept", csrf,
                               ("同意备案", "Accept (备案)"), ("备案说明", "Note"), True))
    return el("section", {"class": "card version", "id": f"version-{v.version}"}, parts)


def workshop_page(s: setups.WorkshopSetup, silenced: list[dict], who: Principal, csrf: str,
                  error: str | None = None) -> Html:
    current = s.current
    p = s.progress
    progress = (el("p", {"id": "progress"}, bi("色标进度", "Marking progress"), "：", f"{p.marked}/{p.tools} ",
                   bi("已标识或更换", "marked or replaced"), f" · {p.tagged}/{p.tools} ", bi("已装 NFC 标签", "tagged"),
                   " · ", bi(*STATE_WORDS[p.state])) if p else el("p", {"id": "progress"}, bi("未上报配置", "no setup yet")))
    quiet = [el("tr", {"class": "counted" if x["counted"] else "accepted"},
                el("td", None, when(x["ts"])), el("td", None, words(x["type"], ALARM_TYPE)),
                el("td", None, x["tool"] or "—"), el("td", None, x["station"] or "—"),
                el("td", None, x["exception"]["reason"] if x["exception"] else bi(
                    "放宽的要求（按已备案规则判定）", "a relaxed requirement (judged under the accepted rules)")),
                el("td", None, x["setup_version"] or "—"),
                el("td", None, bi("计入", "counted") if x["counted"] else bi("已备案，不计", "accepted, not counted")))
             for x in silenced]
    heads = (("时间", "Time"), ("类型", "Type"), ("器具", "Tool"), ("读卡站", "Station"), ("例外", "Exception"),
             ("配置版本", "Setup version"), ("是否计入", "Counted"))
    return join(error_box(error), progress,
                el("h2", None, bi("当前配置", "Current setup"), f" · v{current.version}" if current else ""),
                _setup_tables(current.setup) if current else el("p", {"class": "empty"}, bi("尚无", "none yet")),
                el("h2", None, bi("被例外压下的告警", "Alarms silenced by an exception")),
                el("table", {"class": "grid", "id": "silenced"}, el("thead", None, el(
                    "tr", None, [el("th", None, bi(*h)) for h in heads])), el("tbody", None, quiet))
                if quiet else el("p", {"class": "empty"}, bi("无", "none")),
                el("h2", None, bi("变更记录", "Every change")),
                [_version(v, s, who, csrf) for v in reversed(s.versions)])


class SetupPages:
    """The setup routes, over ``frame``."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/setups", self.overview, methods=["GET"]),
                Route("/setups/{id}", self.workshop, methods=["GET"]),
                Route("/setups/{id}/{version:int}/accept", self.accept, methods=["POST"])]

    async def overview(self, request: Request) -> Response:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            rows = setups.all_setups(conn, who.require("admin", "inspector", "owner"), self.frame.clock())
            return Shown(("配置与进度", "Setups and progress"), overview_page(rows), "/setups")
        return await self.frame.show(request, build)

    def _workshop(self, workshop_id: str, error: str | None = None) -> Build:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            found = setups.workshop_setup(conn, who, workshop_id, self.frame.clock())
            body = workshop_page(found, setups.silenced_list(conn, workshop_id), who, s.csrf, error)
            return Shown((f"配置：{found.workshop_name}", f"Setup: {found.workshop_id}"), body, "/setups",
                         200 if error is None else 400)
        return build

    async def workshop(self, request: Request) -> Response:
        return await self.frame.show(request, self._workshop(request.path_params["id"]))

    async def accept(self, request: Request) -> Response:
        workshop_id, version = request.path_params["id"], request.path_params["version"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            accept(conn, who, workshop_id, version, {"note": form.get("note", "")}, self.frame.clock())
            return f"/setups/{workshop_id}"
        return await self.frame.change(request, step, lambda message: self._workshop(workshop_id, message))
