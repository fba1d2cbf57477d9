"""A station's new Wi-Fi or broker password (model/station_secrets.py): the gateway checks a request as the station
does, builds the command the station takes, reads the station's answer; the command line refuses what could cut a
station off before anything is sent."""

import argparse

import pytest

from edge_gateway.commands import station_secrets as command
from edge_gateway.model.protocol import decode_json
from edge_gateway.model.station_secrets import (
    SecretsRefused,
    SecretsRequest,
    parse_request,
    secrets_command,
    secrets_state,
)
from edge_gateway.tooling.firmware_files import use_firmware
from sebiao_common.errors import SebiaoError

GOOD = [
    {"wifi": {"ssid": "shop-5g", "password": "new-pass-2"}},
    {"wifi": {"ssid": "open-shop", "password": ""}},
    {"broker": {"password": "x" * 64}},
    {"wifi": {"ssid": "s" * 32, "password": "p" * 63}, "broker": {"password": "b"}},
]
BAD = [
    ({"wifi": {"ssid": "shop", "password": "short"}}, "wifi.password: WPA2 needs 8..63"),
    ({"wifi": {"ssid": "shop", "password": "p" * 64}}, "wifi.password: must be a string of 0..63"),
    ({"wifi": {"ssid": "", "password": "new-pass-2"}}, "wifi.ssid: must be a string of 1..32"),
    ({"wifi": {"ssid": "s" * 33, "password": "new-pass-2"}}, "wifi.ssid: must be a string of 1..32"),
    ({"wifi": {"ssid": "shop"}}, "wifi: must be"),
    ({"wifi": "shop"}, "wifi: must be"),
    ({"broker": {"password": ""}}, "broker.password: must be a string of 1..64"),
    ({"broker": {"password": 12345678}}, "broker.password: must be a string"),
    ({"broker": {"password": "x", "username": "y"}}, "broker: must be"),
    ({}, "wifi, broker: give at least one"),
]


@pytest.mark.parametrize("body", GOOD)
def test_a_good_request_makes_a_command_the_station_takes(body):
    use_firmware()
    from sebiao_station import secrets as fw

    cmd = decode_json(secrets_command("5f0c2a9e41b7", parse_request(body)))
    assert cmd["v"] == 1 and cmd["cmd"] == "secrets" and cmd["version"] == "5f0c2a9e41b7"
    assert {k: cmd[k] for k in ("wifi", "broker") if k in cmd} == body
    pending = fw.parse(cmd)
    assert {k: pending[k] for k in ("wifi", "broker") if k in pending} == body


@pytest.mark.parametrize(("body", "reason"), BAD)
def test_a_bad_request_is_refused_as_the_station_would(body, reason):
    use_firmware()
    from sebiao_station import config as fw_config
    from sebiao_station import secrets as fw

    with pytest.raises(SecretsRefused, match=reason.replace(".", r"\.")):
        parse_request(body)
    with pytest.raises(fw_config.ConfigError) as caught:
        fw.parse({"v": 1, "cmd": "secrets", "version": "a1", **body})
    assert reason in caught.value.args[0]


def test_the_request_never_shows_its_values():
    request = parse_request({"wifi": {"ssid": "shop", "password": "new-pass-2"}, "broker": {"password": "pw-9"}})
    assert "new-pass-2" not in repr(request) and "pw-9" not in repr(request) and "shop" not in repr(request)
    assert "new-pass-2" not in str(request)
    with pytest.raises(SecretsRefused):
        secrets_command("Not-Hex", SecretsRequest(broker_password="x"))


@pytest.mark.parametrize(("health", "expected"), [
    ({"secrets": {"version": "v1", "state": "pending", "fails": 0}}, ("pending", None)),
    ({"secrets": {"version": "v1", "state": "refused", "error": "wifi.ssid: …"}}, ("refused", "wifi.ssid: …")),
    ({"secrets": {"version": "v0", "state": "applied"}}, (None, None)),  # another request's
    ({"secrets": {"version": "v1", "state": "exploded"}}, (None, None)),
    ({"fw": "0.1.0"}, (None, None)),
    (None, (None, None)),
])
def test_what_the_station_says_of_a_request(health, expected):
    assert secrets_state(health, "v1") == expected


def _args(**kw):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    argv = ["--station", "rack-red-1", "--token", "t" * 20, "--gateway", "http://127.0.0.1:9"]
    for key, value in kw.items():
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [value])
    return parser.parse_args(argv)


@pytest.mark.parametrize(("kw", "said"), [
    ({"wifi_ssid": "shop-5g", "wifi_password_file": "-", "new_broker_password": True}, "one change at a time"),
    ({"wifi_ssid": "shop-5g"}, "--wifi-password-file is needed"),
    ({"new_broker_password": True}, "--broker-dir is needed"),
    ({}, "nothing to change"),
])
def test_the_command_refuses_before_sending_anything(kw, said):
    with pytest.raises(SebiaoError, match=said):
        command.run(_args(**kw))  # port 9: nothing listens; the refusal comes first


def test_the_wifi_password_comes_from_a_file_not_the_command_line(tmp_path):
    secret = tmp_path / "wifi.txt"
    secret.write_text("new-pass-2\n", "utf-8")
    body = command._request(_args(wifi_ssid="shop-5g", wifi_password_file=str(secret)))
    assert body == {"wifi": {"ssid": "shop-5g", "password": "new-pass-2"}}
    broker = command._request(_args(new_broker_password=True, broker_dir=str(tmp_path)))
    assert len(broker["broker"]["password"]) == 24  # 144 random bits, made here


def test_a_virtual_station_prints_the_command_without_its_values():
    from edge_gateway.vstation.texts import command_line

    line = command_line("rack-red-1", {"v": 1, "cmd": "secrets", "version": "ab12",
                                       "wifi": {"ssid": "shop-5g", "password": "new-pass-2"}})
    assert "ab12" in line and "new-pass-2" not in line and "shop-5g" not in line
    assert "d05516785b28" in command_line("rack-red-1", {"v": 1, "cmd": "settings", "version": "d05516785b28"})
