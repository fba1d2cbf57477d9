"""The spot checks (抽查) on the pages, for the district's inspectors and admins only.

``/spot-checks``: the draws in scope and the form that draws (district, period, the published random value);
``/spot-checks/{id}``: one draw with its seed, population and sample, each drawn workshop visited (with its
visit), not yet, or overdue (each state a word and a symbol), and how to re-run the draw.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:rowid}
from cloud_ingest.access.auth import Principal
from cloud_ingest.review import spot_checks
from cloud_ingest.store.schema import districts
from cloud_ingest.web.frame import Frame
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, when
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box

STATUS = {"visited": ("已检查", "visited", "✓"), "not_yet": ("待检查", "not yet", "○"),
          "overdue": ("已逾期", "overdue", "⚠")}


def status_badge(status: str) -> Html:
    zh, en, sym = STATUS[status]
    return el("span", {"class": f"badge spot-{status}", "data-status": status},
              el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en))


def _districts(conn: Connection, who: Principal) -> list[tuple[str, str]]:
    q = select(districts.c.id, districts.c.name).order_by(districts.c.id)
    if not who.everywhere:
        q = q.where(districts.c.id.in_(sorted(who.districts)))
    return [(r.id, f"{r.name}（{r.id}）") for r in conn.execute(q)]


def list_page(draws: list[dict], options: list[tuple[str, str]], csrf: str, error: str | None) -> Html:
    rows = [el("tr", {"data-draw": d["id"]},
               el("td", cell_label("期间", "period"), el("a", {"href": f"/spot-checks/{d['id']}"}, d["period"])),
               el("td", cell_label("辖区", "district"), d["district_name"]),
               el("td", cell_label("抽取", "drawn"), f"{len(d['sample'])} / {len(d['population'])}"),
               el("td", cell_label("抽取人", "by"), d["drawn_by"], " · ", when(d["drawn_at"]))) for d in draws]
    head = el("tr", None, [el("th", None, bi(*w)) for w in (("期间", "Period"), ("辖区", "District"),
                                                             ("抽取 / 总数", "Drawn / new"), ("抽取人", "Drawn by"))])
    table = el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "draws"}, el("thead", None, head),
                                              el("tbody", None, rows))) if draws else \
        el("p", {"class": "empty"}, bi("尚无抽查", "No draws yet"))
    form = el("form", {"class": "card note-form", "method": "post", "action": "/spot-checks", "id": "form-draw"},
              csrf_input(csrf), el("h2", None, bi("抽取（新登记作坊的 5%）", "Draw (5% of newly registered workshops)")),
              el("label", None, bi("辖区", "District"), el("select", {"name": "district", "id": "district",
                                                                       "required": True},
                                                          [el("option", {"value": k}, v) for k, v in options])),
              el("label", None, bi("期间（季度 2025-Q4 或月份 2025-12，已结束的）",
                                   "Period (a quarter 2025-Q4 or a month 2025-12, over)"),
                 el("input", {"type": "text", "name": "period", "id": "period", "required": True,
                              "pattern": r"\d{4}-(Q[1-4]|0[1-9]|1[0-2])", "placeholder": "2025-Q4"})),
              el("label", None, bi("公开随机数（如当期开奖号码，记录在案，任何人可复算）",
                                   "Published random value (e.g. a lottery draw; recorded, anyone can re-run)"),
                 el("input", {"type": "text", "name": "seed_input", "id": "seed-input", "required": True,
                              "maxlength": spot_checks.MAX_SEED_INPUT})),
              el("p", None, bi("每个辖区每个期间只能抽取一次。", "Each district and period is drawn once only.")),
              el("button", {"type": "submit", "id": "draw-submit"}, bi("抽取", "Draw")))
    return join(error_box(error), table, form)


def draw_page(d: dict) -> Html:
    facts = [(("辖区", "District"), f"{d['district_name']}（{d['district']}）"), (("期间", "Period"), d["period"]),
             (("检查期限", "Visits due by"), d["deadline"]),
             (("公开随机数", "Random value"), el("code", {"id": "seed-input"}, d["seed_input"])),
             (("种子", "Seed"), el("code", {"id": "seed"}, d["seed"])),
             (("新登记作坊", "Newly registered"), ", ".join(d["population"]) or "—"),
             (("抽取人", "Drawn by"), join(d["drawn_by"], " · ", when(d["drawn_at"]))),
             (("复算", "Re-run"), bi("一致", "reproduces") if d["reproduces"] else bi("不一致", "does NOT reproduce"))]
    rows = [el("tr", {"data-workshop": s["workshop"]},
               el("td", cell_label("作坊", "workshop"), f"{s['name'] or ''}（{s['workshop']}）"),
               el("td", cell_label("状态", "status"), status_badge(s["status"])),
               el("td", cell_label("检查", "visit"),
                  el("a", {"href": f"/inspections/{s['visit']}"}, s["day"]) if s.get("visit") else
                  el("a", {"href": f"/workshops/{s['workshop']}/inspections/new"}, bi("去检查", "Inspect"))))
            for s in d["sampled"]]
    head = el("tr", None, [el("th", None, bi(*w)) for w in (("作坊", "Workshop"), ("状态", "Status"),
                                                             ("检查", "Visit"))])
    how = el("p", {"class": "hint"}, bi(
        "复算：种子 = SHA-256(规范 JSON [辖区, 期间, 随机数])；按 SHA-256(种子:作坊编号) 从小到大取 5%（向上取整）。",
        "Re-run: seed = SHA-256(canonical JSON [district, period, value]); the 5% (rounded up) with the lowest "
        "SHA-256(seed:workshop id) are drawn."))
    return join(el("article", {"class": "card draw", "data-draw": d["id"]},
                   el("dl", {"class": "facts"}, [join(el("dt", None, bi(*k)), el("dd", None, x)) for k, x in facts])),
                el("h2", None, bi("抽中的作坊", "Drawn workshops")),
                el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "sampled"},
                                                  el("thead", None, head), el("tbody", None, rows))), how)


class SpotCheckPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/spot-checks", self.listing, methods=["GET"]),
                Route("/spot-checks", self.draw, methods=["POST"]),
                Route("/spot-checks/{id:rowid}", self.one, methods=["GET"])]

    def listing_shown(self, error: str | None = None) -> Callable:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            draws = spot_checks.list_draws(conn, who)  # 403 for owners
            return Shown(("抽查", "Spot checks"), list_page(draws, _districts(conn, who), s.csrf, error),
                         "/inspections")
        return build

    async def listing(self, request: Request) -> Response:
        return await self.frame.show(request, self.listing_shown())

    async def draw(self, request: Request) -> Response:
        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            body = {k: form.get(k, "") for k in ("district", "period", "seed_input")}
            return f"/spot-checks/{spot_checks.draw(conn, who, body, self.frame.clock())['id']}"
        return await self.frame.change(request, step, lambda message: self.listing_shown(message))

    async def one(self, request: Request) -> Response:
        did = request.path_params["id"]

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            d = spot_checks.get(conn, who, did, self.frame.clock())
            return Shown((f"抽查 {d['period']} · {d['district_name']}", f"Spot check {d['period']}"), draw_page(d),
                         "/inspections")
        return await self.frame.show(request, build)
