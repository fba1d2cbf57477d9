"""The workshop's page (作坊档案): its record (登记信息), the form that edits it, who changed what, and its staff
training records (培训记录).

``/workshops/{id}`` shows the record to everyone who sees the workshop; an
empty field reads 未填写 / not filled in. An inspector of the district or an
admin of it gets the form (``POST /workshops/{id}/record``, which calls
``review.workshop_records.save_record`` with the session user's
``Principal``: the roles, the scope and every refusal are that function's)
and the training section (``review.trainings``: the last training day, the
people trained, each person's last training and the records). Staff names are
never shown to an owner here, nor on any public page.
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sebiao_common.row_ids  # noqa: F401 - registers {id:slug}, which the routes below name
from cloud_ingest.access.auth import Principal
from cloud_ingest.reports import freshness
from cloud_ingest.review import locations, silence, trainings, workshop_records
from cloud_ingest.review.workshop_records import CATEGORIES, EMPTY
from cloud_ingest.web.frame import Build, Frame
from cloud_ingest.web.freshness_views import stations_table
from cloud_ingest.web.html import Html, bi, el, join
from cloud_ingest.web.labels import cell_label, lang_of, pick, when
from cloud_ingest.web.session import Session
from cloud_ingest.web.views import Shown, csrf_input, error_box

FIELD_WORDS = {"registration": ("登记证号", "Registration no."), "category": ("产品类别", "Product category"),
               "category_other": ("其他类别说明", "Other category"), "address": ("地址", "Address"),
               "responsible": ("负责人", "Responsible person"), "phone": ("联系电话", "Phone"),
               "inspector": ("责任检查员", "Inspector assigned")}
FIELD_WORDS |= {"latitude": ("纬度（WGS-84，十进制度）", "Latitude (WGS-84, decimal degrees)"),
                "longitude": ("经度（WGS-84，十进制度）", "Longitude (WGS-84, decimal degrees)")}  # migration 0018


def _empty() -> Html:
    return el("span", {"class": "muted empty-field"}, bi(*EMPTY))


def _value(text: str | None) -> Html:
    return el("span", None, text) if text else _empty()


def geo_link(doc: dict) -> Html:
    """The ``geo:`` link a phone hands to its map app; "未标注位置" without coordinates."""
    if not doc["geo_uri"]:
        return el("span", {"class": "muted no-location", "id": "no-location"}, bi("未标注位置", "no location"))
    return el("a", {"href": doc["geo_uri"], "class": "geo-link", "id": "geo-link"},
              bi("在地图应用中打开", "open in a map app"))


def _coord(degrees: float | None) -> str:
    """Decimal degrees as the record holds them (six digits at most), for showing and for the form."""
    return "" if degrees is None else locations.text(round(degrees * locations.SCALE))


def location_fact(doc: dict) -> Html:
    if doc["latitude"] is None:
        return geo_link(doc)
    return join(el("span", {"class": "coords", "data-lat": doc["latitude"], "data-lon": doc["longitude"]},
                   f"{_coord(doc['latitude'])}, {_coord(doc['longitude'])} (WGS-84)"), " · ", geo_link(doc), " · ",
                el("a", {"href": "/map"}, bi("作坊地图", "map")))


def record_facts(doc: dict) -> Html:
    category = (join(bi(doc["category_zh"], doc["category_en"]),
                     f"：{doc['category_other']}" if doc["category_other"] else "") if doc["category"] else _empty())
    inspector = doc["inspector"]["username"] if doc["inspector"] else None
    facts = ((FIELD_WORDS["registration"], _value(doc["registration"])), (FIELD_WORDS["category"], category),
             (FIELD_WORDS["address"], _value(doc["address"])), (FIELD_WORDS["responsible"], _value(doc["responsible"])),
             (FIELD_WORDS["phone"], _value(doc["phone"])), (FIELD_WORDS["inspector"], _value(inspector)),
             (("位置", "Location"), location_fact(doc)))
    return el("dl", {"class": "facts card", "id": "record"},
              [join(el("dt", None, bi(*k)), el("dd", {"data-field": name}, v))
               for name, (k, v) in zip(("registration", "category", "address", "responsible", "phone", "inspector",
                                        "location"), facts)])


def _input(name: str, value: str | None, **attrs: object) -> Html:
    zh, en = FIELD_WORDS[name]
    return el("label", {"for": f"record-{name}"}, bi(zh, en),
              el("input", {"id": f"record-{name}", "name": name, "value": value or "", **attrs}))


def record_form(doc: dict, inspectors: list[dict], csrf: str, lang: str) -> Html:
    categories = [el("option", {"value": ""}, pick(lang, "— 未填写 —", "— not filled in —"))] + [
        el("option", {"value": code, "selected": code == doc["category"]}, pick(lang, zh, en))
        for code, (zh, en) in CATEGORIES.items()]
    chosen = doc["inspector"]["id"] if doc["inspector"] else None
    people = [el("option", {"value": ""}, pick(lang, "— 未指定 —", "— none —"))] + [
        el("option", {"value": str(p["id"]), "selected": p["id"] == chosen}, p["username"]) for p in inspectors]
    return el("form", {"class": "card note-form record-form", "method": "post",
                       "action": f"/workshops/{doc['workshop']}/record",
                       "id": "form-record"},
              csrf_input(csrf),
              _input("registration", doc["registration"], maxlength=40, autocomplete="off"),
              el("label", {"for": "record-category"}, bi(*FIELD_WORDS["category"]),
                 el("select", {"id": "record-category", "name": "category"}, categories)),
              _input("category_other", doc["category_other"], maxlength=100),
              _input("address", doc["address"], maxlength=200),
              _input("responsible", doc["responsible"], maxlength=64),
              _input("phone", doc["phone"], maxlength=20, type="tel", inputmode="tel"),
              el("label", {"for": "record-inspector"}, bi(*FIELD_WORDS["inspector"]),
                 el("select", {"id": "record-inspector", "name": "inspector"}, people)),
              *[_input(key, _coord(doc[key]),
                       inputmode="decimal", autocomplete="off", maxlength=14,
                       placeholder="40.657123" if key == "latitude" else "109.840347")
                for key in locations.FIELDS],
              el("p", {"class": "note"}, bi(
                  "纬度、经度须同时填写或同时留空。高德、腾讯地图显示的是 GCJ-02 坐标（偏移数百米），"
                  "请用手机定位（GPS）读数。",
                  "Give both or neither. Gaode and Tencent maps show GCJ-02 (a few hundred metres off): take the "
                  "phone's GPS reading.")),
              el("button", {"type": "submit", "id": "record-submit"}, bi("保存登记信息", "Save the record")))


def history_table(saves: list[dict]) -> Html:
    if not saves:
        return el("p", {"class": "empty", "id": "record-history-none"}, bi("尚无修改", "No change yet"))
    head = el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (("时间", "Time"), ("修改人", "By"),
                                                                      ("修改的字段", "Fields changed"))])
    body = [el("tr", {"data-save": s["id"]},
               el("td", cell_label("时间", "Time"), when(s["at"])),
               el("td", cell_label("修改人", "By"), s["by"]),
               el("td", cell_label("修改的字段", "Fields changed"),
                  join(*[join(bi(*FIELD_WORDS[f]), "；") for f in s["changed"]])))
            for s in saves]
    return el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "record-history"},
                                              el("thead", None, head), el("tbody", None, body)))


def training_section(doc: dict) -> Html:
    title = el("h2", None, bi("培训记录（六(五)：定期进行色标化管理制度培训）", "Staff training (the seed's 6(5))"))
    privacy = el("p", {"class": "note"}, bi(
        "员工姓名仅向本辖区检查员显示，不公开。", "Staff names are shown to the district's inspectors only, never published."))
    if not doc["records"]:
        return el("section", {"id": "training"}, title, privacy,
                  el("p", {"class": "empty", "id": "training-none"},
                     bi("网关尚未上报培训记录", "No training record has reached the cloud yet")))
    last = el("p", {"class": "card", "id": "training-last"}, bi("最近一次培训", "Last training"), "：",
              el("strong", {"id": "training-last-day"}, doc["last_day"]), " · ",
              bi("受训人", "trained"), "：", el("span", {"id": "training-last-people"}, "、".join(doc["last_people"])))
    people = el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "training-people"}, el(
        "thead", None, el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
            ("受训人", "Person"), ("最近培训", "Last trained"), ("次数", "Trainings"))])), el("tbody", None, [
                el("tr", {"data-person": p["who"]}, el("td", cell_label("受训人", "Person"), p["who"]),
                   el("td", cell_label("最近培训", "Last trained"), p["last_day"]),
                   el("td", cell_label("次数", "Trainings"), str(p["trainings"]))) for p in doc["people"]])))
    records = el("div", {"class": "scroll"}, el("table", {"class": "grid", "id": "training-records"}, el(
        "thead", None, el("tr", None, [el("th", None, bi(zh, en)) for zh, en in (
            ("日期", "Day"), ("受训人", "Person"), ("内容", "Topic"), ("培训人", "Trainer"))])), el("tbody", None, [
                el("tr", {"data-training": r["id"]}, el("td", cell_label("日期", "Day"), r["day"]),
                   el("td", cell_label("受训人", "Person"), r["who"]),
                   el("td", cell_label("内容", "Topic"), r["topic"]),
                   el("td", cell_label("培训人", "Trainer"), r["by"])) for r in doc["records"]])))
    return el("section", {"id": "training"}, title, privacy, last,
              el("h3", None, bi("每人最近培训", "Each person's last training")), people,
              el("h3", None, bi("全部记录（最新在前）", "All records, newest first")), records)


class WorkshopPages:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def routes(self) -> list[Route]:
        return [Route("/workshops/{id:slug}", self.page, methods=["GET"]),
                Route("/workshops/{id:slug}/record", self.save, methods=["POST"])]

    def shown(self, workshop_id: str, lang: str, error: str | None = None) -> Build:
        def build(conn: Connection, who: Principal, s: Session) -> Shown:
            doc = workshop_records.record(conn, who, workshop_id)
            editor = who.role in ("inspector", "admin")
            assigned = doc["inspector"]["id"] if doc["inspector"] else None
            form = (record_form(doc, workshop_records.district_inspectors(conn, doc["district"], assigned), s.csrf,
                                 lang)
                    if editor else "")
            training = training_section(trainings.workshop_trainings(conn, who, workshop_id)) if editor else ""
            links = el("p", {"class": "links"},
                       el("a", {"href": f"/workshops/{workshop_id}/grade"}, bi("等级", "Grade")), " · ",
                       el("a", {"href": f"/setups/{workshop_id}"}, bi("配置与进度", "Setup")), " · ",
                       el("a", {"href": f"/reports?workshop={workshop_id}"}, bi("报告", "Report")),
                       " · ", el("a", {"href": f"/workshops/{workshop_id}/inspections", "id": "to-inspections"},
                                 bi("现场检查", "On-site inspections")))
            fresh = stations_table(self.frame.freshness(conn, who, workshop_id)[workshop_id],
                                   freshness.stations_at_last_report(conn, workshop_id),  # scope: record() above
                                   silence.outages(conn, who, workshop_id))
            body = join(el("p", {"class": "note"}, doc["district_name"], " · ", el("span", {"class": "muted"},
                                                                                    doc["workshop"])),
                        error_box(error), fresh,
                        el("h2", None, bi("登记信息", "Registration record")), record_facts(doc),
                        form, el("h2", None, bi("修改记录", "Changes")), history_table(doc["history"]),
                        training, links)
            return Shown((f"作坊档案 · {doc['name']}", f"Workshop · {doc['workshop']}"), body, "/workshops")
        return build

    async def page(self, request: Request) -> Response:
        return await self.frame.show(request, self.shown(request.path_params["id"], lang_of(request.cookies)))

    async def save(self, request: Request) -> Response:
        workshop_id = request.path_params["id"]

        def step(conn: Connection, who: Principal, form: dict[str, str]) -> str:
            body = {k: form.get(k, "") for k in workshop_records.FIELDS}
            if body["category"] != "other":
                body["category_other"] = ""  # the form keeps its text box: only an "other" workshop's counts
            workshop_records.save_record(conn, who, workshop_id, body, self.frame.clock())
            return f"/workshops/{workshop_id}"
        lang = lang_of(request.cookies)
        return await self.frame.change(request, step, lambda message: self.shown(workshop_id, lang, message))
