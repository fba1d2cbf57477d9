"""The stations in the HTTP API, for the installer's commissioning check (``docs/http-api.md``, ``sebiao commission``).

``GET /api/stations`` gives each station of the config as the gateway last heard it: online, its clock (set, and
no ``station_clock`` alarm), and ``played``, the last feedback command with a ``seq`` the station confirmed in
its status (``docs/protocol.md``). ``POST /api/stations/{station}/test`` sends it the ``test`` pattern (red,
green, buzzer in turn, about 2 s) on its ``cmd`` topic with a new ``seq``; the station's next status says
whether it played it. The send runs on the pipeline thread (published after its batch commits, like feedback),
refused for a station that is not online (an MQTT session would keep it for a station that comes back hours
later) and held to one a station every ``TEST_INTERVAL_S``.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge_gateway.core.engine import Engine, Outcome, Outgoing
from edge_gateway.model.protocol import cmd_topic, encode_command
from edge_gateway.model.station_clock import STATION_CLOCK
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.store.writer import connect
from edge_gateway.web.alarm_actions import ANSWER_SECONDS
from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError

TEST_PATTERN = "test"
TEST_INTERVAL_S = 5.0  # one test a station every 5 s: a pattern lasts 2 s, a script cannot make a station buzz on


class _Refused(SebiaoError):
    """Answered to the caller (the pipeline passes a ``SebiaoError`` on to the future)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


class _Tests:
    """The last test sent to each station (monotonic seconds) and the newest ``seq``; bounded by the config's
    stations, since only those are tested."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, float] = {}
        self.seq = 0

    def reserve(self, station: str) -> None:
        with self.lock:
            wait = self.sent.get(station, -math.inf) + TEST_INTERVAL_S - time.monotonic()
            if wait > 0:
                raise _Refused(429, f"读卡站 {station} 刚测试过，请 {math.ceil(wait)} 秒后再试 / station {station} "
                                    f"was tested less than {TEST_INTERVAL_S:g} s ago: try again in {math.ceil(wait)} s",
                               retry_after=math.ceil(wait))
            self.sent[station] = time.monotonic()

    def next_seq(self, now: int) -> int:
        """The gateway's clock in ms, kept increasing: new after a restart too, so an old confirmation never
        passes for a new one."""
        with self.lock:
            self.seq = max(now, self.seq + 1)
            return self.seq


def unknown_station(config: WorkshopConfig, workshop: str, station_id: str) -> JSONResponse | None:
    """The 404 for a station id that is not one of the config's (the id is the caller's: cut, never echoed long)."""
    if config.station(station_id) is not None:
        return None
    return JSONResponse({"error": f"读卡站 {station_id!r} 不在作坊 {workshop} 的配置中 / station "
                                  f"{station_id!r} is not a station of workshop {workshop}"[:300]}, status_code=404)


def _rows(path: Path, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _health(text: str) -> Mapping[str, object]:
    try:
        value = strict_json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stations(ctx) -> list[dict[str, object]]:
    rows = {r["id"]: r for r in _rows(ctx.db_path, "SELECT * FROM stations")}
    clock_wrong = {r["subject"] for r in _rows(ctx.db_path, "SELECT subject FROM alarms WHERE type = ? AND "
                                                            "state = 'active'", (STATION_CLOCK,))}
    out = []
    for station in ctx.config.stations:
        row = rows.get(station.id)
        health = _health(row["health"]) if row else {}
        synced = health.get("clock_synced")
        played = health.get("played") if isinstance(health.get("played"), dict) else None
        sent_at = played.get("sent_at") if played else None
        last_seen = row["last_seen"] if row and row["last_seen"] else None
        out.append({
            "id": station.id, "name": station.name, "kind": station.kind.value, "zone": station.zone,
            "online": bool(row["online"]) if row else False, "last_seen": last_seen,
            "fw": health.get("fw") if isinstance(health.get("fw"), str) else None,
            "clock_synced": synced if isinstance(synced, bool) else None,
            "clock_alarm": station.id in clock_wrong,
            "played": played,
            # the station's clock when it sent its newest status, less the gateway's receive time of that status
            # (its last_seen): within the message's way over the network, when no event came after it
            "clock_offset_ms": sent_at - last_seen if isinstance(sent_at, int) and sent_at > 0 and last_seen else None,
            # remote settings and secrets as the station reports them (docs/fleet.md)
            **{k: health.get(k) for k in ("settings", "settings_error", "secrets")},
        })
    return out


async def station_list(request: Request) -> Response:
    ctx = request.app.state.ctx
    return JSONResponse(await asyncio.to_thread(_stations, ctx))


def test_route(tests: _Tests):
    async def station_test(request: Request) -> Response:
        ctx = request.app.state.ctx
        station_id = request.path_params["station"]
        if (unknown := unknown_station(ctx.config, ctx.workshop, station_id)) is not None:
            return unknown

        def send(engine: Engine, now: int, out: Outcome) -> dict[str, object]:
            state = engine.stations.get(station_id)
            if state is None or not state.online:
                raise _Refused(409, f"读卡站 {station_id} 不在线，未发送测试 / station {station_id} is not online: "
                                    "no test sent")
            tests.reserve(station_id)
            seq = tests.next_seq(now)
            out.messages.append(Outgoing(topic=cmd_topic(engine.ws, station_id),
                                         payload=encode_command("feedback", pattern=TEST_PATTERN, seq=seq)))
            return {"station": station_id, "pattern": TEST_PATTERN, "seq": seq, "sent_at": now}

        try:
            sent = await asyncio.wait_for(asyncio.wrap_future(ctx.pipeline.call(send)), ANSWER_SECONDS)
        except _Refused as refused:
            headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
            return JSONResponse({"error": refused.message}, status_code=refused.status, headers=headers)
        except TimeoutError:
            return JSONResponse({"error": f"网关未在 {ANSWER_SECONDS} 秒内处理 / the gateway did not answer within "
                                          f"{ANSWER_SECONDS} s"}, status_code=504)
        return JSONResponse(sent, status_code=202)

    return station_test


def routes() -> list[BaseRoute]:
    return [
        Route("/api/stations", station_list),
        Route("/api/stations/{station}/test", test_route(_Tests()), methods=["POST"]),
    ]
