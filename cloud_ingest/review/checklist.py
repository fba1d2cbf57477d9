"""The on-site inspection's checklist (现场检查表) as data, versioned: what an inspector checks in a workshop.

Every item cites the section of the guideline it comes from: 《包头市食品小作坊生产加工器具色标化管理实施指引》
(指引) and the 实施方案 it is attached to (方案). A visit stores the version it used (``inspection_visits
.checklist``), so a visit made with an older list still reads with its own words. A new list is a new version
added below; a published version is never edited. Each item names the ledger category and the default
severity of the ledger item its 不符合 opens; the default deadline follows the severity (``DUE_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Item:
    key: str
    section: str  # where the guideline says it
    zh: str
    en: str
    category: str  # schema.LEDGER_CATEGORIES
    severity: str  # the alarms' severities: the ledger item's, when it fails


DUE_DAYS = {"critical": 3, "major": 15, "minor": 30, "warning": 30}  # the form's default deadline per severity

CHECKLISTS: dict[str, tuple[Item, ...]] = {
    "2026.1": (
        Item(key="zones", section="指引 六(二)", category="colour_coding", severity="major",
             zh="按工艺和车间布局分区，各区域器具按需配置、分类使用",
             en="zones laid out by process and floor plan; each zone's tools provided and used by class"),
        Item(key="colour_match", section="指引 三", category="colour_coding", severity="critical",
             zh="器具色标与区域对应：生制动物性红、水产品蓝、植物性绿、半成品黄、成品白",
             en="tool colours match zones: raw animal red, aquatic blue, plant green, semi-finished yellow, "
                "finished white"),
        Item(key="label_place", section="指引 四", category="colour_coding", severity="minor",
             zh="色标标注部位正确：刀柄、剪刀手柄、刷子手柄，清洗池贴 20×20mm 色标",
             en="labels where the guideline puts them: knife and scissor handles, brush handles, 20×20 mm on "
                "sinks"),
        Item(key="label_state", section="指引 六(四)", category="colour_coding", severity="minor",
             zh="色标标识清晰、无缺损，缺损的已及时更新",
             en="labels legible and whole; damaged ones renewed"),
        Item(key="storage", section="指引 一", category="colour_coding", severity="major",
             zh="器具分区管理、定位存放，无混放",
             en="tools kept in their zone's fixed place, not mixed"),
        Item(key="replacement", section="指引 六(四)", category="facilities", severity="minor",
             zh="新添置或替换的器具主体颜色与色标对应",
             en="new or replaced tools are of their class's own colour"),
        Item(key="material", section="指引 六(一)", category="facilities", severity="major",
             zh="器具材质符合食品安全标准",
             en="tool materials meet the food safety standards"),
        Item(key="cleaning", section="指引 六(三)", category="hygiene", severity="major",
             zh="器具每次使用后及时清洗消毒，防止交叉污染",
             en="tools cleaned and disinfected after every use"),
        Item(key="rules", section="指引 六(五)", category="records", severity="minor",
             zh="已制定色标化管理制度（特殊工艺有自身规定）",
             en="a written colour-coding rule (with the workshop's own for special processes)"),
        Item(key="training", section="指引 六(五)", category="records", severity="minor",
             zh="定期开展色标化管理制度培训，有培训记录",
             en="regular training on the colour-coding rule, with records"),
        Item(key="records", section="方案 二(二)3", category="records", severity="major",
             zh="进货查验记录、生产加工记录如实完整",
             en="purchase-inspection and production records kept truthfully and complete"),
        Item(key="workwear", section="方案 二(二)2", category="workwear", severity="minor",
             zh="工服专人专用、定期清洗、规范存放",
             en="workwear personal, washed regularly and stored properly"),
    ),
}
CURRENT = "2026.1"


def items(version: str) -> tuple[Item, ...]:
    """The items of a checklist version (KeyError for an unknown one: a stored visit always names a known one)."""
    return CHECKLISTS[version]


def as_json(version: str = CURRENT) -> dict:
    return {"version": version, "due_days": DUE_DAYS,
            "items": [{"key": i.key, "section": i.section, "zh": i.zh, "en": i.en, "category": i.category,
                       "severity": i.severity} for i in items(version)]}
