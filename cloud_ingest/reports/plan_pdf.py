"""一坊一策 as a PDF (A4) to print and sign: the plan's summary, its progress, goals and ledger items.

Chinese first, then English; body text 10 pt at least; every page numbered
("第 N 页 / 共 M 页"); the end holds the lines the workshop's owner and the
inspector sign and date. The CJK font is the reports' (``sebiao_common.fonts``);
characters it cannot draw are left out, as in ``pdf``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from cloud_ingest.reports.document import build, grid, signatures, styles
from sebiao_common.clock import CST

TITLE = "食品小作坊“一坊一策”提升计划 / Improvement plan (一坊一策)"
STATE = {"open": "待答复 / open", "answered": "待审核 / answered", "returned": "已退回 / sent back",
         "closed": "已销号 / closed"}


def _day(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).date().isoformat() if ms is not None else "—"


def plan_pdf(plan: dict[str, Any], now: int) -> bytes:
    """``plan``: ``review.plans.get_plan``'s answer."""
    s = styles()
    p, head, sub = s.p, s.head, s.sub

    prog = plan["progress"]
    story: list[Any] = [
        p(TITLE, head),
        p(f"作坊 / workshop：{plan['name']}（{plan['workshop']}）"),
        p(f"区 / district：{plan['district_name']}（{plan['district']}）"),
        p(f"打印日期 / printed：{_day(now)}"),
        p(f"进度 / progress：问题已销号 {prog['items_closed']} / {prog['items_total']} items closed；"
          f"目标已达成 {prog['goals_met']} / {prog['goals_total']} goals met"),
        p("计划概述 / Summary", sub), p(plan["summary"] or "（尚未填写 / not written yet）"),
        p("目标 / Goals", sub)]
    rows = [[p("目标 / goal"), p("目标日期 / target"), p("相关问题 / items"), p("达成 / met")]]
    rows += [[p(g["text"]), p(g["target"]), p(", ".join(f"#{i}" for i in g["items"]) or "—"),
              p(f"已达成 / met {_day(g['met_at'])}" if g["met"] else "未达成 / not yet")] for g in plan["goals"]]
    story += [grid(rows, [80 * mm, 28 * mm, 34 * mm, 38 * mm]) if plan["goals"] else p("无 / none"),
              p("问题台账（挂账销号）/ Issue ledger", sub)]
    rows = [[p("编号 / no."), p("问题 / finding"), p("期限 / due"), p("责任人 / responsible"), p("状态 / state")]]
    rows += [[p(f"#{i['id']}"), p(i["text"] or ""), p(_day(i["due"])), p(i["responsible"] or "—"),
              p(STATE.get(i["state"], i["state"]) + ("（逾期 / overdue）" if i["overdue"] else ""))]
             for i in plan["items"]]
    story += [grid(rows, [16 * mm, 78 * mm, 24 * mm, 28 * mm, 34 * mm]) if plan["items"] else p("无 / none"),
              Spacer(1, 12 * mm)]
    story.append(signatures(s, ["作坊负责人签字 / owner's signature", "检查员签字 / inspector's signature"]))
    return build(story, f"一坊一策 {plan['name']}", s)

