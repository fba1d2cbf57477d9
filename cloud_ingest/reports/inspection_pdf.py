"""An on-site inspection visit as a PDF (A4) to print and file: the visit, its checklist with each item's
result and note, the findings, and the signature lines of the inspectors and the workshop's representative.

Chinese first, then English; body text 10 pt at least; every page numbered ("第 N 页 / 共 M 页"). The CJK
font is the reports' (``sebiao_common.fonts``), as in ``plan_pdf``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from cloud_ingest.reports.document import build, grid, signatures, styles
from sebiao_common.clock import CST

TITLE = "食品小作坊现场检查记录 / On-site inspection record"
RESULT = {"pass": "符合 / complies", "fail": "不符合 / does not comply", "na": "不适用 / n/a"}


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CST).strftime("%Y-%m-%d %H:%M")


def inspection_pdf(visit: dict[str, Any], now: int) -> bytes:
    """``visit``: ``review.inspections.get``'s answer."""
    s = styles()
    p, head, sub = s.p, s.head, s.sub

    c = visit["counts"]
    story: list[Any] = [
        p(TITLE, head),
        p(f"记录编号 / record no.：{visit['id']}　检查表版本 / checklist：{visit['checklist']}"),
        p(f"作坊 / workshop：{visit['workshop_name']}（{visit['workshop']}）"),
        p(f"区 / district：{visit['district_name']}（{visit['district']}）"),
        p(f"检查日期 / day：{visit['day']}"),
        p(f"检查人员 / inspectors：{'、'.join(visit['inspectors'])}"),
        p(f"结果 / results：符合 {c['pass']} complies；不符合 {c['fail']} do not comply；不适用 {c['na']} n/a"),
        p("检查项目 / Checklist", sub)]
    rows = [[p("依据 / section"), p("项目 / item"), p("结果 / result"), p("说明 / note")]]
    for i in visit["items"]:
        result = RESULT.get(i["result"] or "", "—")
        if i["ledger_item"]:
            result += f"（问题 / item #{i['ledger_item']}）"
        rows.append([p(i["section"]), p(f"{i['zh']} / {i['en']}"), p(result), p(i["note"] or "")])
    story += [grid(rows, [22 * mm, 82 * mm, 36 * mm, 40 * mm]), p("检查结论 / Findings", sub), p(visit["findings"] or "（无 / none）"),
              p(f"照片 / photos：{len(visit['photos'])}（SHA-256 见系统 / hashes in the system）"),
              p(f"检查员签署 / signed by the inspector：{visit['signed_by']}，{_time(visit['signed_at'])}"),
              p(f"作坊代表 / workshop representative：{visit['representative']}"),
              p(f"打印时间 / printed：{_time(now)}"), Spacer(1, 10 * mm)]
    story.append(signatures(s, ["检查员签字 / inspectors' signatures",
                                f"作坊代表签字 / representative（{visit['representative']}）"]))
    return build(story, f"现场检查 {visit['id']}", s)
