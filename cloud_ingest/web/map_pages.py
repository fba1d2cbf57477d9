"""作坊地图 / Map (``/map``): the workshops of the caller's districts on one inline SVG, no tile server, no script.

The page must work on a closed network and on a phone on mobile data: the map
is the workshops' own points (``review.workshop_map``: the overview's figures
and each record's location), drawn north up on a plain background, a few
kilobytes. Each point is a link to the workshop's page; its marker says the
workshop's state by shape and words besides its colour (▲ 数据中断, ◆ 有逾期问题,
○ 未上报, ● 数据正常) and its label adds the grade. Below: the legend, every
workshop on the map with its ``geo:`` link (在地图应用中打开: a phone hands it
to its map app), and the workshops without a location (未标注位置), each a link
to its record. ``?district=`` narrows to one district of the caller's.
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloud_ingest.access.auth import Principal
from cloud_ingest.review import workshop_map
from cloud_ingest.web.frame import Frame
from cloud_ingest.web.freshness_views import freshness_badge
from cloud_ingest.web.grade_pages import grade_badge
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import lang_of, pick, when
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown
from sebiao_common.grade_statement import GRADE_WORDS

# marker state -> (中文, English, symbol); the symbol is the marker's shape on the map
MARKER = {"silent": ("数据中断", "data interrupted", "▲"), "overdue": ("有逾期问题", "overdue items", "◆"),
          "never": ("未上报", "never reported", "○"), "fresh": ("数据正常", "data arriving", "●")}
TITLE = ("作坊地图", "Map")
R = 9  # a marker's size, in the plane's units


def _shape(state: str, x: float, y: float) -> Html:
    """The marker's own shape: a triangle, a diamond, a ring or a dot."""
    if state == "silent":
        return el("polygon", {"class": "shape",
                              "points": f"{x},{y - R - 2} {x + R + 1},{y + R - 1} {x - R - 1},{y + R - 1}"})
    if state == "overdue":
        return el("polygon", {"class": "shape",
                              "points": f"{x},{y - R - 1} {x + R + 1},{y} {x},{y + R + 1} {x - R - 1},{y}"})
    return el("circle", {"class": "shape", "cx": x, "cy": y, "r": R - 1 if state == "never" else R})


def _label_parts(p: dict) -> tuple[str, str]:
    """The point's words: its name, its state unless data arrives and nothing is overdue, overdue items, grade."""
    zh, en, sym = MARKER[p["marker"]]
    words_zh, words_en = [p["name"]], [p["name"]]
    if p["marker"] != "fresh":
        words_zh.append(f"{sym}{zh}")
        words_en.append(f"{sym} {en}")
    if p["overdue"] and p["marker"] != "overdue":
        words_zh.append(f"◆逾期 {p['overdue']}")
        words_en.append(f"◆ {p['overdue']} overdue")
    elif p["overdue"]:
        words_zh[-1] += f" {p['overdue']}"
        words_en[-1] += f" ({p['overdue']})"
    if p["grade"]:
        words_zh.append(GRADE_WORDS[p["grade"]][0])
        words_en.append(GRADE_WORDS[p["grade"]][1])
    return " · ".join(words_zh), " · ".join(words_en)


def _point(p: dict, width: int, lang: str) -> Html:
    zh, en = _label_parts(p)
    x, y = p["x"], p["y"]
    anchor = "end" if x > width * 0.6 else "start"  # labels of the right-hand points read leftwards, inside the plane
    tx = x - R - 4 if anchor == "end" else x + R + 4
    return el("a", {"href": f"/workshops/{p['id']}", "class": f"map-point marker-{p['marker']}",
                    "data-workshop": p["id"], "data-marker": p["marker"]},
              el("title", None, pick(lang, zh, en)),
              el("circle", {"class": "hit", "cx": x, "cy": y, "r": 20}),
              _shape(p["marker"], x, y),
              el("text", {"x": tx, "y": y + 4, "text-anchor": anchor, "class": "map-label"},
                 el("tspan", {"class": "zh", "lang": "zh-CN"}, zh), el("tspan", {"class": "en", "lang": "en"}, en)))


def map_svg(doc: dict, lang: str) -> Html:
    """The plane with its points, the most urgent drawn last (on top)."""
    order = {state: i for i, state in enumerate(reversed(workshop_map.MARKERS))}
    points = sorted(doc["points"], key=lambda p: (order[p["marker"]], p["id"]))
    w, h = doc["width"], doc["height"]
    return el("svg", {"class": "workshop-map", "id": "workshop-map", "viewBox": f"0 0 {w} {h}",
                      "role": "group", "aria-labelledby": "map-heading", "xmlns": "http://www.w3.org/2000/svg"},
              el("rect", {"class": "map-bg", "x": 0, "y": 0, "width": w, "height": h}),
              el("text", {"class": "map-north", "x": w - 8, "y": 18, "text-anchor": "end"}, "N ↑"),
              [_point(p, w, lang) for p in points])


def legend() -> Html:
    return el("ul", {"class": "map-legend", "id": "map-legend"},
              [el("li", {"data-marker": state},
                  el("svg", {"class": f"legend-mark marker-{state}", "viewBox": "-12 -12 24 24",
                             "aria-hidden": "true", "xmlns": "http://www.w3.org/2000/svg"}, _shape(state, 0, 0)),
                  " ", bi(zh, en)) for state, (zh, en, _) in MARKER.items()])


def _filter(doc: dict, lang: str) -> Html:
    options = [el("option", {"value": ""}, pick(lang, "全部辖区", "all districts"))] + [
        el("option", {"value": d["id"], "selected": d["id"] == doc["district"]}, d["name"])
        for d in doc["districts"]]
    return el("form", {"class": "map-filter", "method": "get", "action": "/map", "id": "map-filter"},
              el("label", {"for": "map-district"}, bi("辖区", "District")), " ",
              el("select", {"id": "map-district", "name": "district"}, options), " ",
              el("button", {"type": "submit"}, bi("筛选", "Show")))


def _state(p: dict) -> Html:
    zh, en, sym = MARKER[p["marker"]]
    overdue = (el("span", {"class": "overdue", "data-overdue": p["overdue"]},
                   " · ", bi(f"逾期问题 {p['overdue']}", f"{p['overdue']} overdue")) if p["overdue"] else "")
    return join(el("span", {"class": f"badge marker marker-{p['marker']}", "data-marker": p["marker"]},
                   el("span", {"class": "sym", "aria-hidden": "true"}, sym), bi(zh, en)), overdue,
                " ", grade_badge(p["grade"]) if p["grade"] else "")


def placed_list(points: list[dict]) -> Html:
    return el("ul", {"class": "map-list", "id": "map-placed"}, [
        el("li", {"data-workshop": p["id"]},
           el("a", {"href": f"/workshops/{p['id']}"}, p["name"]), " ",
           el("span", {"class": "muted"}, p["district_name"]), " ", _state(p), " · ",
           el("a", {"href": p["geo_uri"], "class": "geo-link"}, bi("在地图应用中打开", "open in a map app")))
        for p in sorted(points, key=lambda p: (p["district"], p["name"], p["id"]))])


def unplaced_list(rows: list[dict]) -> Html:
    if not rows:
        return el("p", {"class": "empty", "id": "map-unplaced-none"},
                  bi("所有作坊均已标注位置", "Every workshop has a location"))
    return el("ul", {"class": "map-list", "id": "map-unplaced"}, [
        el("li", {"data-workshop": r["id"]},
           el("a", {"href": f"/workshops/{r['id']}#record"}, r["name"]), " ",
           el("span", {"class": "muted"}, r["district_name"]), " ", _state(r), " ",
           freshness_badge(r["freshness"]) if r["marker"] != "never" else "")
        for r in rows])


def map_page(doc: dict, lang: str) -> Html:
    if not doc["districts"]:
        return el("p", {"class": "empty"}, bi("没有可查看的作坊", "No workshop in your scope"))
    note = el("p", {"class": "note"}, bi("截至", "As of"), " ", when(doc["generated_at"]), " · ",
              bi(f"坐标系 {doc['datum']}，上北下南；点击作坊进入其档案",
                 f"{doc['datum']} coordinates, north up; a workshop's point opens its page"))
    drawn = (map_svg(doc, lang) if doc["points"] else
             el("p", {"class": "empty", "id": "map-none"}, bi("尚无作坊标注位置", "No workshop has a location yet")))
    return join(note, _filter(doc, lang),
                el("h2", {"id": "map-heading"}, bi(f"图上的作坊（{len(doc['points'])}）",
                                                    f"Workshops on the map ({len(doc['points'])})")),
                el("div", {"class": "map-box"}, drawn), legend(),
                placed_list(doc["points"]) if doc["points"] else "",
                el("h2", {"id": "unplaced-heading"}, bi(f"未标注位置（{len(doc['unplaced'])}）",
                                                         f"No location yet ({len(doc['unplaced'])})")),
                unplaced_list(doc["unplaced"]))


class MapPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/map", self.page, methods=["GET"])]

    async def page(self, request: Request) -> Response:
        district = request.query_params.get("district") or None
        lang = lang_of(request.cookies)

        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            doc = workshop_map.workshop_map(conn, who, self.frame.clock(), self.frame.silent_ms, district)
            return Shown(TITLE, map_page(doc, lang), "/map")
        return await self.frame.show(request, build)
