"""Workshop config: the examples load, and every mistake names file, field and reason."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from edge_gateway.config import load_config
from edge_gateway.model.workshop import parse_config
from sebiao_common.errors import ConfigError

# the workshop (gateway) configs; examples/cloud.yaml is the cloud service's (tests/cloud/test_cloud_config.py)
EXAMPLES = sorted(p for p in (Path(__file__).parents[2] / "examples").glob("*.yaml") if p.name != "cloud.yaml")
BASE = yaml.safe_load((Path(__file__).parents[2] / "examples" / "workshop.yaml").read_text("utf-8"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_loads(path):
    config = load_config(path)
    assert config.workshop.id
    assert config.stations
    assert config.tools or path.name == "workshop-new.yaml"  # a new workshop: its tools are enrolled on the day
    for tool in config.tools:
        assert config.tool_by_tag(tool.tag) is tool


def test_example_values():
    config = load_config(EXAMPLES[[p.name for p in EXAMPLES].index("workshop.yaml")])
    assert config.broker is None  # embedded broker
    assert config.tool("KN-R-01").home == "rack-red-1"
    assert config.tool_by_tag("04A224E2C65E80").id == "KN-R-01"
    assert config.rules.overdue_after_minutes == 240
    assert config.rules.severity_of("raw_to_white") == "critical"


def _set(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value


CASES = [
    (("tools", 3, "home"), "rack-red-9", "tools[3].home: station 'rack-red-9' is not defined"),
    (("tools", 3, "home"), "sink-green-1", "tools[3].home: station 'sink-green-1' is a sink, a tool's home must be a rack"),
    (("tools", 3, "home"), "rack-red-1", "tools[3].home: station 'rack-red-1' is a red rack, the tool is green"),
    (("tools", 3, "color"), "purple", "tools[3].color: 'purple' is not one of: red, blue, green, yellow, white"),
    (("tools", 3, "kind"), "spoon", "tools[3].kind: 'spoon' is not one of: knife, scissors, cutting_board, cloth, brush, container"),
    (("tools", 3, "kind"), "sink", "tools[3].kind: 'sink' is not one of"),
    (("tools", 1, "id"), "KN-R-01", "tools[1].id: duplicate tool id 'KN-R-01' (first at tools[0])"),
    (("tools", 1, "tag"), "04a224e2c65e80", "tools[1].tag: duplicate tag 04A224E2C65E80 (also at tools[0])"),
    (("tools", 1, "tag"), "0102030405", "tools[1].tag: '0102030405' is 5 bytes; an NFC UID has 4, 7 or 10 bytes"),
    (("tools", 1, "tag"), "nothex!!", "tools[1].tag: 'nothex!!' is not hex"),
    (("tools", 1, "id"), "bad id", "tools[1].id: 'bad id' is not valid"),
    (("tools", 1, "colour"), "red", "tools[1].colour: unknown key"),
    (("stations", 2, "id"), "rack-red-1", "stations[2].id: duplicate station id 'rack-red-1' (first at stations[0])"),
    (("stations", 2, "id"), "Rack_Green", "stations[2].id: 'Rack_Green' is not valid: use lowercase letters"),
    (("stations", 2, "kind"), "shelf", "stations[2].kind: 'shelf' is not one of: rack, sink"),
    (("stations", 2, "zone"), "pink", "stations[2].zone: 'pink' is not one of"),
    (("workshop", "id"), "WS Demo", "workshop.id: 'WS Demo' is not valid"),
    (("workshop", "name"), KeyError, "workshop: missing required key 'name'"),
    (("workshop", "grade"), "silver", "workshop.grade: 等级（金/银/铜/橙榜）由监管部门在云端评定并发布"),
    (("broker",), {"url": "http://x"}, "broker.url: 'http://x': the scheme must be mqtt:// or mqtts://"),
    (("broker",), {"url": "mqtt://h", "user": "x"}, "broker.user: unknown key"),
    (("rules", "overdue_after_minutes"), 0, "rules.overdue_after_minutes: must be at least 1, got 0"),
    (("rules", "overdue_after_minutes"), "4h", "rules.overdue_after_minutes: must be a whole number, got a string"),
    (("rules", "wash_required"), ["knife", "fork"], "rules.wash_required[1]: 'fork' is not one of"),
    (("rules", "severity"), {"overdue": "huge"}, "rules.severity.overdue: 'huge' is not one of: critical, major, minor, warning"),
    (("rules", "severity"), {"bogus": "major"}, "rules.severity.bogus: unknown key"),
    (("rules", "exceptions"), [{"station": "nope", "tool": "KN-R-01", "reason": "x"}], "rules.exceptions[0].station: station 'nope' is not defined"),
    (("rules", "exceptions"), [{"station": "sink-red-1", "reason": "x"}], "rules.exceptions[0]: an exception names a 'tool' or a 'color'"),
    (("http", "token"), "short", "http.token: a token must have at least 16 characters"),
    (("extra_section",), {}, "extra_section: unknown key"),
    (("stations",), [], "stations: a workshop needs at least one station"),
]


@pytest.mark.parametrize("path, value, message", CASES, ids=[c[2][:50] for c in CASES])
def test_config_errors_name_file_field_and_reason(path, value, message):
    data = copy.deepcopy(BASE)
    _set(data, path, value)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "workshop.yaml")
    text = str(info.value)
    assert f"workshop.yaml: {message}" in text, text  # file, field and the reason in English, whole
    head = text.split(" / ")[0]  # said first: the reason in Chinese, naming the field
    assert re.search(r"[\u4e00-\u9fff]", head) and message.partition(": ")[0] in head, text


def test_a_grade_in_the_workshop_file_says_where_grades_come_from_now(tmp_path):
    path = tmp_path / "graded.yaml"
    data = copy.deepcopy(BASE)
    data["workshop"]["grade"] = "gold"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: workshop.grade: 等级（金/银/铜/橙榜）由监管部门在云端评定并发布")
    assert "the grade (gold/silver/bronze/orange list) is set and published by the regulator in the cloud" in message
    assert "cloud.public_key" in message


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("workshop: {id: a, name: b, district: c}\nworkshop: {id: d, name: e, district: f}\n")
    with pytest.raises(ConfigError, match=r"dup.yaml: line 2, column 1: invalid YAML: duplicate key 'workshop'"):
        load_config(path)


@pytest.mark.parametrize("number", [".nan", ".NaN", ".inf", "-.inf", "1.0e+400"])
def test_numbers_that_are_not_finite_are_refused_where_they_stand(tmp_path, number):
    path = tmp_path / "nan.yaml"
    path.write_text(f"workshop: {{id: a, name: b, district: c}}\ncloud:\n  timeout_seconds: {number}\n")
    with pytest.raises(ConfigError, match=rf"nan.yaml: line 3, column 20: invalid YAML: '{re.escape(number)}' "
                                          "is not a finite number"):
        load_config(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nothere.yaml: cannot read the file"):
        load_config(tmp_path / "nothere.yaml")


def test_rule_exception_is_recorded():
    data = copy.deepcopy(BASE)
    data["rules"]["exceptions"] = [{"station": "sink-red-1", "color": "green",
                                    "reason": "蔬菜与肉馅同池清洗，经监管备案"}]
    config = parse_config(data)
    (exc,) = config.rules.exceptions
    assert exc.covers(config.tool("KN-G-01"), "sink-red-1", "cross_zone_wash")
    assert not exc.covers(config.tool("KN-W-01"), "sink-red-1", "cross_zone_wash")


def test_a_tool_that_must_be_washed_needs_a_sink_of_its_colour():
    data = copy.deepcopy(BASE)
    data["stations"] = [s for s in data["stations"] if s["id"] != "sink-yellow-1"]
    with pytest.raises(ConfigError, match=r"workshop.yaml: tools\[6\]: a container must be washed "
                                          r"\(rules.wash_required\) but there is no yellow sink"):
        parse_config(data, "workshop.yaml")
    data["rules"]["wash_required"] = ["knife"]
    assert parse_config(data).rules.wash_required == frozenset({"knife"})


def test_the_intake_section_has_safe_defaults_and_names_its_mistakes():
    from edge_gateway.intake.settings import MB, IntakeSettings, intake_settings

    assert intake_settings(parse_config(copy.deepcopy(BASE))) == IntakeSettings()
    data = copy.deepcopy(BASE)
    data["intake"] = {"station_rate": 50, "station_burst": 200, "dead_letters": {"max_rows": 500, "max_mb": 2}}
    assert intake_settings(parse_config(data)) == IntakeSettings(
        station_rate=50, station_burst=200, dead_letters_max_rows=500, dead_letters_max_bytes=2 * MB)
    for section, message in [
        ({"station_rate": 0}, "workshop.yaml: intake.station_rate: must be at least 1, got 0"),
        ({"station_burst": "many"}, "workshop.yaml: intake.station_burst: must be a whole number, got a string"),
        ({"dead_letters": {"max_rows": 10}}, "workshop.yaml: intake.dead_letters.max_rows: must be at least 100"),
        ({"dead_letters": {"max_gb": 1}}, "workshop.yaml: intake.dead_letters.max_gb: unknown key"),
        ({"rate": 5}, "workshop.yaml: intake.rate: unknown key"),
    ]:
        data["intake"] = section
        with pytest.raises(ConfigError) as info:
            intake_settings(parse_config(data, "workshop.yaml"))
        assert message in str(info.value)


def test_the_seed_defaults_wash_every_kind_and_disinfect_when_a_station_can_prove_it():
    from edge_gateway.model.disinfection import Threshold
    from sebiao_common.domain import TOOL_KINDS

    data = copy.deepcopy(BASE)
    del data["rules"]["wash_required"]
    plain = parse_config(data)
    assert plain.rules.wash_required == frozenset(TOOL_KINDS)  # cloths included
    assert plain.rules.wash_min_seconds == 15
    assert plain.rules.disinfect_required == frozenset() and not plain.disinfection_monitored
    config = load_config(Path(__file__).parents[2] / "examples" / "workshop-disinfect.yaml")
    assert config.rules.disinfect_required == frozenset(TOOL_KINDS) and config.disinfection_monitored
    assert [(s.id, s.method) for s in config.disinfection_stations] == [("sink-white-1", "hot_wash"),
                                                                        ("dis-1", "cabinet")]
    assert config.rules.threshold("cabinet") == Threshold(temp_c=120, hold_seconds=600)
    assert config.rules.threshold("boiling") == Threshold(temp_c=100, hold_seconds=600)
    assert config.rules.threshold("dishwasher") == Threshold(temp_c=85, hold_seconds=40)
    assert config.rules.threshold("hot_wash") == Threshold(temp_c=85, hold_seconds=40)
    assert config.rules.severity_of("undisinfected_return") == "major"


DISINFECT_CASES = [
    ({"stations": [{"id": "dis-1", "kind": "disinfect", "zone": "white", "method": "oven"}]},
     "stations[9].method: 'oven' is not one of: cabinet, boiling, dishwasher"),
    ({"stations": [{"id": "rack-x", "kind": "rack", "zone": "white", "probe": True}]},
     "stations[9].probe: a rack has no temperature probe"),
    ({"stations": [{"id": "sink-x", "kind": "sink", "zone": "white", "method": "cabinet"}]},
     "stations[9].method: 'method' is for disinfect stations, this is a sink"),
    ({"rules": {"disinfect_required": ["knife"]}},
     "rules.disinfect_required: disinfection is required but no station can prove it"),
    ({"stations": [{"id": "dis-1", "kind": "disinfect", "zone": "white", "probe": False}],
      "rules": {"disinfect_required": ["knife"]}},
     "rules.disinfect_required: disinfection is required but no station can prove it"),
    ({"rules": {"disinfect": {"cabinet": {"temp_c": 20}}}}, "rules.disinfect.cabinet.temp_c: 20 must be a temperature"),
    ({"rules": {"disinfect": {"microwave": {}}}}, "rules.disinfect.microwave: unknown key"),
    ({"rules": {"hot_wash": {"hold_seconds": 0}}}, "rules.hot_wash.hold_seconds"),
    ({"rules": {"wash_min_seconds": -1}}, "rules.wash_min_seconds"),
]


@pytest.mark.parametrize("change, message", DISINFECT_CASES, ids=[m for _, m in DISINFECT_CASES])
def test_disinfection_mistakes_name_the_field(change, message):
    data = copy.deepcopy(BASE)
    data["stations"] += change.get("stations", [])
    data["rules"].update(change.get("rules", {}))
    with pytest.raises(ConfigError, match=re.escape(f"workshop.yaml: {message}")):
        parse_config(data, "workshop.yaml")
