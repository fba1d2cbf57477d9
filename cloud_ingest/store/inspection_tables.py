"""The tables of on-site inspections (现场检查) and the 5% spot checks (抽查), migration 0015.

They are defined on ``schema.metadata`` by ``schema`` itself (``define``), so that every table is still one
import of ``schema`` away; this module imports nothing of the store (``schema`` imports it: no cycle).
All four tables are append-only (database triggers): a visit is stored once, signed, and never changed; a
draw is stored once. Times are ms since the epoch; days are ``YYYY-MM-DD`` in China Standard Time.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

RESULTS = ("pass", "fail", "na")  # 符合 / 不符合 / 不适用


def define(metadata: MetaData) -> tuple[Table, Table, Table, Table]:
    visits = Table(  # one signed visit of a workshop: who came, what the checklist found, who signed
        "inspection_visits", metadata,
        Column("id", Integer, primary_key=True),
        Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, index=True),
        Column("checklist", String(16), nullable=False),  # the checklist's version (review/checklist.py)
        Column("day", String(10), nullable=False),  # the visit's day, YYYY-MM-DD
        Column("inspectors", Text, nullable=False),  # canonical JSON list of the names of those present
        Column("findings", Text, nullable=True),  # 检查结论 in the inspector's words
        Column("representative", Text, nullable=False),  # the workshop's representative who signed
        Column("signed_by", Integer, ForeignKey("users.id"), nullable=False),  # the inspector's sign-off
        Column("signed_at", BigInteger, nullable=False),
    )
    items = Table(  # the checklist's items as found on the visit
        "inspection_items", metadata,
        Column("id", Integer, primary_key=True),
        Column("visit_id", Integer, ForeignKey("inspection_visits.id"), nullable=False, index=True),
        Column("item", String(24), nullable=False),  # the checklist item's key
        Column("result", String(8), nullable=False),  # pass | fail | na
        Column("note", Text, nullable=True),
        Column("ledger_item_id", Integer, ForeignKey("ledger_items.id"), nullable=True),  # a fail's ledger item
        CheckConstraint("result IN ('pass', 'fail', 'na')", name="result"),
        CheckConstraint("(result = 'fail') = (ledger_item_id IS NOT NULL)", name="fail_ledger"),
        UniqueConstraint("visit_id", "item", name="uq_inspection_items_key"),
    )
    photos = Table(  # the visit's photos: checked images (review/photos.py), served within the visit's scope
        "inspection_photos", metadata,
        Column("id", Integer, primary_key=True),
        Column("visit_id", Integer, ForeignKey("inspection_visits.id"), nullable=False, index=True),
        Column("content_type", String(16), nullable=False),
        Column("size", Integer, nullable=False),
        Column("sha256", String(64), nullable=False),  # also in the visit's evidence entry
        Column("data", LargeBinary, nullable=False),
    )
    draws = Table(  # a district's spot check of a period: population, seed and sample, once
        "spot_draws", metadata,
        Column("id", Integer, primary_key=True),
        Column("district_id", String(32), ForeignKey("districts.id"), nullable=False),
        Column("period", String(7), nullable=False),  # YYYY-Qn or YYYY-MM
        Column("seed_input", Text, nullable=False),  # the published random value or the inspector's seed
        Column("seed", String(64), nullable=False),  # SHA-256 of district, period and seed_input
        Column("population", Text, nullable=False),  # canonical JSON list of the workshop ids, sorted
        Column("sample", Text, nullable=False),  # canonical JSON list of the drawn workshop ids, sorted
        Column("drawn_by", Integer, ForeignKey("users.id"), nullable=False),
        Column("drawn_at", BigInteger, nullable=False),
        UniqueConstraint("district_id", "period", name="uq_spot_draws_key"),
    )
    return visits, items, photos, draws
