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

Streams are capped per client address (``per_client``: a browser opens at most
six connections to one host, so a real page never needs more) and in all
(``max_subscribers``): one client holding many streams cannot take the slots of
the shop's TV.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from edge_gateway.errors import StoreError
from edge_gateway.web.server import HttpRefusals
from sebiao_common import strict_json
from sebiao_common.clock import Clock

log = logging.getLogger(__name__)

RETRY_MS = 1000  # the browser reconnects this long after losing the stream
PING_SECONDS = 15  # keeps proxies and NAT from closing an idle stream
RECHECK_SECONDS = 5.0  # a stream that must stay allowed (the console's) asks again at least this often

Allowed = Callable[[], Awaitable[bool]]
MAX_STREAMS = 200  # open streams of one feed
STREAMS_PER_CLIENT = 6  # open streams of one feed from one address


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

    async def next_within(self, seconds: float) -> Snapshot | None:
        """The next snapshot, or None when none came within ``seconds`` (nothing is lost: it stays pending)."""
        try:
            await asyncio.wait_for(self.ready.wait(), seconds)
        except TimeoutError:
            return None
        return await self.next()


class LiveFeed:
    def __init__(self, name: str, compute: Callable[[], Mapping[str, object]], refresh: float, *, clock: Clock,
                 refusals: HttpRefusals, max_subscribers: int = MAX_STREAMS,
                 per_client: int = STREAMS_PER_CLIENT) -> None:
        """``compute`` makes the snapshot (its ``generated_at`` from the same ``clock``, the gateway's)."""
        self.name = name
        self.clock = clock
        self.compute = compute
        self.refresh = refresh
        self.refusals = refusals
        self.max_subscribers = max_subscribers
        self.per_client = per_client
        self._streams: Counter[str] = Counter()  # open streams by client address (taken in ``response``)
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

    async def stream(self, last_event_id: str | None,
                     allowed: Allowed | None = None) -> AsyncIterator[dict[str, str | int]]:
        """``allowed``: asked before each snapshot and at least every ``RECHECK_SECONDS``; the stream ends
        when it says no (the console's session was logged out elsewhere)."""
        snapshot = await self.current()
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        try:
            if snapshot.id != last_event_id:
                subscriber.offer(Snapshot(id=snapshot.id, data=_with_time(snapshot.data, self.clock())))
            yield {"event": "hello", "data": strict_json.dumps({"feed": self.name}), "retry": RETRY_MS}
            while True:
                sent = await subscriber.next() if allowed is None else await subscriber.next_within(RECHECK_SECONDS)
                if allowed is not None and not await allowed():
                    return
                if sent is not None:
                    yield {"event": "snapshot", "id": sent.id, "data": sent.data}
        finally:
            self._subscribers.discard(subscriber)

    @property
    def streams(self) -> int:
        return sum(self._streams.values())

    async def response(self, request: Request, allowed: Allowed | None = None) -> Response:
        try:
            await self.current()
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "2"})
        # From the check to the slot taken there is no await: no other request comes in between.
        client = request.client.host if request.client else "unknown"
        if self._streams[client] >= self.per_client:
            self.refusals.count("live_client", f"{client} already has {self.per_client} {self.name} streams")
            return _busy(f"此设备打开的实时页面过多（最多 {self.per_client} 个）/ "
                         f"too many live pages open from this device (at most {self.per_client})")
        if self.streams >= self.max_subscribers:
            self.refusals.count("live_total", f"{self.max_subscribers} {self.name} streams are open")
            return _busy("实时页面连接过多 / too many live pages are open")
        self._streams[client] += 1
        return _Stream(self.stream(request.headers.get("last-event-id"), allowed),
                       release=lambda: self._release(client),
                       ping=PING_SECONDS, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    def _release(self, client: str) -> None:
        self._streams[client] -= 1
        if self._streams[client] <= 0:
            del self._streams[client]


class _Stream(EventSourceResponse):
    """An SSE response that gives its client's slot back however it ends (sent, cut, cancelled)."""

    def __init__(self, *args: object, release: Callable[[], None], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def _busy(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "10"})


def _with_time(data: str, generated_at: int | None) -> str:
    """The snapshot's JSON with its generation time added (kept out of the change comparison)."""
    if generated_at is None:
        return data
    return data[:-1] + f',"generated_at":{generated_at}}}'
