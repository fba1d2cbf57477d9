"""Alarm actions (acknowledge, clear) as the HTTP API and the console both take them.

The body is read the same way on both doors (at most 16 KiB, refused as soon
as it is over: ``sebiao_common.http_body``; one strict JSON object);
each door then checks ``by`` and ``comment`` with its own words. The action
itself runs on the pipeline thread (``Pipeline.call``), so there is one writer.
"""

from __future__ import annotations

from concurrent.futures import Future

from starlette.requests import Request

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.errors import AlarmActionError, AlarmNotFound
from edge_gateway.model.alarms import Alarm
from sebiao_common import strict_json
from sebiao_common.http_body import read_body

MAX_BODY = 16 * 1024
# SQLite's INTEGER: a larger id in the path names no alarm, and would overflow the store's query on the
# pipeline thread (a fault there stops the pipeline), so it is answered here
MAX_ALARM_ID = 2**63 - 1
VERBS = ("ack", "clear")  # the last part of the action's path


async def action_body(request: Request) -> dict[str, object]:
    """The request body of an alarm action as a JSON object; its fields are the caller's to check.
    ``BodyTooLarge`` past ``MAX_BODY``, ``AlarmActionError`` when it is not a JSON object."""
    raw = await read_body(request, MAX_BODY)
    try:
        body = strict_json.loads(raw or b"{}")
    except strict_json.JsonError as exc:
        raise AlarmActionError(f"请求体不是有效的 JSON / the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise AlarmActionError("the body must be a JSON object with 'by' and 'comment'")
    return body


def submit_action(pipeline: Pipeline, verb: str, alarm_id: int, by: str, comment: str | None) -> Future[Alarm]:
    """Acknowledge (``ack``) or clear the alarm on the pipeline thread; the future holds the alarm after."""
    if not 0 < alarm_id <= MAX_ALARM_ID:
        refused: Future[Alarm] = Future()
        refused.set_exception(AlarmNotFound(f"alarm {alarm_id} does not exist"))
        return refused

    def act(engine: Engine, now: int, out: Outcome) -> Alarm:
        if verb == "ack":
            return engine.acknowledge(alarm_id, by, comment, now, out)
        return engine.clear(alarm_id, by, comment, now, out)

    return pipeline.call(act)
