"""``sebiao training``: the workshop's training records (who was trained, when, on what, by whom), kept in the
gateway's store beside the rest of its record (``docs/owner-day.md``).

``add`` writes one record in its own short transaction: SQLite serialises it with
the running gateway's writer (WAL, busy timeout), so the gateway need not stop.
``list`` prints them, or ``--json`` as ``GET /api/training`` gives them. ``resend`` has every record
queued for the cloud again (the cursor of ``sinks/cloud/training.py`` reset, also while the gateway runs): for a
cloud that set them aside (one older than its gateway) or lost them (restored from an old backup); the cloud
keeps each record once, so those it holds already change nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from edge_gateway.config import load_config
from edge_gateway.errors import StoreError
from edge_gateway.model.day import DEFAULT_DAY, local_day, parse_day, training
from edge_gateway.sinks.cloud.training import CURSOR
from edge_gateway.store import days
from edge_gateway.store.writer import connect
from sebiao_common import strict_json
from sebiao_common.clock import now_ms
from sebiao_common.errors import SebiaoError

STORE = "gateway.sqlite3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="record a training / 登记一次培训")
    add.add_argument("--who", required=True, help="who was trained / 受训人")
    add.add_argument("--topic", required=True, help="what was taught / 培训内容")
    add.add_argument("--by", required=True, help="who trained them / 培训人")
    add.add_argument("--day", help="YYYY-MM-DD, default today / 培训日期，默认今天")
    add.add_argument("--config", metavar="FILE", help="workshop YAML: today in its day.timezone / 作坊配置文件")
    listing = sub.add_parser("list", help="list the training records / 列出培训记录")
    listing.add_argument("--json", action="store_true", help="as JSON / 以 JSON 输出")
    resend = sub.add_parser("resend", help="queue every record for the cloud again / 全部培训记录重新上传云端")
    for p in (add, listing, resend):
        p.add_argument("--data-dir", default="sebiao-data", help="the gateway's data dir / 网关数据目录")


def run(args: argparse.Namespace) -> int:
    path = Path(args.data_dir) / STORE
    if not path.is_file():
        raise StoreError(f"{path}: 没有网关数据，请先启动一次网关 / no gateway store here: start the gateway once "
                         "with this --data-dir")
    if args.action == "resend":
        return _resend(path)
    return _add(args, path) if args.action == "add" else _list(args, path)


def _resend(path: Path) -> int:
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        queued = conn.execute("SELECT value FROM meta WHERE key = ?", (CURSOR,)).fetchone()
        conn.execute("DELETE FROM meta WHERE key = ?", (CURSOR,))
        count = conn.execute("SELECT COUNT(*) FROM training").fetchone()[0]
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from exc
    finally:
        conn.close()
    print(f"{count} 条培训记录将在网关运行且配置了 cloud: 时重新上传（此前已排到第 {queued[0] if queued else 0} 条）/ "
          f"{count} training records will be queued for the cloud again while the gateway runs with a cloud: "
          "section; the cloud keeps each once")
    return 0


def _add(args: argparse.Namespace, path: Path) -> int:
    try:
        record = training(day=args.day, who=args.who, topic=args.topic, by=args.by)
    except ValueError as exc:
        raise SebiaoError(str(exc)) from None
    now = now_ms()
    settings = (parse_day(load_config(args.config)) if args.config else None) or DEFAULT_DAY
    day = record.day or local_day(settings, now)[0]
    conn = connect(path)
    try:
        days.ensure_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        record_id = days.add_training(conn, day=day, who=record.who, topic=record.topic, trainer=record.by, now=now)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from exc
    finally:
        conn.close()
    print(f"已登记 / recorded #{record_id}: {day} {record.who} — {record.topic} (培训人 / by {record.by})")
    return 0


def _list(args: argparse.Namespace, path: Path) -> int:
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute("SELECT * FROM training ORDER BY day DESC, id DESC").fetchall()
    except sqlite3.Error as exc:  # an older store without the table: nothing recorded yet
        rows = [] if "no such table" in str(exc) else None
        if rows is None:
            raise StoreError(f"{path}: {exc}") from exc
    finally:
        conn.close()
    records = [{"id": r["id"], "day": r["day"], "who": r["who"], "topic": r["topic"], "by": r["trainer"],
                "recorded_at": r["recorded_at"]} for r in rows]
    if args.json:
        print(strict_json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("没有培训记录 / no training records")
    for r in records:
        print(f"{r['day']}  {r['who']}  {r['topic']}  培训人 / by {r['by']}")
    return 0
