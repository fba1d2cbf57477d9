"""The notify worker: each district's digest written when due, then the waiting messages sent.

One thread per cloud process, started and stopped by the app's lifespan when the config has ``notify:``. Each
round:

1. for each district with ``digest_at``: once its local time has passed today's ``digest_at`` and no digest row
   for today exists, the digest is built and one row per channel inserted (insert-or-ignore on (district,
   channel, ``digest:{day}``): once per day whatever the restarts and the number of workers);
2. due rows are claimed (``outbox.claim``) and sent in id order, each channel on its own: a channel that fails
   waits (exponential back-off with jitter, at least the receiver's Retry-After, at most ``retry_max_seconds``)
   and its other rows wait with it, the other channels go on. A message refused as malformed (400/413/422) is
   given up at once; one not accepted within ``give_up_hours`` is given up with its last error (shown in
   /healthz and on the admin's page). In quiet hours only the listed severities go; the rest wait. At most
   ``PER_MINUTE`` messages a minute go to one robot channel (they take 20); a burst waits its turn.

A row is marked sent right after the receiver's answer; only a crash between the two repeats one, and the
notice's ``id`` lets a receiver drop it.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from typing import Callable, Self

from sqlalchemy import Connection, Engine, select

from cloud_ingest.config import DistrictNotify, Notify
from cloud_ingest.errors import StorageError
from cloud_ingest.notify import outbox
from cloud_ingest.notify.notices import digest_notice, digest_window
from cloud_ingest.store import db
from cloud_ingest.store.notify_table import notify_outbox as table
from cloud_ingest.store.schema import districts
from cloud_ingest.store.worker_loop import RoundWorker
from sebiao_common import strict_json
from sebiao_common.http_answers import OK, REFUSED, REJECTED, backoff, sink_pool
from sebiao_common.notify.channels import Channel
from sebiao_common.notify.message import local_time
from sebiao_common.notify.send import Result, post

log = logging.getLogger(__name__)
IDLE_POLL = 0.5
BATCH = 50
QUIET_RECHECK_MS = 60_000
PRUNE_EVERY_MS = 3600_000
PER_MINUTE = 18  # per robot channel, as the gateway's notify worker
ROBOTS = ("wecom", "dingtalk")  # a webhook has no such limit


class NotifyWorker(RoundWorker):
    THREAD = "sebiao-cloud-notify"
    SUBJECT = "notify outbox"
    NAME = "notify worker"
    SURVIVES_DEFECTS = True  # a defect must not end the district's alarms for good

    def __init__(self, engine: Engine, settings: Notify, clock: Callable[[], int]) -> None:
        super().__init__()
        self.engine, self.settings, self.clock = engine, settings, clock
        self.http = sink_pool(settings.timeout_seconds)
        self.places = {d.district: d for d in settings.districts}
        self.channels: dict[tuple[str, str], Channel] = {
            (d.district, c.name): c for d in settings.districts for c in d.channels}
        self.failures: dict[tuple[str, str], int] = {}
        self.wait_until: dict[tuple[str, str], int] = {}
        self.recent: dict[tuple[str, str], deque[int]] = {}  # each channel's send times in the last minute (ms)
        self.last_error: str | None = None
        self._next_prune = 0

    def start(self) -> Self:
        self._warn_unknown()
        return super().start()

    def _warn_unknown(self) -> None:
        """A district in the config that the cloud does not have yet is not an error (an admin may create it
        later), but it is said at start: a typo would otherwise stay silent."""
        try:
            with db.read(self.engine) as conn:
                known = set(conn.execute(select(districts.c.id)).scalars())
        except StorageError:
            return
        for place in self.settings.districts:
            if place.district not in known:
                log.warning("notify.districts.%s: no such district in the cloud (yet); its channels get nothing "
                            "until it is created", place.district)

    def close(self) -> None:
        self.http.clear()

    def failed(self, error: str) -> None:
        self.last_error = error

    def round(self) -> float:
        now = self.clock()
        for place in self.settings.districts:
            if place.digest_at is not None:
                self.digest(place, now)
        if now >= self._next_prune:
            with db.write(self.engine) as conn:
                outbox.prune(conn, now)
            self._next_prune = now + PRUNE_EVERY_MS
        with outbox.claim(self.engine, now, BATCH) as (marks, rows):
            for row in rows:
                if self._stop.is_set():
                    break
                self._one(marks, row)
        return 0.0 if len(rows) == BATCH else IDLE_POLL

    def digest(self, place: DistrictNotify, now: int) -> bool:
        """Today's digest of ``place`` queued when its time has come and it is not there yet."""
        local = local_time(now, place.timezone)
        moment = datetime.combine(local.date(), place.digest_at, tzinfo=local.tzinfo)  # type: ignore[arg-type]
        if local < moment:
            return False
        key = f"digest:{local.date().isoformat()}"
        with db.read(self.engine) as conn:
            if conn.execute(select(table.c.id).where(table.c.district_id == place.district, table.c.key == key)
                            .limit(1)).first() is not None:
                return False
        start, end = digest_window(local.date(), moment)
        with db.write(self.engine) as conn:
            notice = digest_notice(conn, place.district, local.date(), start, end,
                                   int(self.settings.silent_hours * 3_600_000), self.settings.base_url)
            added = outbox.insert_new(conn, [{
                "district_id": place.district, "channel": c.name, "key": key, "kind": "digest", "workshop_id": None,
                "alarm_id": None, "severity": None, "notice": strict_json.dumps(notice), "created": now,
                "attempts": 0, "next_try": now} for c in place.channels])
        if added:
            log.info("notify: the digest of %s for %s queued for %d channel(s)", place.district, key[7:], added)
        return bool(added)

    def _one(self, marks: outbox.Marks, row: outbox.Row) -> None:
        key = (row.district_id, row.channel)
        channel, now = self.channels.get(key), self.clock()
        if channel is None:  # the config no longer has it: set aside with the reason, not waited for
            marks.run(lambda c: outbox.failed(c, row.id, "通道已不在配置中 / the channel is no longer configured",
                                              next_try=None, now=now))
            return
        if self.wait_until.get(key, 0) > now:  # the channel is backing off: its rows wait with it
            until = self.wait_until[key]
            marks.run(lambda c: outbox.hold(c, [row.id], until))
            return
        recent = self.recent.setdefault(key, deque())
        while recent and recent[0] <= now - 60_000:
            recent.popleft()
        if channel.kind in ROBOTS and len(recent) >= PER_MINUTE:  # under the robots' 20 a minute: a burst waits
            until = recent[0] + 60_000
            marks.run(lambda c: outbox.hold(c, [row.id], until))
            return
        recent.append(now)
        quiet = self.places[row.district_id].quiet_hours
        if quiet is not None and quiet.quiet_at(local_time(now, self.places[row.district_id].timezone).time()) \
                and row.severity not in quiet.severities:
            marks.run(lambda c: outbox.hold(c, [row.id], now + QUIET_RECHECK_MS))
            return
        try:
            result = post(self.http, channel, strict_json.loads(row.notice), now)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a row that cannot be read
            result = Result(outcome=REJECTED, status=0, reason=f"unreadable notice: {type(exc).__name__}: {exc}")
        marks.run(lambda c: self._settle(c, key, row, result, self.clock()))

    def _settle(self, conn: Connection, key: tuple[str, str], row: outbox.Row, result: Result, now: int) -> None:
        name = f"{key[0]}/{key[1]}"
        if result.outcome == OK:
            outbox.sent(conn, row.id, now)
            if self.failures.pop(key, 0):
                log.info("notify %s accepts messages again", name)
            self.wait_until.pop(key, None)
            if not self.failures:
                self.last_error = None
            return
        self.last_error = f"{name}: {result.reason}"
        give_up = result.outcome == REJECTED or now - row.created >= self.settings.give_up_hours * 3_600_000
        if give_up:
            log.error("notify %s gave up message %d: %s", name, row.id, result.reason)
            outbox.failed(conn, row.id, result.reason, next_try=None, now=now)
            return
        failures = self.failures.get(key, 0) + 1
        if failures == 1:
            log.warning("notify %s failing (%s); messages kept, retrying with back-off", name, result.reason)
        self.failures[key] = failures
        delay = backoff(failures=failures, cap=self.settings.retry_max_seconds, refused=result.outcome == REFUSED,
                        retry_after=result.retry_after)
        self.wait_until[key] = now + int(delay * 1000)
        outbox.failed(conn, row.id, result.reason, next_try=self.wait_until[key], now=now)


def start_worker(engine: Engine, settings: Notify | None, clock: Callable[[], int]) -> NotifyWorker | None:
    """The process's notify worker (None without ``notify:``), started."""
    return NotifyWorker(engine, settings, clock).start() if settings is not None else None


def health(engine: Engine, worker: NotifyWorker | None, now: int) -> dict:
    """For /healthz: each channel's messages (sent and failed in the last 24 h, waiting) and last error."""
    if outbox.settings_of(engine) is None:
        return {}
    with db.read(engine) as conn:
        channels = outbox.channel_states(conn, now - 86_400_000)
    return {"notify": {"running": bool(worker and worker.alive), "last_error": worker.last_error if worker else None,
                       "channels": channels}}
