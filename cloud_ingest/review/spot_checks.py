"""The spot checks (抽查) of newly registered workshops: 5% of a district's new workshops of a period, drawn
reproducibly, once, and followed until each drawn workshop has had its visit.

方案 二(一): the city checks 5% of each district's newly licensed workshops (新发证食品小作坊) for how they were
admitted. Here:

- **newly registered in a period**: a workshop whose *first* record (登记信息, ``workshop_records``) with a
  registration number (登记证号) was saved within the period. The registration number is what the licence
  gives; a workshop's creation on the cloud is when its gateway was set up, which can be long before or
  after its licence, so it is not used;
- **the period**: a quarter ``YYYY-Qn`` or a month ``YYYY-MM``, in China Standard Time. A draw is made once
  the period is over (its population is then complete);
- **the draw**: ``seed = sha256(canonical_json([district, period, seed_input]))`` where ``seed_input`` is
  the published random value (or the number the inspectors agreed on) typed in by the one who draws; each
  workshop of the population (its ids sorted) is ranked by ``sha256(seed + ":" + workshop_id)`` and the
  ``ceil(5% × population)`` lowest are drawn (at least 1 when there is any; none of none). Anyone with the
  stored population and seed input can compute the same sample (``sample_of``);
- the draw (population, seed input, seed, sample) is stored once (``spot_draws`` is append-only, unique per
  district and period) and chained (evidence kind ``spot_draw``); a second draw is refused (409);
- **tracking**: a drawn workshop is *visited* by its first on-site inspection (``inspections``) on or after
  the period's first day and by the deadline, the last day of the period that follows; before the deadline
  it is *not yet*, after it *overdue*.

Only the district's inspectors and admins draw and see draws (an owner: 403; another district: 404).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, Conflict, NotFound, Unprocessable
from cloud_ingest.review import inspections, steps
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.canonical import canonical_json
from cloud_ingest.store.schema import districts, spot_draws, users, workshop_records, workshops
from sebiao_common import strict_json
from sebiao_common.clock import CST

RATE_PERCENT = 5
MAX_SEED_INPUT = 200
_PERIOD = re.compile(r"(\d{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))")
STATUS_ZH = {"visited": ("已检查", "visited"), "not_yet": ("待检查", "not yet"), "overdue": ("已逾期", "overdue")}


@dataclass(frozen=True, kw_only=True)
class Period:
    name: str
    first: date  # its first day
    last: date  # its last day
    deadline: date  # the last day of the period that follows: the drawn workshops' visits are due by then

    def ms(self) -> tuple[int, int]:
        """[start, end) in ms, China Standard Time."""
        start = datetime(self.first.year, self.first.month, self.first.day, tzinfo=CST)
        end = datetime(self.last.year, self.last.month, self.last.day, tzinfo=CST) + timedelta(days=1)
        return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _month_after(d: date, months: int) -> date:
    n = d.year * 12 + d.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def period(text: Any) -> Period:
    if not isinstance(text, str) or not (m := _PERIOD.fullmatch(text)):
        raise BadRequest("period", "必须是季度 YYYY-Qn 或月份 YYYY-MM", "must be a quarter YYYY-Qn or a month YYYY-MM")
    year = int(m.group(1))
    months = 3 if m.group(2) else 1
    first = date(year, (int(m.group(2)) - 1) * 3 + 1, 1) if m.group(2) else date(year, int(m.group(3)), 1)
    after = _month_after(first, months)
    return Period(name=text, first=first, last=after - timedelta(days=1),
                  deadline=_month_after(after, months) - timedelta(days=1))


def seed_of(district: str, period_name: str, seed_input: str) -> str:
    return hashlib.sha256(canonical_json([district, period_name, seed_input]).encode()).hexdigest()


def sample_size(population: int) -> int:
    return math.ceil(population * RATE_PERCENT / 100)  # ≥ 1 whenever there is any


def sample_of(seed: str, population: list[str]) -> list[str]:
    """The draw: the ``sample_size`` workshops with the lowest ``sha256(seed:id)``, sorted by id."""
    ranked = sorted(population, key=lambda w: hashlib.sha256(f"{seed}:{w}".encode()).hexdigest())
    return sorted(ranked[:sample_size(len(population))])


def _district(conn: Connection, who: Principal, district: Any) -> Any:
    who.require("admin", "inspector")
    if not isinstance(district, str) or not (who.everywhere or district in who.districts):
        raise NotFound("辖区不存在", f"district {district} does not exist")
    row = conn.execute(select(districts.c.id, districts.c.name).where(districts.c.id == district)).first()
    if row is None:
        raise NotFound("辖区不存在", f"district {district} does not exist")
    return row


def population(conn: Connection, district: str, p: Period) -> list[str]:
    """The district's workshops whose first record with a registration number was saved in the period."""
    start, end = p.ms()
    first = func.min(workshop_records.c.set_at)
    q = (select(workshop_records.c.workshop_id).join(workshops, workshops.c.id == workshop_records.c.workshop_id)
         .where(workshops.c.district_id == district, workshop_records.c.registration.is_not(None))
         .group_by(workshop_records.c.workshop_id).having(first >= start, first < end))
    return sorted(conn.execute(q).scalars())


def draw(conn: Connection, who: Principal, body: Mapping[str, Any], now: int) -> dict:
    steps.only_known(body, ("district", "period", "seed_input"))
    d = _district(conn, who, body.get("district"))
    p = period(body.get("period"))
    seed_input = body.get("seed_input")
    if not isinstance(seed_input, str) or not seed_input.strip() or len(seed_input) > MAX_SEED_INPUT:
        raise BadRequest("seed_input", f"必须填写随机数（至多 {MAX_SEED_INPUT} 字符）",
                         f"the published random value is required (at most {MAX_SEED_INPUT} characters)")
    if inspections.today(now) <= p.last.isoformat():
        raise Unprocessable(f"period: {p.name} 尚未结束，结束后才能抽查",
                            f"period: {p.name} is not over yet; its new workshops are drawn once it is")
    if conn.execute(select(spot_draws.c.id).where(spot_draws.c.district_id == d.id,
                                                  spot_draws.c.period == p.name)).first():
        raise Conflict(f"{d.id} {p.name} 已经抽查过，不能重抽", f"district {d.id} was already drawn for {p.name}")
    pop = population(conn, d.id, p)
    seed = seed_of(d.id, p.name, seed_input.strip())
    try:
        with conn.begin_nested():
            row = conn.execute(spot_draws.insert().values(
                district_id=d.id, period=p.name, seed_input=seed_input.strip(), seed=seed,
                population=canonical_json(pop), sample=canonical_json(sample_of(seed, pop)),
                drawn_by=who.user_id, drawn_at=now).returning(*spot_draws.c)).one()
    except IntegrityError as exc:  # a draw made at the same moment by someone else
        raise Conflict(f"{d.id} {p.name} 已经抽查过，不能重抽", f"district {d.id} was already drawn for {p.name}") \
            from exc
    evidence.append(conn, now, "spot_draw", "", None, {
        "draw": row.id, "by": who.username, "role": who.role, "row": coverage.fact(spot_draws, row._mapping)})
    return get(conn, who, row.id, now)


def _query():  # type: ignore[no-untyped-def]
    return (select(spot_draws, districts.c.name.label("district_name"), users.c.username)
            .join(districts, districts.c.id == spot_draws.c.district_id)
            .join(users, users.c.id == spot_draws.c.drawn_by))


def _scoped(who: Principal, q: Any) -> Any:
    who.require("admin", "inspector")
    return q if who.everywhere else q.where(spot_draws.c.district_id.in_(sorted(who.districts)))


def get(conn: Connection, who: Principal, draw_id: int, now: int) -> dict:
    """A draw with each drawn workshop's visit: visited (which, when) / not yet / overdue."""
    r = conn.execute(_scoped(who, _query()).where(spot_draws.c.id == draw_id)).first()
    if r is None:
        raise NotFound("抽查不存在", f"spot check draw {draw_id} does not exist")
    p = period(r.period)
    sample = strict_json.loads(r.sample)
    names = dict(conn.execute(select(workshops.c.id, workshops.c.name).where(workshops.c.id.in_(sample))).all())
    seen = inspections.visited(conn, sample, p.first.isoformat(), p.deadline.isoformat())
    late = inspections.today(now) > p.deadline.isoformat()
    drawn = []
    for w in sample:
        status = "visited" if w in seen else ("overdue" if late else "not_yet")
        drawn.append({"workshop": w, "name": names.get(w), "status": status, **(seen.get(w) or {})})
    out = _json(r)
    out.update(deadline=p.deadline.isoformat(), sampled=drawn,
               counts={k: sum(1 for d in drawn if d["status"] == k) for k in STATUS_ZH})
    return out


def _json(r: Any) -> dict:
    pop, sample = strict_json.loads(r.population), strict_json.loads(r.sample)
    return {"id": r.id, "district": r.district_id, "district_name": r.district_name, "period": r.period,
            "seed_input": r.seed_input, "seed": r.seed, "population": pop, "sample": sample,
            "rate_percent": RATE_PERCENT, "drawn_by": r.username, "drawn_at": r.drawn_at,
            "reproduces": sample_of(seed_of(r.district_id, r.period, r.seed_input), pop) == sample}


def list_draws(conn: Connection, who: Principal) -> list[dict]:
    rows = conn.execute(_scoped(who, _query()).order_by(spot_draws.c.period.desc(), spot_draws.c.district_id))
    return [_json(r) for r in rows]
