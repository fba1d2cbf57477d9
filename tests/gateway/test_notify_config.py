"""The notify: section (errors name file, field path and reason, Chinese first), quiet hours, the robots'
answers and DingTalk's signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import time

import pytest
import yaml
from gateway_proc import EXAMPLE, write_config
from servers import example_config

from edge_gateway.config import load_config
from edge_gateway.gateway import Gateway, GatewayOptions
from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.notify.config import DEFAULT_TYPES, QuietHours, notify_settings
from sebiao_common.errors import ConfigError
from sebiao_common.http_answers import OK, REFUSED, REJECTED, RETRY
from sebiao_common.notify.send import dingtalk_sign, judge

WECOM = {"name": "老板群", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}


def settings(section, display=None):
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data["notify"] = section
    if display:
        data["display"] = display
    return notify_settings(parse_config(data, "ws.yaml"))


def test_defaults_and_the_console_link():
    s = settings({"channels": [WECOM]}, display={"public_url": "http://192.168.1.20:8080/display"})
    channel = s.channels[0]
    assert (channel.types, channel.transitions, channel.secret) == (DEFAULT_TYPES, ("raised",), None)
    assert "notify_failed" in channel.types and "cross_zone" in channel.types
    assert (s.console_url, s.timezone, s.quiet_hours, s.failed_after_minutes) == (
        "http://192.168.1.20:8080/console", None, None, 30.0)
    assert settings({"channels": [WECOM], "console_url": "https://x.example/console"}).console_url == \
        "https://x.example/console"
    assert settings({"channels": [WECOM]}).console_url is None
    assert notify_settings(example_config()) is None


@pytest.mark.parametrize("section, message", [
    ({}, "ws.yaml: notify: missing required key 'channels'"),
    ({"channels": []}, "ws.yaml: notify.channels: 至少需要一个通道 / needs at least one channel"),
    ({"channels": [{**WECOM, "kind": "sms"}]}, "ws.yaml: notify.channels[0].kind: 'sms' is not one of"),
    ({"channels": [{**WECOM, "url": "https://evil.example/cgi-bin/webhook/send?key=abc"}]},
     "ws.yaml: notify.channels[0].url: 机器人地址应为 https://qyapi.weixin.qq.com/"),
    ({"channels": [{**WECOM, "url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}]},
     "ws.yaml: notify.channels[0].url: 机器人地址应为"),
    ({"channels": [{**WECOM, "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}]},
     "ws.yaml: notify.channels[0].url: 地址缺少 key= 参数"),
    ({"channels": [{"name": "d", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?key=x"}]},
     "ws.yaml: notify.channels[0].url: 地址缺少 access_token= 参数"),
    ({"channels": [{"name": "h", "kind": "webhook", "url": "ftp://h/x"}]},
     "ws.yaml: notify.channels[0].url: 不是有效的 http(s) 地址 / 'ftp://h/x'"),
    ({"channels": [{"name": "h", "kind": "webhook", "url": "http://h:99999/x"}]},
     "ws.yaml: notify.channels[0].url: 'http://h:99999/x': Port out of range"),
    ({"channels": [{**WECOM, "secret": "short"}]}, "ws.yaml: notify.channels[0].secret: 'short' is not valid"),
    ({"channels": [WECOM, WECOM]}, "ws.yaml: notify.channels[1].name: 通道名称重复"),
    ({"channels": [{**WECOM, "types": ["cross_zon"]}]}, "ws.yaml: notify.channels[0].types[0]: 'cross_zon' is not"),
    ({"channels": [{**WECOM, "transitions": []}]}, "ws.yaml: notify.channels[0].transitions: 不能为空"),
    ({"channels": [{**WECOM, "transitions": ["repeated"]}]},
     "ws.yaml: notify.channels[0].transitions[0]: 'repeated' is not one of: raised, cleared, acknowledged"),
    ({"channels": [WECOM], "timezone": "Mars/Olympus"}, "ws.yaml: notify.timezone: 未知时区 / unknown time zone"),
    ({"channels": [WECOM], "quiet_hours": {"start": 1320, "end": "07:00"}},
     "ws.yaml: notify.quiet_hours.start: 应为带引号的 \"HH:MM\""),
    ({"channels": [WECOM], "quiet_hours": {"start": "07:00", "end": "07:00"}},
     "ws.yaml: notify.quiet_hours.end: 与 start 相同"),
    ({"channels": [WECOM], "quiet_hours": {"start": "22:00", "end": "07:00", "severities": ["loud"]}},
     "ws.yaml: notify.quiet_hours.severities[0]: 'loud' is not one of"),
    ({"channels": [WECOM], "failed_after_minutes": 0}, "ws.yaml: notify.failed_after_minutes: must be at least 1"),
    ({"channels": [WECOM], "retries": 3}, "ws.yaml: notify.retries: unknown key"),
])
def test_errors_name_file_path_and_reason(section, message):
    with pytest.raises(ConfigError) as err:
        settings(section)
    assert message in str(err.value), str(err.value)


def test_a_bad_section_stops_the_gateway_before_it_starts(tmp_path):
    config = load_config(write_config(tmp_path / "w.yaml", notify={"channels": [{**WECOM, "kind": "sms"}]}))
    with pytest.raises(ConfigError, match="notify.channels\\[0\\].kind"):
        Gateway(config, GatewayOptions(data_dir=tmp_path / "data"))


def test_loopback_stands_in_for_the_robots_host():
    s = settings({"channels": [{**WECOM, "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"}]})
    assert s.channels[0].url == "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"


@pytest.mark.parametrize("start, end, inside, outside", [
    ("22:00", "07:00", ["22:00", "23:59", "00:00", "06:59"], ["07:00", "12:00", "21:59"]),
    ("12:00", "14:00", ["12:00", "13:59"], ["11:59", "14:00", "23:00"]),
])
def test_quiet_hours_window(start, end, inside, outside):
    def t(text):
        return time(*map(int, text.split(":")))

    hours = QuietHours(start=t(start), end=t(end))
    assert all(hours.quiet_at(t(x)) for x in inside) and not any(hours.quiet_at(t(x)) for x in outside)


@pytest.mark.parametrize("kind, status, body, outcome", [
    ("wecom", 200, b'{"errcode":0,"errmsg":"ok"}', OK),
    ("wecom", 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', RETRY),
    ("wecom", 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', REFUSED),
    ("wecom", 200, b"<html>proxy</html>", RETRY),
    ("wecom", 502, b"", RETRY),
    ("dingtalk", 200, b'{"errcode":0}', OK),
    ("dingtalk", 200, b'{"errcode":130101,"errmsg":"send too fast"}', RETRY),
    ("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}', REFUSED),
    ("webhook", 204, b"", OK),
    ("webhook", 429, b"", RETRY),
    ("webhook", 400, b"bad", REJECTED),
    ("webhook", 401, b"", REFUSED),
])
def test_answers(kind, status, body, outcome):
    assert judge(kind, status, body).outcome == outcome


def test_dingtalk_signature_is_the_documented_one():
    secret, ts = "SECabcdef123", 1_700_000_000_000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
    assert dingtalk_sign(secret, ts) == expected.decode()


def test_the_documented_examples_load_and_the_webhook_schema_is_what_is_sent():
    import json
    import re

    from gateway_proc import ROOT

    from edge_gateway.model.alarms import Alarm, HistoryEntry
    from edge_gateway.sinks.notify.notice import Notices

    for doc in ("config.md", "notify.md"):
        text = (ROOT / "docs" / doc).read_text("utf-8")
        section = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("notify:")][0]
        assert len(settings(yaml.safe_load(section)["notify"]).channels) == 2
    (example,) = re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "notify.md").read_text("utf-8"), re.S)
    documented = json.loads(example)
    alarm = Alarm(id=7, type="cross_zone", severity="critical", subject="KN-R-01", tool="KN-R-01",
                  tag="04A224E2C65E80", station="rack-white-1", ts=1, last_ts=1, raised_at=1, updated_at=1,
                  text_zh="z", text_en="e")
    entry = HistoryEntry(alarm_id=7, at=1, action="raised", state="active", acked=False, by="system", comment=None)
    made = Notices(example_config(), "http://x/console", None).of(alarm, entry, 42)

    def shape(value):
        return {k: shape(v) for k, v in value.items()} if isinstance(value, dict) else None

    assert shape(made) == shape(documented)
    assert made["id"] == documented["id"] and made["alarm"]["station"] == documented["alarm"]["station"]
