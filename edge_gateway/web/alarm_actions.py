"""Alarm actions (acknowledge, clear) as the HTTP API and the console both take them.

The body is read the same way on both doors (at most 16 KiB, refused as soon
as it is over: ``sebiao_common.http_body``; one strict JSON object);
each door then checks ``by`` and ``comment`` with its own words. The action
itself runs on the pipeline thread (``Pipeline.call``), so there is one writer;
``perform_action`` is the whole walk, and a refusal is one ``ActionRefused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future

from starlette.requests import Request

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.errors import AlarmActionError, AlarmNotFound
from edge_gateway.model.alarms import Alarm
from sebiao_common import strict_json
from sebiao_common.errors import BodyTooLarge
from sebiao_common.http_body import read_body

MAX_BODY = 16 * 1024
# SQLite's INTEGER: a larger id in the path names no alarm, and would overflow the store's query on the
# pipeline thread (a fault there stops the pipeline), so it is answered here
MAX_ALARM_ID = 2**63 - 1
VERBS = ("ack", "clear")  # the last part of the action's path
ANSWER_SECONDS = 10  # the pipeline's answer, at most


class ActionRefused(Exception):
    """An alarm action answered with ``status`` and ``message`` instead of the alarm."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def perform_action(request: Request, pipeline: Pipeline, verb: str,
                         who: Callable[[dict[str, object]], tuple[str, str | None]]) -> Alarm:
    """Both doors' action: the body read, ``who(body)`` (each door's check of ``by`` and ``comment``),
    the action run on the pipeline thread; the alarm after it, or ``ActionRefused`` (413 body too
    large, 400 bad body, the lifecycle's own status, 504 no answer within ``ANSWER_SECONDS``)."""
    try:
        by, comment = who(await action_body(request))
    except BodyTooLarge as exc:
        raise ActionRefused(413, str(exc)) from exc
    except AlarmActionError as exc:
        raise ActionRefused(400, str(exc)) from exc
    future = submit_action(pipeline, verb, request.path_params["alarm_id"], by, comment)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=ANSWER_SECONDS)
    except AlarmActionError as exc:
        raise ActionRefused(exc.status, str(exc)) from exc
    except TimeoutError as exc:
        raise ActionRefused(504, f"网关未在 {ANSWER_SECONDS} 秒内处理 / "
                                 f"the gateway did not answer within {ANSWER_SECONDS} s") from exc


async def action_body(request: Request) -> dict[str, object]:
    """The request body of an alarm action as a JSON object; its fields are the caller's to check.
    ``BodyTooLarge`` past ``MAX_BODY``, ``AlarmActionError`` when it is not a JSON object."""
    raw = await read_body(request, MAX_BODY)
    try:
        body = strict_json.loads(raw or b"{}")
    except strict_json.JsonError as exc:
        raise AlarmActionError(f"请求体不是有效的 JSON / the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise AlarmActionError("请求体须为含 by 与 comment 的 JSON 对象 / the body must be a JSON object with 'by' "
                               "and 'comment'")
    return body


def submit_action(pipeline: Pipeline, verb: str, alarm_id: int, by: str, comment: str | None) -> Future[Alarm]:
    """Acknowledge (``ack``) or clear the alarm on the pipeline thread; the future holds the alarm after."""
    if not 0 < alarm_id <= MAX_ALARM_ID:
        refused: Future[Alarm] = Future()
        refused.set_exception(AlarmNotFound(f"没有编号为 {alarm_id} 的报警 / alarm {alarm_id} does not exist"))
        return refused

    def act(engine: Engine, now: int, out: Outcome) -> Alarm:
        if verb == "ack":
            return engine.acknowledge(alarm_id, by, comment, now, out)
        return engine.clear(alarm_id, by, comment, now, out)

    return pipeline.call(act)
