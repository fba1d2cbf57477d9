"""The stations' remote settings (model/station_settings.py): the section, each station's document and version,
when to send it; the table held to the firmware's config.py, the station's truth."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from edge_gateway.model.protocol import decode_json
from edge_gateway.model.station_settings import (
    REMOTE,
    RESEND_MS,
    due,
    firmware_defaults,
    parse_station_settings,
    reported,
    settings_command,
    version_of,
)
from edge_gateway.model.workshop import parse_config
from edge_gateway.tooling.firmware_files import use_firmware
from sebiao_common.errors import ConfigError

BASE = yaml.safe_load((Path(__file__).parents[2] / "examples" / "workshop.yaml").read_text("utf-8"))


def _config(section):
    data = copy.deepcopy(BASE)
    if section is not None:
        data["station_settings"] = section
    return parse_config(data, "workshop.yaml")


def test_the_table_is_the_firmwares():
    use_firmware()
    from sebiao_station import config as fw
    from sebiao_station import settings as fw_settings

    ranges = {path: (low, high) for path, low, high in fw.RANGES}
    assert tuple(f"{s}.{k}" for s, k, *_ in REMOTE) == fw_settings.REMOTE
    for section, key, default, low, high in REMOTE:
        assert fw.DEFAULTS[section][key] == default, (section, key)
        assert ranges[f"{section}.{key}"] == (low, high), (section, key)


def test_without_the_section_no_station_is_managed():
    assert parse_station_settings(_config(None)) is None


def test_each_station_gets_every_key_defaults_then_its_own():
    settings = parse_station_settings(_config({
        "defaults": {"timing": {"heartbeat_s": 30}, "feedback": {"misuse_beeps": 2}},
        "stations": [{"id": "sink-red-1", "reader": {"gain": 6}, "timing": {"heartbeat_s": 20}},
                     {"id": "rack-red-2"}],
    }))
    rack = settings.document("rack-red-1")
    sink = settings.document("sink-red-1")
    expected = firmware_defaults()
    expected["timing"]["heartbeat_s"] = 30
    expected["feedback"]["misuse_beeps"] = 2
    assert rack == expected and settings.document("rack-red-2") == expected
    assert sink["reader"]["gain"] == 6 and sink["timing"]["heartbeat_s"] == 20 and sink["feedback"]["misuse_beeps"] == 2
    assert settings.version("rack-red-1") == settings.version("rack-yellow-1") != settings.version("sink-red-1")
    assert settings.document("nope") is None and settings.version("nope") is None


def test_the_version_is_a_short_hash_of_the_canonical_json():
    doc = firmware_defaults()
    assert version_of(doc) == version_of(copy.deepcopy(doc)) and len(version_of(doc)) == 12
    assert version_of(doc) == version_of({k: doc[k] for k in reversed(list(doc))})  # key order is no change
    assert version_of(doc) == "d05516785b28"  # the same at every gateway, in every release that keeps the table
    changed = copy.deepcopy(doc)
    changed["timing"]["poll_ms"] += 1
    assert version_of(changed) != version_of(doc)
    assert all(c in "0123456789abcdef" for c in version_of(doc))


@pytest.mark.parametrize(("section", "field", "reason"), [
    ({"defaults": {"timing": {"poll_ms": 10}}}, "station_settings.defaults.timing.poll_ms", "at least 20"),
    ({"defaults": {"timing": {"watchdog_ms": 60000}}}, "station_settings.defaults.timing.watchdog_ms", "unknown key"),
    ({"defaults": {"pins": {"led_red": 4}}}, "station_settings.defaults.pins", "unknown key"),
    ({"defaults": {"buffer": {"max_bytes": 4096}}}, "station_settings.defaults.buffer", "unknown key"),
    ({"defaults": {"reader": {"gain": 8}}}, "station_settings.defaults.reader.gain", "at most 7"),
    ({"defaults": {"reader": {"gain": "high"}}}, "station_settings.defaults.reader.gain", "whole number"),
    ({"defaults": {"feedback": {"misuse_beeps": 0}}}, "station_settings.defaults.feedback.misuse_beeps",
     "at least 1"),
    ({"stations": [{"id": "rack-red-9"}]}, "station_settings.stations[0].id", "station 'rack-red-9' is not defined"),
    ({"stations": [{"id": "rack-red-1"}, {"id": "rack-red-1"}]}, "station_settings.stations[1].id",
     "given twice (first at station_settings.stations[0])"),
    ({"stations": [{"reader": {"gain": 5}}]}, "station_settings.stations[0]", "missing required key 'id'"),
    ({"stations": {"rack-red-1": {}}}, "station_settings.stations", "must be a list"),
    ({"stations": [{"id": "rack-red-1", "timing": {"backoff_max_ms": 500}}]}, "station_settings.stations[0]",
     "timing.backoff_max_ms (500) is smaller than timing.backoff_min_ms (1000)"),
    ({"defaults": {"timing": {"backoff_min_ms": 90000}}}, "station_settings.defaults",
     "smaller than timing.backoff_min_ms"),
    ({"default": {}}, "station_settings.default", "unknown key"),
    ({"defaults": {"timing": {"heartbeat_s": 90}}}, "station_settings.defaults",
     "timing.heartbeat_s (90) must be less than rules.station_offline_after_seconds (90)"),
    ({"stations": [{"id": "rack-red-1", "reader": {"max_tags": 1}}]}, "station_settings.stations[0]",
     "reader.max_tags 1 for 'rack-red-1' is fewer than the 2 tools that call it home (KN-R-01, CL-R-01)"),
    ("fast", "station_settings", "must be a mapping"),
])
def test_every_mistake_names_file_field_and_reason(section, field, reason):
    with pytest.raises(ConfigError) as caught:
        parse_station_settings(_config(section))
    assert caught.value.file == "workshop.yaml" and caught.value.path == field, str(caught.value)
    assert reason in caught.value.reason, str(caught.value)


def test_the_gateway_refuses_a_bad_section_at_load(tmp_path):
    from edge_gateway.config import load_config

    data = copy.deepcopy(BASE)
    data["station_settings"] = {"defaults": {"timing": {"poll_ms": 1}}}
    path = tmp_path / "workshop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match="station_settings.defaults.timing.poll_ms"):
        load_config(path)


def test_the_command_is_the_protocols_and_the_station_takes_it():
    doc = parse_station_settings(_config({"defaults": {"timing": {"heartbeat_s": 30}}})).document("rack-red-1")
    payload = settings_command(doc)
    cmd = decode_json(payload)
    assert cmd == {"v": 1, "cmd": "settings", "version": version_of(doc), "settings": doc}
    use_firmware()
    from sebiao_station import config as fw
    from sebiao_station import settings as fw_settings

    cfg = fw_settings.merged(fw.validate({}), cmd["version"], cmd["settings"])
    assert cfg["timing"]["heartbeat_s"] == 30 and cfg["settings_version"] == version_of(doc)


@pytest.mark.parametrize(("health", "expected"), [
    ({"settings": "abc", "fw": "0.1.0"}, ("abc", None)),
    ({"settings": "", "settings_error": {"version": "bad", "error": "x"}}, ("", "bad")),
    ({"fw": "0.1.0"}, (None, None)),  # firmware without remote settings
    ({"settings": 5, "settings_error": "x"}, (None, None)),
    (None, (None, None)),
])
def test_what_a_status_reports(health, expected):
    assert reported(health) == expected


@pytest.mark.parametrize(("kw", "send"), [
    ({}, True),  # another version, never sent
    ({"running": ""}, True),  # as provisioned
    ({"running": "want"}, False),  # converged
    ({"online": False}, False),  # offline: sent when it comes back (its status)
    ({"running": None}, False),  # firmware without remote settings
    ({"desired": None}, False),  # no station_settings for it
    ({"refused": "want"}, False),  # it refused this very document: not again and again
    ({"refused": "older"}, True),
    ({"last_sent": 1_000_000 - RESEND_MS + 1}, False),  # sent a moment ago
    ({"last_sent": 1_000_000 - RESEND_MS}, True),  # sent a minute ago and still not running it
])
def test_when_a_station_is_sent_its_settings(kw, send):
    args = {"desired": "want", "running": "old", "refused": None, "online": True, "last_sent": None,
            "now": 1_000_000}
    args.update(kw)
    assert due(**args) is send


def test_the_docs_show_what_the_gateway_sends_and_their_config_example_loads():
    docs = Path(__file__).parents[2] / "docs"
    fleet = (docs / "fleet.md").read_text("utf-8")
    assert settings_command(firmware_defaults()).decode() in fleet
    blocks = re.findall(r"```yaml\n(.*?)```", (docs / "config.md").read_text("utf-8"), re.S)
    (example,) = [b for b in blocks if b.startswith("station_settings:")]
    settings = parse_station_settings(_config(yaml.safe_load(example)["station_settings"]))
    assert settings.document("sink-red-1")["reader"]["gain"] == 5
    assert settings.document("rack-red-1")["timing"]["heartbeat_s"] == 30


def test_the_engine_sends_a_stations_settings_on_its_status_at_most_once_a_minute(tmp_path):
    from workshop_sim import Sim

    config = _config({"defaults": {"timing": {"heartbeat_s": 30}}})
    sim = Sim(tmp_path, config)
    wanted = parse_station_settings(config).version("rack-red-1")
    sent = lambda out: [m for m in out.messages if m.topic == "sebiao/ws-demo/rack-red-1/cmd"]  # noqa: E731
    assert sent(sim.at(0).status("rack-red-1", fw="0.1.0")) == []  # firmware without remote settings
    (first,) = sent(sim.at(1).status("rack-red-1", settings=""))
    assert decode_json(first.payload)["version"] == wanted
    assert sent(sim.at(30).status("rack-red-1", settings="")) == []  # sent 29 s ago
    assert len(sent(sim.at(61).status("rack-red-1", settings=""))) == 1  # still not running it: again
    assert sent(sim.at(200).status("rack-red-1", settings=wanted)) == []  # converged
    assert sent(sim.at(300).status("rack-red-1", online=False)) == []
    refused = {"version": wanted, "error": "timing.watchdog_ms: must be at least 3 x timing.socket_timeout_ms"}
    assert sent(sim.at(400).status("rack-red-1", settings="", settings_error=refused)) == []
