"""The notify worker in-process, on a real store and a loopback receiver, with a clock the test moves: quiet
hours end, pacing under the robots' limit, a hanging receiver, and the ``notify_failed`` alarm."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from notify_receiver import NotifyReceiver
from prometheus_client import CollectorRegistry
from servers import example_config

from edge_gateway.model.rules import Clear, Raise
from edge_gateway.sinks.notify import outbox as notify_outbox
from edge_gateway.sinks.notify.config import Channel, NotifySettings, QuietHours
from edge_gateway.sinks.notify.notice import Notices
from edge_gateway.sinks.notify.outbox import NotifyOutbox
from edge_gateway.sinks.notify.send import PER_MINUTE, NotifyWorker
from edge_gateway.store.writer import Store
from sebiao_common import strict_json

UTC = ZoneInfo("UTC")
NIGHT = int(datetime(2026, 12, 4, 23, 0, tzinfo=timezone.utc).timestamp() * 1000)
MORNING = int(datetime(2026, 12, 5, 7, 0, tzinfo=timezone.utc).timestamp() * 1000)


class Rig:
    def __init__(self, tmp_path, channel: Channel, **settings) -> None:
        self.store = Store(tmp_path / "gateway.sqlite3")
        notify_outbox.create(self.store.conn)
        self.now = NIGHT
        self.alarms: list[Raise | Clear] = []
        self.worker = NotifyWorker(NotifySettings(channels=(channel,), timezone=UTC, retry_max_seconds=0.5,
                                                  **settings),
                                   NotifyOutbox(self.store.path), self.alarms.append, CollectorRegistry(),
                                   lambda: self.now)
        self.next_id = 1
        self.notices = Notices(example_config(), None, UTC)

    def queue(self, severity: str, channel: str) -> None:
        notice = {**self.notices.test("any", self.now), "id": f"ws:{self.next_id}"}
        with self.store.transaction():
            self.store.conn.execute("INSERT INTO notify_outbox (history_id, channel, severity, created, notice) "
                                    "VALUES (?,?,?,?,?)", (self.next_id, channel, severity, self.now,
                                                           strict_json.dumps(notice)))
        self.next_id += 1

    def close(self) -> None:
        self.worker.outbox.close()
        self.store.close()


@pytest.fixture
def hook():
    receiver = NotifyReceiver()
    yield receiver
    receiver.stop()


def _hook(receiver: NotifyReceiver) -> Channel:
    return Channel(name="hook", kind="webhook", url=f"{receiver.base}/x")


def test_quiet_hours_hold_the_rest_until_the_window_ends(tmp_path, hook):
    quiet = QuietHours(start=datetime(1, 1, 1, 22, 0).time(), end=datetime(1, 1, 1, 7, 0).time(),
                       severities=("critical",))
    rig = Rig(tmp_path, _hook(hook), quiet_hours=quiet)
    try:
        rig.queue("warning", "hook")
        rig.queue("critical", "hook")
        rig.worker.round()
        assert [r.body["id"] for r in hook.received] == ["ws:2"]
        assert rig.worker.depth() == 1
        rig.now = MORNING - 1000  # still quiet
        rig.worker.round()
        assert len(hook.received) == 1
        rig.now = MORNING
        rig.worker.round()
        assert [r.body["id"] for r in hook.received] == ["ws:2", "ws:1"] and rig.worker.depth() == 0
        rig.worker.round()  # nothing twice
        assert len(hook.received) == 2
    finally:
        rig.close()


def test_a_burst_is_paced_under_the_robots_limit(tmp_path, hook):
    rig = Rig(tmp_path, Channel(name="群", kind="wecom", url=f"{hook.base}/cgi-bin/webhook/send?key=k"))
    try:
        for _ in range(PER_MINUTE + 5):
            rig.queue("major", "群")
        rig.worker.round()
        assert len(hook.received) == PER_MINUTE < 20
        rig.now += 61_000
        rig.worker.round()
        assert len(hook.received) == PER_MINUTE + 5 and rig.worker.depth() == 0
    finally:
        rig.close()


def test_a_hanging_receiver_times_out_and_the_message_is_kept(tmp_path, hook):
    hook.mode = "hang"
    rig = Rig(tmp_path, _hook(hook), timeout_seconds=0.5)
    try:
        rig.queue("major", "hook")
        rig.worker.round()
        assert rig.worker.depth() == 1 and "hook" in rig.worker.last_error
        hook.release()
        hook.mode = "ok"
        rig.now += 5_000
        rig.worker.round()
        assert rig.worker.depth() == 0 and rig.worker.last_error is None
        assert [r.answered for r in hook.received] == ["hang", "ok"]
    finally:
        rig.close()


def test_notify_failed_after_a_long_outage_and_cleared_after(tmp_path, hook):
    hook.mode = "error"
    rig = Rig(tmp_path, _hook(hook), failed_after_minutes=30)
    try:
        rig.queue("major", "hook")
        rig.worker.round()
        rig.now += 29 * 60_000
        rig.worker.round()
        assert rig.alarms == []  # a short outage raises nothing
        rig.now += 61_000
        rig.worker.round()
        assert [(type(a), a.type, a.subject) for a in rig.alarms] == [(Raise, "notify_failed", "notify:hook")]
        rig.now += 60_000
        rig.worker.round()
        assert len(rig.alarms) == 1  # raised once
        hook.mode = "ok"
        rig.now += 60_000
        rig.worker.round()
        assert [type(a) for a in rig.alarms] == [Raise, Clear] and rig.worker.depth() == 0
        assert len(hook.accepted()) == 1
    finally:
        rig.close()


def test_a_refused_key_raises_notify_failed_at_once(tmp_path, hook):
    hook.mode = "refused"
    rig = Rig(tmp_path, Channel(name="群", kind="wecom", url=f"{hook.base}/cgi-bin/webhook/send?key=wrong"))
    try:
        rig.queue("major", "群")
        rig.worker.round()
        assert [a.type for a in rig.alarms] == ["notify_failed"] and "93000" in rig.alarms[0].text_en
        assert rig.worker.depth() == 1  # kept for when the key is fixed
    finally:
        rig.close()


def test_a_message_that_cannot_be_read_is_set_aside_not_a_crash(tmp_path, hook):
    rig = Rig(tmp_path, _hook(hook))
    try:
        with rig.store.transaction():
            rig.store.conn.execute("INSERT INTO notify_outbox (history_id, channel, severity, created, notice) "
                                   "VALUES (99, 'hook', 'major', 0, '{\"id\": 1')")
        rig.queue("major", "hook")
        rig.worker.round()
        assert [r.body["id"] for r in hook.received] == ["ws:1"] and rig.worker.depth() == 0
        gave_up = rig.store.conn.execute("SELECT history_id, last_error FROM notify_outbox "
                                         "WHERE gave_up_at IS NOT NULL").fetchall()
        assert [g[0] for g in gave_up] == [99] and gave_up[0][1]
    finally:
        rig.close()


def test_the_worker_starts_and_stops_like_the_other_sinks(tmp_path, hook):
    rig = Rig(tmp_path, _hook(hook))
    rig.queue("major", "hook")
    rig.worker.start()
    try:
        hook.wait_for(1)
        assert rig.worker.alive
    finally:
        rig.worker.stop(timeout=5)
        rig.store.close()
    assert not rig.worker.alive


def test_messages_for_a_channel_taken_out_of_the_config_are_set_aside(tmp_path, hook):
    rig = Rig(tmp_path, _hook(hook))
    try:
        rig.queue("major", "gone")
        rig.queue("major", "hook")
        again = NotifyWorker(rig.worker.settings, NotifyOutbox(rig.store.path), rig.alarms.append,
                             CollectorRegistry(), lambda: rig.now)
        assert again.depth() == 1
        again.round()
        assert [r.body["id"] for r in hook.received] == ["ws:2"] and again.depth() == 0
        assert again.counts()["sent"] == 1
        again.outbox.close()
        aside = rig.store.conn.execute("SELECT channel, last_error FROM notify_outbox WHERE gave_up_at IS NOT NULL")
        assert [tuple(r) for r in aside] == [("gone", "channel no longer configured")]
    finally:
        rig.close()
