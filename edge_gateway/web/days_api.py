"""The owner's day in the HTTP API (``docs/http-api.md``, ``docs/owner-day.md``).

``GET /api/days`` lists the days with a check, newest first; ``GET /api/days/{day}``
gives that day's opening check and roll call (with the day's summary);
``GET /api/training`` lists the training records, ``POST /api/training`` adds one
(``{"who", "topic", "by", "day"?}``; ``day`` defaults to today in the workshop's
time zone). The write runs on the pipeline thread, so there is one writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.model.day import DAY_TEXT, DEFAULT_DAY, Training, local_day, training
from edge_gateway.store import days
from edge_gateway.store.writer import connect
from edge_gateway.web.alarm_actions import ANSWER_SECONDS, MAX_BODY
from sebiao_common import strict_json
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body


def _rows(path: Path, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def day_list(request: Request) -> Response:
    ctx = request.app.state.ctx
    rows = await asyncio.to_thread(_rows, ctx.db_path, "SELECT DISTINCT day FROM day_checks ORDER BY day DESC")
    return JSONResponse([r["day"] for r in rows])


async def day_detail(request: Request) -> Response:
    ctx = request.app.state.ctx
    day = request.path_params["day"]
    if DAY_TEXT.fullmatch(day) is None:
        return _error(400, f"{day!r} 不是日期 / is not a day YYYY-MM-DD")
    rows = await asyncio.to_thread(_rows, ctx.db_path, "SELECT kind, result FROM day_checks WHERE day = ?", (day,))
    if not rows:
        return _error(404, f"{day} 没有开工检查或收工点检记录 / no opening check or roll call on {day}")
    checks = {r["kind"]: strict_json.loads(r["result"]) for r in rows}
    return JSONResponse({"day": day, "workshop": ctx.workshop, "opening": checks.get("opening"),
                         "roll_call": checks.get("roll_call")})


def training_json(row: sqlite3.Row) -> dict[str, object]:
    return {"id": row["id"], "day": row["day"], "who": row["who"], "topic": row["topic"], "by": row["trainer"],
            "recorded_at": row["recorded_at"]}


async def training_list(request: Request) -> Response:
    ctx = request.app.state.ctx
    rows = await asyncio.to_thread(_rows, ctx.db_path, "SELECT * FROM training ORDER BY day DESC, id DESC")
    return JSONResponse([training_json(r) for r in rows])


async def training_add(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        body = strict_json.loads(await read_body(request, MAX_BODY) or b"{}")
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except strict_json.JsonError as exc:
        return _error(400, f"请求体不是有效的 JSON / the body is not JSON: {exc}")
    if not isinstance(body, dict) or set(body) - {"who", "topic", "by", "day"}:
        return _error(400, "the body is a JSON object with 'who', 'topic', 'by' and optionally 'day'")

    try:
        checked = training(day=body.get("day"), who=body.get("who"), topic=body.get("topic"), by=body.get("by"))
    except ValueError as exc:
        return _error(422, str(exc))

    def add(engine: Engine, now: int, out: Outcome) -> tuple[int, Training]:
        record = replace(checked, day=checked.day or today(engine, now))
        return days.add_training(engine.store.conn, day=record.day, who=record.who, topic=record.topic,
                                 trainer=record.by, now=now), record

    try:
        record_id, record = await asyncio.wait_for(asyncio.wrap_future(ctx.pipeline.call(add)), ANSWER_SECONDS)
    except TimeoutError:
        return _error(504, f"网关未在 {ANSWER_SECONDS} 秒内处理 / the gateway did not answer within {ANSWER_SECONDS} s")
    return JSONResponse({"id": record_id, "day": record.day, "who": record.who, "topic": record.topic,
                         "by": record.by}, status_code=201)


def today(engine: Engine, now: int) -> str:
    """Today in the workshop's time zone (``day.timezone``, else the default)."""
    settings = engine.owner_day.settings if engine.owner_day is not None else DEFAULT_DAY
    return local_day(settings, now)[0]


def routes() -> list[BaseRoute]:
    return [
        Route("/api/days", day_list),
        Route("/api/days/{day}", day_detail),
        Route("/api/training", training_list),
        Route("/api/training", training_add, methods=["POST"]),
    ]
