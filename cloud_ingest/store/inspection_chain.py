"""On-site inspections and the spot checks' draws against the evidence chain (``sebiao cloud verify``).

- ``inspection_visits``: every visit has its ``inspection_visit`` entry, made when it was signed and stored;
  the visit's row must still be the entry's ``row``, each of its ``inspection_items`` rows one of the entry's
  ``items`` (none missing, none added), and each of its ``inspection_photos`` the entry's ``photos`` (the
  hash is computed again from the stored bytes: a swapped picture is found). A visit without an entry
  (written behind the app's back) and an entry whose visit is gone are named;
- ``spot_draws``: every draw is the ``row`` of its ``spot_draw`` entry, and its sample is what the stored
  seed input and population give again (``review.spot_checks`` draws, this checks without importing it: the
  rule is restated in ``_sample`` and both are tested against each other).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.coverage import Problems, fact, kind_entries
from cloud_ingest.store.row_entries import Subject, changed, differs, rows_held
from cloud_ingest.store.schema import inspection_items, inspection_photos, inspection_visits, spot_draws
from sebiao_common import strict_json

KINDS = ("inspection_visit", "spot_draw")


@dataclass(kw_only=True)
class Findings(Problems):
    visits: int = 0
    draws: int = 0

    def covered(self) -> str:
        return (f"现场检查与抽查与证据链一致：{self.visits} 次检查，{self.draws} 次抽查 / the inspections and spot "
                f"checks match the chain: {self.visits} visits, {self.draws} draws")


VISIT = Subject(zh="现场检查 {} ", en="inspection visit {}", en_many="inspection visits {}")
DRAW = Subject(zh="抽查 {} ", en="spot check draw {}", en_many="spot check draws {}")


def _sample(seed_input: str, district: str, period: str, population: list[str]) -> list[str]:
    seed = hashlib.sha256(canonical_json([district, period, seed_input]).encode()).hexdigest()
    ranked = sorted(population, key=lambda w: hashlib.sha256(f"{seed}:{w}".encode()).hexdigest())
    return sorted(ranked[:math.ceil(len(population) * 5 / 100)])


def check(conn: Connection, chunk: int = 2000) -> Findings:
    found = Findings()
    visits: dict[int, tuple[int, dict]] = {}
    draws: dict[int, tuple[int, dict]] = {}
    for seq, kind, body in kind_entries(conn, KINDS, chunk):
        try:
            row = dict(body["row"])
            (visits if kind == "inspection_visit" else draws)[int(row["id"])] = (seq, body)
        except (KeyError, TypeError, ValueError):
            found.add(f"第 {seq} 条的内容无法读取", f"entry {seq}: its body is not of its kind's form")
    _visits(conn, found, visits)
    _draws(conn, found, draws)
    return found


def _visits(conn: Connection, found: Findings, held: dict[int, tuple[int, dict]]) -> None:
    items: dict[int, list[dict]] = {}
    for r in conn.execute(select(inspection_items).order_by(inspection_items.c.id)):
        items.setdefault(r.visit_id, []).append(fact(inspection_items, r._mapping))
    photos: dict[int, list[dict]] = {}
    for p in conn.execute(select(inspection_photos).order_by(inspection_photos.c.id)):
        photos.setdefault(p.visit_id, []).append({"id": p.id, "type": p.content_type, "size": len(p.data),
                                                  "sha256": hashlib.sha256(bytes(p.data)).hexdigest()})
    for row, (seq, body) in rows_held(conn, found, inspection_visits, held, VISIT):
        wrong = changed(fact(inspection_visits, row._mapping), body.get("row"))
        if wrong:
            differs(found, VISIT, row.id, seq, wrong, "signed")
            continue
        if items.get(row.id, []) != body.get("items"):
            found.add(f"现场检查 {row.id} 的检查项目与证据第 {seq} 条不符", f"inspection visit {row.id}: its items "
                      f"differ from evidence entry {seq} ({_item_diff(items.get(row.id, []), body.get('items'))})")
            continue
        if photos.get(row.id, []) != body.get("photos"):
            found.add(f"现场检查 {row.id} 的照片与证据第 {seq} 条不符", f"inspection visit {row.id}: its photos "
                      f"differ from evidence entry {seq} (changed, added or removed)")
            continue
        found.visits += 1


def _item_diff(now: list[dict], then: Any) -> str:
    then_by = {i.get("id"): i for i in then} if isinstance(then, list) else {}
    names = [f"item {i['item']}" for i in now if then_by.get(i["id"]) != i]
    names += [f"item {i.get('item')} missing" for k, i in then_by.items() if k not in {n["id"] for n in now}]
    return ", ".join(names) or "order"


def _draws(conn: Connection, found: Findings, held: dict[int, tuple[int, dict]]) -> None:
    for row, (seq, body) in rows_held(conn, found, spot_draws, held, DRAW):
        wrong = changed(fact(spot_draws, row._mapping), body.get("row"))
        if wrong:
            differs(found, DRAW, row.id, seq, wrong, "drawn")
            continue
        try:
            again = _sample(row.seed_input, row.district_id, row.period, strict_json.loads(row.population))
            ok = again == strict_json.loads(row.sample)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            found.add(f"抽查 {row.id} 的样本不能由其种子和总体重现", f"spot check draw {row.id}: its sample is not "
                      "what its seed and population give")
            continue
        found.draws += 1
