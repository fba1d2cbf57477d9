"""Live feeds: snapshots pushed to the pages by Server-Sent Events.

A :class:`LiveFeed` owns one kind of snapshot (the public display's, the
console's). The pipeline calls :meth:`LiveFeed.notify` on its own thread after
every commit that changed tool or alarm state; the feed's task, on the web
server's event loop, then recomputes the snapshot (in a worker thread: it reads
SQLite) and hands it to every connected page. It also recomputes every
``refresh`` seconds while pages are connected (station health, clocks, day
boundaries change without an event). A snapshot identical to the previous one
is not sent again.

Protocol (see ``docs/display.md``): every message is ``event: snapshot`` with
``id: <boot>-<version>`` and the whole snapshot as JSON in ``data``. On
(re)connect the server sends the latest snapshot at once, unless the browser's
``Last-Event-ID`` already names it, so a page that lost the connection catches
up by itself. Each subscriber keeps only the newest snapshot: a slow page skips
intermediate ones instead of queueing them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from edge_gateway.errors import StoreError
from sebiao_common import strict_json
from sebiao_common.clock import Clock

log = logging.getLogger(__name__)

RETRY_MS = 1000  # the browser reconnects this long after losing the stream
PING_SECONDS = 15  # keeps proxies and NAT from closing an idle stream


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    id: str
    data: str  # JSON


class _Subscriber:
    """The newest snapshot not yet sent to one page (older ones are dropped)."""

    def __init__(self) -> None:
        self.pending: Snapshot | None = None
        self.ready = asyncio.Event()

    def offer(self, snapshot: Snapshot) -> None:
        self.pending = snapshot
        self.ready.set()

    async def next(self) -> Snapshot:
        await self.ready.wait()
        self.ready.clear()
        snapshot, self.pending = self.pending, None
        assert snapshot is not None
        return snapshot


class LiveFeed:
    def __init__(self, name: str, compute: Callable[[], Mapping[str, object]], refresh: float, *, clock: Clock,
                 max_subscribers: int = 200) -> None:
        """``compute`` makes the snapshot (its ``generated_at`` from the same ``clock``, the gateway's)."""
        self.name = name
        self.clock = clock
        self.compute = compute
        self.refresh = refresh
        self.max_subscribers = max_subscribers
        self.boot = secrets.token_hex(3)
        self.version = 0
        self.latest: Snapshot | None = None
        self._subscribers: set[_Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self.last_error: str | None = None

    # -- any thread -----------------------------------------------------------

    def notify(self, _outcome: object = None) -> None:
        """Called by the pipeline after a commit that changed state (its thread): cheap, never blocks."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    # -- the event loop -------------------------------------------------------

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name=f"sebiao-live-{self.name}")

    async def current(self) -> Snapshot:
        """The latest snapshot, computed now when there is none yet."""
        self._ensure_running()
        if self.latest is None:
            await self._update()
        if self.latest is None:
            raise StoreError(f"the {self.name} snapshot cannot be read: {self.last_error}")
        return self.latest

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.refresh)
            except TimeoutError:
                if not self._subscribers:
                    continue
            self._wake.clear()
            await self._update()

    async def _update(self) -> None:
        try:
            body = dict(await asyncio.to_thread(self.compute))
        except StoreError as exc:  # the store is busy or failing: try again at the next wake or refresh
            self.last_error = str(exc)
            log.warning("live %s: %s", self.name, exc)
            return
        self.last_error = None
        generated = body.pop("generated_at", None)  # an int (ms): kept out of the comparison below
        data = strict_json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if self.latest is not None and self.latest.data == data:
            return
        self.version += 1
        self.latest = Snapshot(id=f"{self.boot}-{self.version}", data=data)
        full = Snapshot(id=self.latest.id, data=_with_time(data, generated if isinstance(generated, int) else None))
        for subscriber in self._subscribers:
            subscriber.offer(full)

    async def stream(self, last_event_id: str | None) -> AsyncIterator[dict[str, str | int]]:
        snapshot = await self.current()
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        try:
            if snapshot.id != last_event_id:
                subscriber.offer(Snapshot(id=snapshot.id, data=_with_time(snapshot.data, self.clock())))
            yield {"event": "hello", "data": strict_json.dumps({"feed": self.name}), "retry": RETRY_MS}
            while True:
                sent = await subscriber.next()
                yield {"event": "snapshot", "id": sent.id, "data": sent.data}
        finally:
            self._subscribers.discard(subscriber)

    async def response(self, request: Request) -> Response:
        if len(self._subscribers) >= self.max_subscribers:
            return JSONResponse({"error": "too many live pages are open / 实时页面连接过多"}, status_code=503,
                                headers={"Retry-After": "10"})
        try:
            await self.current()
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "2"})
        return EventSourceResponse(self.stream(request.headers.get("last-event-id")), ping=PING_SECONDS,
                                   headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _with_time(data: str, generated_at: int | None) -> str:
    """The snapshot's JSON with its generation time added (kept out of the change comparison)."""
    if generated_at is None:
        return data
    return data[:-1] + f',"generated_at":{generated_at}}}'
