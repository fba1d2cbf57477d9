"""Alarms to the owner's phone, end to end: the real gateway process, real Mosquitto, scripted stations and
loopback stand-ins for the WeCom and DingTalk robots and a webhook receiver (``tests/support/notify_receiver.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from gateway_proc import GatewayProcess, online_workshop, write_config
from notify_receiver import NotifyReceiver
from servers import ROOT, example_config
from stations_mqtt import online_stations

pytestmark = pytest.mark.slow

UNKNOWN = ("rack-yellow-1", "04ABCDEF123456", "placed")  # unknown_tag, warning, at 半成品器具架
CROSS = [("rack-red-1", "KN-R-01", "removed"), ("rack-white-1", "KN-R-01", "placed")]  # cross_zone, critical
DING_SECRET = "SEC0123456789abcdef"
HOOK_SECRET = "webhook-secret-0123"


def _channels(wecom: NotifyReceiver, ding: NotifyReceiver, hook: NotifyReceiver, **extra) -> list[dict]:
    return [
        {"name": "老板群", "kind": "wecom", "url": f"{wecom.base}/cgi-bin/webhook/send?key=wecom-key", **extra},
        {"name": "钉钉群", "kind": "dingtalk", "url": f"{ding.base}/robot/send?access_token=ding-token",
         "secret": DING_SECRET, **extra},
        {"name": "hook", "kind": "webhook", "url": f"{hook.base}/sebiao", "secret": HOOK_SECRET, **extra},
    ]


def _notify(channels: list[dict], **more) -> dict:
    return {"channels": channels, "retry_max_seconds": 0.5, "timeout_seconds": 2, "timezone": "Asia/Shanghai",
            **more}


def _play(stations, steps) -> None:
    for station, what, action in steps:
        stations[station].event(what, action)


@pytest.fixture
def receivers():
    made = [NotifyReceiver(), NotifyReceiver(), NotifyReceiver()]
    yield made
    for r in made:
        r.stop()


def test_an_alarm_reaches_each_channel_once_with_its_words(mosquitto, tmp_path, receivers):
    wecom, ding, hook = receivers
    broker = mosquitto()
    display = {"public_url": "http://192.168.1.20:8080/display"}
    with online_workshop(broker, tmp_path, notify=_notify(_channels(*receivers)), display=display) as (gw, st):
        st[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])
        for r in receivers:
            r.wait_for(1)
        time.sleep(1.5)  # nothing more comes: one message per channel
        health = gw.get("/healthz").json()["sinks"]["notify"]
        sent = gw.metric("sebiao_notify_sent_total", 'channel="hook"')
    assert [len(r.received) for r in receivers] == [1, 1, 1]
    assert (health["running"], health["depth"], health["last_error"], health["sent"], health["failed"]) == (
        True, 0, None, 3, 0)
    assert health["channels"]["钉钉群"] == {"sent": 1, "failed": 0, "given_up": 0} and sent == 1

    text = wecom.received[0].body["markdown"]["content"]
    assert wecom.received[0].query == {"key": "wecom-key"} and wecom.received[0].body["msgtype"] == "markdown"
    assert "未登记标签" in text and "半成品器具架" in text and "示例凉皮作坊" in text and "○ 提示" in text
    assert text.index("未登记标签") < text.index("unknown tag")  # Chinese first
    assert "http://192.168.1.20:8080/console" in text

    call = ding.received[0]
    stamp = call.query["timestamp"]
    mac = hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    assert call.query["sign"] == base64.b64encode(mac).decode() and call.query["access_token"] == "ding-token"
    assert call.body["markdown"]["title"].startswith("【色标】") and "半成品器具架" in call.body["markdown"]["text"]

    call = hook.received[0]
    signature = hmac.new(HOOK_SECRET.encode(), call.raw, hashlib.sha256).hexdigest()
    assert call.headers["x-sebiao-signature"] == f"sha256={signature}"
    notice = call.body
    assert call.headers["x-sebiao-id"] == notice["id"] and notice["id"].startswith("ws-demo:")
    assert notice["alarm"]["type"] == "unknown_tag" and notice["alarm"]["station"]["name"] == "半成品器具架"
    assert notice["transition"]["action"] == "raised" and notice["transition"]["at_local"].endswith("+08:00")
    assert notice["console_url"] == "http://192.168.1.20:8080/console"


def test_types_and_transitions_are_chosen_per_channel(mosquitto, tmp_path, receivers):
    wecom, ding, hook = receivers
    channels = _channels(*receivers)
    channels[0]["types"] = ["cross_zone"]  # WeCom: cross-zone only, raised only (the default)
    channels[2]["transitions"] = ["raised", "acknowledged", "cleared"]  # the webhook: every transition
    broker = mosquitto()
    with online_workshop(broker, tmp_path, notify=_notify(channels)) as (gw, st):
        st[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])
        ding.wait_for(1)
        _play(st, CROSS)
        wecom.wait_for(1)
        alarm = gw.wait_for(lambda: gw.rows("SELECT id FROM alarms WHERE type='cross_zone'"), what="the alarm")[0][0]
        assert gw.post(f"/api/alarms/{alarm}/ack", {"by": "王师傅"}).status_code == 200
        assert gw.post(f"/api/alarms/{alarm}/clear", {"by": "王师傅", "comment": "刀具已消毒归位"}).status_code == 200
        hook.wait_for(4)
        time.sleep(1.5)
    assert [r.body["markdown"]["content"].count("跨区放置") > 0 for r in wecom.received] == [True]
    assert len(ding.received) == 2  # both alarms raised, nothing else
    actions = [(r.body["alarm"]["type"], r.body["transition"]["action"]) for r in hook.received]
    assert actions == [("unknown_tag", "raised"), ("cross_zone", "raised"), ("cross_zone", "acknowledged"),
                       ("cross_zone", "cleared")]
    assert hook.received[3].body["transition"]["comment"] == "刀具已消毒归位"


def test_receiver_down_then_up_through_a_restart_nothing_lost_nothing_twice(mosquitto, tmp_path):
    hook = NotifyReceiver()
    hook.stop()  # connection refused
    broker = mosquitto()
    channel = {"name": "hook", "kind": "webhook", "url": f"{hook.base}/sebiao"}
    config = write_config(tmp_path / "w.yaml", broker, notify=_notify([channel]))
    gateway = GatewayProcess(config, tmp_path / "data").start()
    stations = online_stations(broker, example_config())
    try:
        _play(stations, CROSS)
        stations[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])
        gateway.wait_for(lambda: gateway.get("/healthz").json()["sinks"]["notify"]["depth"] == 2, timeout=15,
                         what="two messages waiting")
        health = gateway.get("/healthz").json()
        assert health["status"] == "degraded" and "hook" in health["sinks"]["notify"]["last_error"]
        gateway.stop()  # the gateway restarts while the receiver is down, and stops cleanly
        assert "Traceback" not in gateway.log()
        gateway.start()
        hook.start()  # the same port again
        got = hook.wait_for(2, timeout=20)
        gateway.wait_for(lambda: gateway.get("/healthz").json()["sinks"]["notify"]["last_error"] is None,
                         what="the channel healthy")
        gateway.stop()  # and once more after delivery: nothing is sent again
        gateway.start()
        time.sleep(2)
    finally:
        for s in stations.values():
            s.close()
        gateway.stop()
        hook.stop()
    ids = [r.body["id"] for r in hook.received]
    assert len(ids) == len(set(ids)) == 2 and len(got) == 2
    assert sorted(r.body["alarm"]["type"] for r in hook.received) == ["cross_zone", "unknown_tag"]


def test_wecom_rate_limit_answer_is_retried(mosquitto, tmp_path):
    wecom = NotifyReceiver()
    wecom.answers = ["rate_limited", "error"]  # 45009, then a 500, then the robot takes it
    broker = mosquitto()
    channel = {"name": "老板群", "kind": "wecom", "url": f"{wecom.base}/cgi-bin/webhook/send?key=k"}
    try:
        with online_workshop(broker, tmp_path, notify=_notify([channel])) as (gw, st):
            st[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])
            wecom.wait_for(1, timeout=20)
            failures = gw.metric("sebiao_notify_failures_total", 'channel="老板群"')
    finally:
        wecom.stop()
    assert [r.answered for r in wecom.received] == ["rate_limited", "error", "ok"]
    assert len({r.raw for r in wecom.received}) == 1  # the same message each time
    assert failures == 2


def test_quiet_hours_let_only_the_chosen_severities_through(mosquitto, tmp_path):
    hook = NotifyReceiver()
    now = datetime.now().astimezone()
    quiet = {"start": (now - timedelta(hours=1)).strftime("%H:%M"),
             "end": (now + timedelta(hours=1)).strftime("%H:%M"), "severities": ["critical"]}
    broker = mosquitto()
    channel = {"name": "hook", "kind": "webhook", "url": f"{hook.base}/sebiao"}
    notify = {"channels": [channel], "quiet_hours": quiet}  # the machine's time zone, as the window above
    try:
        with online_workshop(broker, tmp_path, notify=notify) as (gw, st):
            st[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])  # a warning: waits
            _play(st, CROSS)  # critical: goes at once
            hook.wait_for(1)
            time.sleep(1.5)
            depth = gw.get("/healthz").json()["sinks"]["notify"]["depth"]
    finally:
        hook.stop()
    assert [r.body["alarm"]["type"] for r in hook.received] == ["cross_zone"]
    assert depth == 1  # the warning waits for the window's end


def test_notify_test_command_sends_to_each_channel(tmp_path, receivers):
    wecom, ding, hook = receivers
    config = write_config(tmp_path / "w.yaml", notify=_notify(_channels(*receivers)))
    run = subprocess.run([sys.executable, "-m", "sebiao.cli", "notify", "test", "--config", str(config)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [len(r.received) for r in receivers] == [1, 1, 1]
    assert "测试消息" in wecom.received[0].body["markdown"]["content"] and hook.received[0].body["test"] is True
    ding.mode = "refused"
    run = subprocess.run([sys.executable, "-m", "sebiao.cli", "notify", "test", "--config", str(config)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 1 and "钉钉群: 失败" in run.stdout and "93000" in run.stdout
    assert json.loads(ding.received[-1].raw)["msgtype"] == "markdown"


def test_a_refused_robot_key_is_told_through_the_other_channels(mosquitto, tmp_path):
    wecom, hook = NotifyReceiver("refused"), NotifyReceiver()
    channels = [{"name": "老板群", "kind": "wecom", "url": f"{wecom.base}/cgi-bin/webhook/send?key=wrong"},
                {"name": "hook", "kind": "webhook", "url": f"{hook.base}/sebiao"}]
    broker = mosquitto()
    try:
        with online_workshop(broker, tmp_path, notify=_notify(channels)) as (gw, st):
            st[UNKNOWN[0]].event(UNKNOWN[1], UNKNOWN[2])
            told = hook.wait_for(2)
            alarms = gw.get("/api/alarms").json()
            wecom.mode = "ok"  # the key fixed
            wecom.wait_for(1, timeout=20)
            time.sleep(1.5)
            health = gw.get("/healthz").json()["sinks"]["notify"]
            states = gw.rows("SELECT state FROM alarms WHERE type = 'notify_failed'")
    finally:
        wecom.stop()
        hook.stop()
    assert states == [("cleared",)]  # the channel took a message again
    assert [r.body["alarm"]["type"] for r in told] == ["unknown_tag", "notify_failed"]
    assert told[1].body["alarm"]["subject"] == "notify:老板群" and "93000" in told[1].body["alarm"]["text"]["zh"]
    assert "notify_failed" in [a["type"] for a in alarms]
    assert [r.answered for r in wecom.received].count("ok") == 1  # its own failure is not sent to it
    assert "未登记标签" in wecom.accepted()[0].body["markdown"]["content"]
    assert health["depth"] == 0 and health["last_error"] is None
