"""Line protocol for the central InfluxDB, built from one ingest batch (pure, no I/O).

The measurements are the gateway's (``edge_gateway/sinks/influx/lines.py``,
``docs/influxdb.md``), so the dashboards' queries run on both: ``tool_event``,
``alarm``, ``station_status`` and ``disinfection_cycle``, with the same tag and field names and the
same timestamps (event time in ms, a per-source sequence folded into the
sub-millisecond digits), so a point sent twice overwrites itself.

What the cloud cannot know is left out rather than guessed: the batch format
carries no tool colour or kind, no station kind or zone (they live in the
workshop's own config), so ``tool_color``, ``tool_kind``, ``station_kind`` and
``zone`` are tags of the gateway's points only (a cycle item names its
station's kind: its ``disinfection_cycle`` point has ``station_kind``). Every point carries the
``workshop`` and ``district`` tags. ``zone_summary`` is the gateway's alone.
"""

from __future__ import annotations

from cloud_ingest.wire.batch import AlarmItem, Batch, CycleItem, EventItem, StatusItem
from sebiao_common import strict_json
from sebiao_common.influx.lines import (
    NS_PER_MS,
    AlarmPoint,
    head,
    string_field,
    tag,
    timestamp_ns,
)
from sebiao_common.influx.lines import alarm_line as point_line


def event_line(base: list[str], i: EventItem, received_at: int) -> str:
    tags = base + [f"station={tag(i.station)}", f"action={tag(i.action)}"]
    fields = [f"tool={string_field(i.tool)}"] if i.tool else []
    # delay_ms here is station to cloud; the gateway's ``late`` flag is not in the batch format
    fields += [f"tag_uid={string_field(i.tag)}", f"boot={string_field(i.boot)}", f"seq={i.seq}i",
               f"delay_ms={received_at - i.ts}i"]
    if i.note:
        fields.append(f"note={string_field(i.note)}")
    return head("tool_event", tags) + ",".join(fields) + f" {timestamp_ns(i.ts, i.seq)}"


def alarm_line(base: list[str], i: AlarmItem) -> str:
    tags = base + ([f"station={tag(i.station)}"] if i.station else [])
    return point_line(AlarmPoint(
        tags=tags, alarm_id=i.alarm_id, type=i.type, severity=i.severity, state=i.state, transition=i.action,
        count=i.count, acked=i.acked, latched=i.latched, late=i.late, ts=i.ts, last_ts=i.last_ts, at=i.at,
        seq=i.seq, by=i.by, text_zh=i.text_zh, text_en=i.text_en, tool=i.tool, tag_uid=i.tag,
        comment=i.comment))


def status_line(base: list[str], i: StatusItem) -> str:
    fields = [f"online={int(i.online)}i"]
    if i.buffer_depth is not None:
        fields.append(f"buffer_depth={i.buffer_depth}i")
    for key, value in sorted(strict_json.loads(i.health).items()):
        # numbers only, always float (as the gateway does): no field type conflict between stations
        if (isinstance(value, (int, float)) and not isinstance(value, bool) and key.isidentifier()
                and key.islower() and len(key) <= 32 and value == value and abs(value) < 1e300):
            fields.append(f"{key}={float(value)!r}")
    # ``report``: the gateway's vocabulary; what the cloud receives are the gateway's status items
    return (head("station_status", base + [f"station={tag(i.station)}", "report=status"]) + ",".join(fields)
            + f" {i.ts * NS_PER_MS}")


def cycle_line(base: list[str], i: CycleItem) -> str:
    """The gateway's ``disinfection_cycle`` point (``docs/influxdb.md``), as the cloud has it."""
    tags = base + [f"station={tag(i.station)}", f"station_kind={tag(i.station_kind)}", f"method={tag(i.method)}",
                   f"passed={'true' if i.passed else 'false'}"]
    return (head("disinfection_cycle", tags) + f"max_temp_c={i.max_temp_dc / 10!r},hold_s={i.hold_s}i,"
            f"required_temp_c={float(i.temp_c)!r},required_hold_s={i.hold_required_s}i,tools={len(i.tools)}i,"
            f'duration_s={(i.ts - i.start) // 1000}i,boot="{i.boot}",seq={i.seq}i '
            f"{i.ts * NS_PER_MS + i.seq % 1_000_000}")


def batch_lines(batch: Batch, district: str, received_at: int) -> list[str]:
    """One line per event, alarm and status item, in the batch's order."""
    base = [f"workshop={tag(batch.workshop)}", f"district={tag(district)}"]
    lines = []
    for item in batch.items:
        if isinstance(item, EventItem):
            lines.append(event_line(base, item, received_at))
        elif isinstance(item, AlarmItem):
            lines.append(alarm_line(base, item))
        elif isinstance(item, CycleItem):
            lines.append(cycle_line(base, item))
        elif isinstance(item, StatusItem):
            lines.append(status_line(base, item))
        # setup versions and silenced alarms are the inspectors' evidence, not time series: no point
    return lines


GRADE_RANK = {"gold": 1, "silver": 2, "bronze": 3, "orange": 4}  # 金榜 best


def overview_line(workshop: str, district: str, row: dict, ts: int) -> str:
    """The cloud's own gauge ``workshop_overview`` (``cloud_ingest/gauges.py``), one per workshop and sweep:
    ``silent`` (1: 数据中断), ``never`` (1: never reported), ``last_data_age_s`` (absent when never),
    ``ledger_open``, ``ledger_overdue``, ``grade_rank`` (1 gold … 4 orange, absent when not graded),
    ``marked_pct`` (the seed deadline's tools marked, absent without a setup), ``alarms_7d_per_day``,
    ``alarms_30d_per_day``. ``row`` is a workshop of ``review.overview``; ``ts`` in ms (the sweep's bucket:
    two workers' points of one sweep share it and overwrite each other)."""
    f = row["freshness"]
    fields = [f"silent={int(f['state'] == 'silent')}i", f"never={int(f['state'] == 'never')}i"]
    if f["last_received"] is not None:
        fields.append(f"last_data_age_s={max(0, ts - f['last_received']) / 1000!r}")
    fields += [f"ledger_open={row['ledger']['open']}i", f"ledger_overdue={row['ledger']['overdue']}i"]
    if row["grade"]:
        fields.append(f"grade_rank={GRADE_RANK[row['grade']['grade']]}i")
    p = row["progress"]
    if p and p["tools"]:
        fields.append(f"marked_pct={100 * p['marked'] / p['tools']!r}")
    fields += [f"alarms_7d_per_day={float(row['alarms']['7d']['per_day'])!r}",
               f"alarms_30d_per_day={float(row['alarms']['30d']['per_day'])!r}"]
    return (head("workshop_overview", [f"workshop={tag(workshop)}", f"district={tag(district)}"]) + ",".join(fields)
            + f" {ts * NS_PER_MS}")
