"""A new Wi-Fi network or broker password for one station, over the HTTP API (``docs/fleet.md``, Secrets).

``POST /api/stations/{station}/secrets`` (bearer token, as every change) with
``{"wifi": {"ssid", "password"}, "broker": {"password"}}`` (either or both) sends the station the ``secrets``
command with a new random version and answers 202 ``{"station", "version"}``; the station's status then says
``"secrets": {"version", "state"}`` (``GET /api/stations``). Sent on the pipeline thread after its batch commits,
refused for a station that is not online (the command would be lost with its clean session). The values are
neither stored nor logged; the broker's side of a new password is ``sebiao station-secrets``' (it holds the
Mosquitto files, the gateway does not).
"""

from __future__ import annotations

import asyncio
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge_gateway.core.engine import Engine, Outcome, Outgoing
from edge_gateway.model.protocol import cmd_topic
from edge_gateway.model.station_secrets import SecretsRefused, parse_request, secrets_command
from edge_gateway.web.alarm_actions import ANSWER_SECONDS
from edge_gateway.web.stations_api import unknown_station
from sebiao_common import strict_json
from sebiao_common.errors import BodyTooLarge, SebiaoError
from sebiao_common.http_body import read_body

MAX_BODY = 1024


class _Offline(SebiaoError):
    pass


async def station_secrets(request: Request) -> Response:
    ctx = request.app.state.ctx
    station_id = request.path_params["station"]
    if (unknown := unknown_station(ctx.config, ctx.workshop, station_id)) is not None:
        return unknown
    try:
        body = strict_json.loads(await read_body(request, MAX_BODY) or b"{}")
        req = parse_request(body)
    except BodyTooLarge as exc:
        return JSONResponse({"error": str(exc)}, status_code=413)
    except (strict_json.JsonError, SecretsRefused) as exc:
        return JSONResponse({"error": f"请求不对 / bad request: {exc}"}, status_code=400)
    version = secrets.token_hex(6)
    payload = secrets_command(version, req)

    def send(engine: Engine, now: int, out: Outcome) -> dict[str, object]:
        state = engine.stations.get(station_id)
        if state is None or not state.online:
            raise _Offline(f"读卡站 {station_id} 不在线，未发送 / station {station_id} is not online: nothing sent")
        out.messages.append(Outgoing(topic=cmd_topic(engine.ws, station_id), payload=payload))
        return {"station": station_id, "version": version, "sent_at": now}

    try:
        sent = await asyncio.wait_for(asyncio.wrap_future(ctx.pipeline.call(send)), ANSWER_SECONDS)
    except _Offline as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except TimeoutError:
        return JSONResponse({"error": f"网关未在 {ANSWER_SECONDS} 秒内处理 / the gateway did not answer within "
                                      f"{ANSWER_SECONDS} s"}, status_code=504)
    return JSONResponse(sent, status_code=202)


def routes() -> list[BaseRoute]:
    return [Route("/api/stations/{station}/secrets", station_secrets, methods=["POST"])]
