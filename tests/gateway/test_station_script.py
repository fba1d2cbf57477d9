"""The virtual station's stdin script and its config handling (no broker)."""

from __future__ import annotations

import json

import pytest

from edge_gateway.tooling.station_config import load_station_config, override_broker
from edge_gateway.vstation.script import Place, Remove, ScriptError, Wait, parse_line
from sebiao.cli import main
from sebiao_common.errors import ConfigError


@pytest.mark.parametrize("text, expected", [
    ("place 04a224e2c65e80", Place(uid="04A224E2C65E80")),
    ("PLACE 5A3C9E01 CL-R-01 cloth red  # the red cloth",
     Place(uid="5A3C9E01", label={"tool": "CL-R-01", "kind": "cloth", "color": "red"})),
    ("remove 04A224E2C65E80", Remove(uid="04A224E2C65E80")),
    ("wait 2.5", Wait(seconds=2.5)),
    ("   ", None),
    ("# only a comment", None),
])
def test_good_lines(text, expected):
    assert parse_line(text, 1) == expected


@pytest.mark.parametrize("text, reason", [
    ("plase 04A224E2C65E80", "unknown command 'plase'"),
    ("place", "'place' takes a UID"),
    ("place 04A224E2C65E80 KN-R-01 knife", "'place' takes a UID"),
    ("place 04A2", "UID: '04A2' is 2 bytes"),
    ("place XYZ", "UID: 'XYZ' is not hex"),
    ("place 04A224E2C65E80 KN-R-01 spoon red", "kind 'spoon' is not one of"),
    ("place 04A224E2C65E80 KN-R-01 knife pink", "colour 'pink' is not one of"),
    ("remove", "'remove' takes exactly one UID"),
    ("wait", "'wait' takes a number of seconds"),
    ("wait -1", "use 0 to"),
    ("wait nan", "use 0 to"),
])
def test_bad_lines_name_the_line_and_the_reason(text, reason):
    with pytest.raises(ScriptError) as err:
        parse_line(text, 7)
    assert err.value.line == 7 and str(err.value).startswith("line 7: ") and reason in err.value.reason


def test_station_config_errors_name_the_file_and_the_field(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match="nope.json: cannot read the station config"):
        load_station_config(missing)
    bad = tmp_path / "bad.json"
    bad.write_text('{"station": "Rack 1", "timing": {"poll_ms": "fast"}}')
    with pytest.raises(ConfigError) as err:
        load_station_config(bad)
    assert "bad.json" in str(err.value) and "timing.poll_ms: must be an integer" in str(err.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="broken.json: not valid JSON"):
        load_station_config(broken)


def test_broker_override_keeps_the_credentials(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"station": "rack-red-1", "broker": {"host": "10.0.0.2", "username": "rack-red-1",
                                                                      "password": "pw"}}))
    cfg = override_broker(load_station_config(path), "mqtt://127.0.0.1:18830")
    assert cfg["broker"]["host"] == "127.0.0.1" and cfg["broker"]["port"] == 18830
    assert cfg["broker"]["username"] == "rack-red-1" and cfg["broker"]["password"] == "pw"
    with pytest.raises(ConfigError, match="plain MQTT only"):
        override_broker(cfg, "mqtts://127.0.0.1")
    with pytest.raises(ConfigError, match="--broker"):
        override_broker(cfg, "http://x")


def test_the_command_fails_at_once_on_a_bad_config(tmp_path, capsys):
    assert main(["station", "--config", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read the station config" in capsys.readouterr().err
