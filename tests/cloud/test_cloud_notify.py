"""Critical alarms to the district office (双推送) and the daily digest, on SQLite and PostgreSQL, against real
loopback receivers (tests/support/notify_receiver.py): an ingested critical alarm reaches its district's channels
once and never another district's, a receiver outage loses and repeats nothing, the digest is written once per
day with the right counts, a message never accepted is given up visibly, two workers on PostgreSQL never send the
same row, and the real ``sebiao cloud`` process delivers once across a receiver outage and its own restart."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import threading
import time
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, Cloud, alarm, batch, event
from cloud_server import CloudServer
from notify_receiver import NotifyReceiver
from sqlalchemy import func, select
from starlette.testclient import TestClient

from cloud_ingest.app import build_app
from cloud_ingest.config import DistrictNotify, Notify, load_cloud_config
from cloud_ingest.notify.outbox import enabled_engine
from cloud_ingest.notify.worker import NotifyWorker
from cloud_ingest.store import db
from cloud_ingest.store.notify_table import notify_outbox
from sebiao_common.errors import ConfigError
from sebiao_common.notify.channels import Channel, QuietHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOOK_SECRET = "hook-secret-123"


@pytest.fixture
def receivers():  # type: ignore[no-untyped-def]
    made = {name: NotifyReceiver() for name in ("wecom", "hook", "other")}
    yield made
    for r in made.values():
        r.stop()


def settings(receivers, **kw) -> Notify:  # type: ignore[no-untyped-def]
    d1 = DistrictNotify(district="d1", timezone=SHANGHAI, digest_at=kw.pop("digest_at", None), channels=(
        Channel(name="局群", kind="wecom", url=f"{receivers['wecom'].base}/cgi-bin/webhook/send?key=k1"),
        Channel(name="平台", kind="webhook", url=f"{receivers['hook'].base}/in", secret=HOOK_SECRET)))
    d2 = DistrictNotify(district="d2", timezone=SHANGHAI, channels=(
        Channel(name="青山", kind="webhook", url=f"{receivers['other'].base}/in"),))
    return Notify(districts=(d1, d2), base_url="https://cloud.example.cn", timeout_seconds=2, retry_max_seconds=0.2,
                  **kw)


@pytest.fixture
def world(cloud_url, receivers):  # type: ignore[no-untyped-def]
    cloud = Cloud(cloud_url)
    tokens = cloud.tenants()

    def app(**kw):  # type: ignore[no-untyped-def]
        config = dataclasses.replace(cloud.config, notify=settings(receivers, **kw))
        return TestClient(build_app(cloud.engine, config, lambda: cloud.now)), config.notify  # rounds by hand

    def worker(notify: Notify) -> NotifyWorker:
        return NotifyWorker(enabled_engine(cloud.engine, notify), notify, lambda: cloud.now)

    yield cloud, tokens, app, worker


def push(client, token, doc):  # type: ignore[no-untyped-def]
    from cloud_fixtures import gz
    from gateway_keys import signature_headers
    body = gz(doc)
    r = client.post("/api/v1/ingest", content=body, headers={
        "Authorization": f"Bearer {token}", "Content-Encoding": "gzip", **signature_headers(body)})
    assert r.status_code == 200, r.text
    return r.json()


def rows(cloud, **where) -> int:  # type: ignore[no-untyped-def]
    q = select(func.count()).select_from(notify_outbox)
    for key, value in where.items():
        q = q.where(notify_outbox.c[key].is_(None) if value is None else notify_outbox.c[key] == value)
    with db.read(cloud.engine) as conn:
        return conn.execute(q).scalar_one()


def drain(worker: NotifyWorker, cloud, rounds: int = 5) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        worker.round()


def test_a_critical_alarm_reaches_its_district_once_and_no_other(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, notify = app()
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [event(), alarm(alarm_id=12, seq=1),
                                                          alarm(alarm_id=13, seq=2, severity="minor")]))
    assert rows(cloud) == 2  # the critical one, for each of d1's two channels; the minor one waits for the digest
    worker = make(notify)
    drain(worker, cloud)
    (wecom,) = receivers["wecom"].received
    text = wecom.body["markdown"]["content"]
    assert "作坊 ws-a" in text and "跨区放置" in text and "▲ 严重 / critical" in text
    assert text.index("跨区放置") < text.index("Cross-zone")  # Chinese first
    (hook,) = receivers["hook"].received
    assert hook.body["id"] == "ws-a:12:1" and hook.body["alarm"]["severity"] == "critical"
    assert hook.body["workshop"] == {"id": "ws-a", "name": "作坊 ws-a"}
    assert hook.body["alarm_url"] == f"https://cloud.example.cn/alarms/{hook.body['alarm']['id']}"
    assert f"({hook.body['alarm_url']})" in text
    expected = hmac.new(HOOK_SECRET.encode(), hook.raw, hashlib.sha256).hexdigest()
    assert hook.headers["x-sebiao-signature"] == f"sha256={expected}"
    assert receivers["other"].received == []  # another district's channel never hears of it
    # a replayed batch and the same alarm in a later batch queue nothing more
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [event(), alarm(alarm_id=12, seq=1),
                                                          alarm(alarm_id=13, seq=2, severity="minor")]))
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-2", [alarm(alarm_id=12, seq=1)]))
    drain(worker, cloud)
    assert len(receivers["wecom"].received) == 1 and len(receivers["hook"].received) == 1
    # a critical alarm of ws-c goes to d2 only
    push(client, tokens["gw-ws-c"], batch("ws-c", "c-1", [alarm(alarm_id=5, seq=1)]))
    drain(worker, cloud)
    assert [r.body["id"] for r in receivers["other"].received] == ["ws-c:5:1"]
    assert len(receivers["wecom"].received) == 1 and len(receivers["hook"].received) == 1
    health = client.get("/healthz").json()["notify"]
    by_name = {(c["district"], c["channel"]): c for c in health["channels"]}
    assert by_name[("d1", "局群")]["sent"] == 1 and by_name[("d1", "局群")]["waiting"] == 0
    assert by_name[("d2", "青山")]["sent"] == 1


def test_a_receiver_outage_loses_and_repeats_nothing(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, notify = app()
    receivers["wecom"].stop()
    receivers["hook"].mode = "error"
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=12, seq=1), alarm(alarm_id=14, seq=3)]))
    worker = make(notify)
    for _ in range(3):
        worker.round()
        cloud.now += 1000  # past the back-off
    assert rows(cloud, sent_at=None) == 4 and rows(cloud, given_up_at=None) == 4
    health = client.get("/healthz").json()["notify"]
    errors = {c["channel"]: c["last_error"] for c in health["channels"]}
    assert errors["局群"] and "boom" in errors["平台"]
    assert all(c["waiting"] == 2 for c in health["channels"] if c["district"] == "d1")
    receivers["wecom"].start()
    receivers["hook"].mode = "ok"
    worker = make(notify)  # as after a restart
    for _ in range(5):
        cloud.now += 1000
        worker.round()
    assert [r.body["markdown"]["content"].count("作坊 ws-a") for r in receivers["wecom"].received] == [1, 1]
    assert [r.body["id"] for r in receivers["hook"].accepted()] == ["ws-a:12:1", "ws-a:14:3"]  # each once, in order
    assert rows(cloud, sent_at=None) == 0


def test_a_message_never_accepted_is_given_up_and_shown(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, notify = app(give_up_hours=1)
    receivers["hook"].mode = "error"
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=12, seq=1)]))
    worker = make(notify)
    worker.round()
    assert rows(cloud, given_up_at=None) == 2
    cloud.now += 3_600_000 + 1000
    worker.round()
    assert rows(cloud, channel="平台", given_up_at=None) == 0  # given up, kept with its error
    channels = {c["channel"]: c for c in client.get("/healthz").json()["notify"]["channels"]}
    assert channels["平台"]["failed"] == 1 and "boom" in channels["平台"]["last_error"]
    assert channels["局群"]["sent"] == 1 and channels["局群"]["failed"] == 0


def test_the_digest_once_a_day_with_the_right_counts(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, notify = app(digest_at=clock_time(18, 0))
    # T0 is 2025-11-26 15:40 in Shanghai: before the digest's time
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [
        alarm(alarm_id=20, seq=1, severity="minor"), alarm(alarm_id=21, seq=2, severity="minor"),
        alarm(alarm_id=22, seq=3, severity="major"), alarm(alarm_id=23, seq=4)]))
    push(client, tokens["gw-ws-c"], batch("ws-c", "c-1", [alarm(alarm_id=30, seq=1, severity="minor")]))
    worker = make(notify)
    drain(worker, cloud)
    assert rows(cloud, kind="digest") == 0  # not yet 18:00
    cloud.now = T0 + 2 * 3_600_000 + 21 * 60_000  # 18:01
    drain(worker, cloud)
    digests = [r for r in receivers["hook"].accepted() if r.body.get("digest")]
    assert len(digests) == 1
    digest = digests[0].body["digest"]
    assert digest["day"] == "2025-11-26"
    assert [(a["workshop"], a["type"], a["severity"], a["raised"]) for a in digest["alarms"]] == [
        ("ws-a", "cross_zone", "major", 1), ("ws-a", "cross_zone", "minor", 2)]  # critical: sent already
    assert [w["id"] for w in digest["silent_workshops"]] == ["ws-b"]  # ws-a sent data; ws-c is d2's
    wecom = [r for r in receivers["wecom"].accepted() if "每日汇总" in r.body["markdown"]["content"]]
    assert len(wecom) == 1 and "作坊 ws-a: 跨区放置 / cross-zone × 2 (● 次要 / minor)" in \
        wecom[0].body["markdown"]["content"]
    assert not any(r.body.get("digest") for r in receivers["other"].received)  # d2 has no digest_at
    worker = make(notify)  # a restart the same evening
    cloud.now += 3_600_000
    drain(worker, cloud)
    assert len([r for r in receivers["hook"].accepted() if r.body.get("digest")]) == 1  # once per day
    cloud.now += 86_400_000  # the next day's
    drain(worker, cloud)
    days = [r.body["digest"]["day"] for r in receivers["hook"].accepted() if r.body.get("digest")]
    assert days == ["2025-11-26", "2025-11-27"]


def test_two_workers_on_postgresql_never_send_the_same_row(world, receivers, cloud_url):  # type: ignore[no-untyped-def]
    if not cloud_url.startswith("postgresql"):
        pytest.skip("several notify workers are a PostgreSQL deployment (SKIP LOCKED); SQLite runs one")
    cloud, tokens, app, make = world
    client, notify = app()
    for b in range(6):
        push(client, tokens["gw-ws-a"], batch("ws-a", f"b-{b}", [alarm(alarm_id=100 + b * 20 + n, seq=b * 20 + n + 1)
                                                                 for n in range(20)]))
    assert rows(cloud) == 240
    workers = [make(notify), make(notify)]
    go = threading.Barrier(2)

    def run(worker: NotifyWorker) -> None:
        go.wait()
        for _ in range(20):
            worker.round()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ids = [r.body["id"] for r in receivers["hook"].received]
    assert len(ids) == 120 and len(set(ids)) == 120  # each message once
    assert rows(cloud, channel="平台", sent_at=None) == 0
    wecom = [r.body["markdown"]["content"] for r in receivers["wecom"].received]
    assert len(wecom) == len(set(wecom)) > 0  # the robot, paced, never got one twice either


def test_bad_notify_config_is_refused_naming_the_field(tmp_path):  # type: ignore[no-untyped-def]
    def load(notify: str) -> str:
        path = tmp_path / "cloud.yaml"
        path.write_text('database: {url: "sqlite:///x.db"}\nsession_secret: "' + "s" * 40 + '"\nnotify:\n' + notify,
                        encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_cloud_config(path)
        return str(caught.value)

    good = "      - {name: 局群, kind: dingtalk, url: 'https://oapi.dingtalk.com/robot/send?access_token=t'}\n"
    assert "notify.districts.d1.channels[0].url" in load(
        "  districts:\n    d1:\n      channels:\n        - {name: x, kind: wecom, url: 'https://evil.example/x'}\n")
    assert "notify.districts.d1.digest_at" in load(f"  districts:\n    d1:\n      digest_at: 1080\n      channels:\n  {good}")
    assert "notify.districts.D 1" in load(f"  districts:\n    D 1:\n      channels:\n  {good}")
    assert "notify.districts.d1.channels[0].types[0]" in load(
        "  districts:\n    d1:\n      channels:\n        - {name: x, kind: webhook, url: 'http://127.0.0.1:1/', "
        "types: [notify_failed]}\n")
    assert "notify.give_up_hours" in load(f"  give_up_hours: 0\n  districts:\n    d1:\n      channels:\n  {good}")
    assert "cloud.yaml" in load("  districts: {}\n")


def test_the_cloud_process_delivers_once_across_an_outage_and_a_restart(cloud_url, tmp_path, receivers):  # type: ignore[no-untyped-def]
    cloud = Cloud(cloud_url, now=int(time.time() * 1000))
    tokens = cloud.tenants()
    notify = {"base_url": "https://cloud.example.cn", "retry_max_seconds": 0.5, "districts": {
        "d1": {"channels": [{"name": "平台", "kind": "webhook", "url": f"{receivers['hook'].base}/in"}]},
        "d2": {"channels": [{"name": "青山", "kind": "webhook", "url": f"{receivers['other'].base}/in"}]}}}
    now = int(time.time() * 1000)
    with CloudServer(tmp_path, cloud_url, notify=notify) as server:
        server.start()
        assert server.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=1, seq=1, at=now)])).status_code == 200
        receivers["hook"].wait_for(1)
        receivers["hook"].stop()  # the receiver is down
        assert server.push(tokens["gw-ws-a"], batch("ws-a", "b-2", [alarm(alarm_id=2, seq=2, at=now)])).status_code == 200
        server.wait_for(lambda: any(c["last_error"] for c in server.health()["notify"]["channels"]), 20,
                        "the failing channel in /healthz")
        server.stop()  # the cloud stops while the message waits
        receivers["hook"].start()
        server.start()
        receivers["hook"].wait_for(2)
        time.sleep(1.5)  # a second sending would come within this
        ids = [r.body["id"] for r in receivers["hook"].accepted()]
        assert ids == ["ws-a:1:1", "ws-a:2:2"]
        assert receivers["other"].received == []
        server.wait_for(lambda: server.health()["notify"]["channels"][0]["waiting"] == 0, 10, "nothing waiting")
    cloud.engine.dispose()


def test_the_admin_sees_each_channel_state_on_the_workshops_page(world, receivers):  # type: ignore[no-untyped-def]
    from cloud_fixtures import ADMIN_PASSWORD, PASSWORD
    cloud, tokens, app, make = world
    client, notify = app()
    receivers["hook"].mode = "error"
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=12, seq=1)]))
    make(notify).round()

    def page(username: str, password: str) -> str:
        session = TestClient(client.app, follow_redirects=False)
        assert session.post("/login", data={"username": username, "password": password}).status_code == 303
        r = session.get("/workshops")
        assert r.status_code == 200
        return r.text

    text = page("admin", ADMIN_PASSWORD)
    assert "监管推送通道" in text and "District alarm channels" in text
    wecom = re.search(r'<tr data-channel="d1/局群" data-state="ok">(.*?)</tr>', text).group(1)
    assert "● 正常" in wecom and "<td>1</td>" in wecom  # sent one
    hook = re.search(r'<tr data-channel="d1/平台" data-state="retrying">(.*?)</tr>', text).group(1)
    assert "◆ 重试中" in hook and "boom" in hook
    assert 'data-channel="d2/青山" data-state="ok"' in text  # configured, nothing sent yet
    assert "监管推送通道" not in page("insp1", PASSWORD["insp1"])  # admins only


def test_quiet_hours_hold_what_they_do_not_list(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, _ = app()
    quiet = QuietHours(start=clock_time(15, 0), end=clock_time(16, 0), severities=())  # T0 is 15:40 in Shanghai
    base = settings(receivers)
    notify = dataclasses.replace(base, districts=(dataclasses.replace(base.districts[0], quiet_hours=quiet),
                                                  base.districts[1]))
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=12, seq=1)]))
    worker = make(notify)
    drain(worker, cloud)
    assert receivers["wecom"].received == [] and rows(cloud, sent_at=None) == 2  # held, not lost
    cloud.now = T0 + 21 * 60_000  # 16:01
    drain(worker, cloud)
    assert [r.body["id"] for r in receivers["hook"].accepted()] == ["ws-a:12:1"]


def test_a_robot_channel_gets_at_most_18_a_minute_and_the_rest_later(world, receivers):  # type: ignore[no-untyped-def]
    cloud, tokens, app, make = world
    client, notify = app()
    push(client, tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm(alarm_id=100 + n, seq=n + 1) for n in range(25)]))
    worker = make(notify)
    drain(worker, cloud)
    assert len(receivers["wecom"].received) == 18 and len(receivers["hook"].received) == 25  # a webhook: no limit
    cloud.now += 60_000
    drain(worker, cloud)
    ids = [int(re.search(r"\(https://cloud.example.cn/alarms/(\d+)\)", r.body["markdown"]["content"]).group(1))
           for r in receivers["wecom"].received]
    assert len(ids) == 25 and ids == sorted(ids)  # the rest a minute later, in order, none twice
