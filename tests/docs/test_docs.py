"""The documents are executable: their YAML and JSON examples are what the code accepts."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from edge_gateway.model.disinfection import DEFAULT_DISINFECT, judge_cycle
from edge_gateway.model.protocol import decode_cycle, decode_event, decode_status
from edge_gateway.model.workshop import parse_config

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLE = yaml.safe_load((Path(__file__).parents[2] / "examples" / "workshop.yaml").read_text("utf-8"))


def blocks(doc: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / doc).read_text("utf-8"), re.S)


def test_the_whole_config_example_loads():
    whole = yaml.safe_load(blocks("config.md", "yaml")[0])
    config = parse_config(whole, "docs/config.md")
    assert config.tool("KN-R-01").home == "rack-red-1"
    assert config.broker.url == "mqtt://127.0.0.1:1883"


@pytest.mark.parametrize("index", [1, 2])
def test_rule_snippets_merge_into_the_example(index):
    snippet = yaml.safe_load(blocks("config.md", "yaml")[index])
    data = copy.deepcopy(EXAMPLE)
    data["rules"].update(snippet["rules"])
    config = parse_config(data, "docs/config.md")
    assert config.rules.severity_of("raw_to_white") == "critical"


def test_the_error_example_is_what_the_gateway_says():
    (text,) = blocks("config.md", "text")
    data = copy.deepcopy(EXAMPLE)
    data["tools"][3]["home"] = "rack-red-9"
    with pytest.raises(Exception) as info:
        parse_config(data, "workshop.yaml")
    assert str(info.value) == text.strip()


def test_protocol_examples_decode():
    examples = [json.loads(b) for b in blocks("protocol.md", "json")]
    event, status, will, command, alarm, cycle = examples
    decoded = decode_event("rack-red-1", json.dumps(event).encode())
    assert decoded.action == "removed" and decoded.tag == "04A224E2C65E80"
    assert decode_status("rack-red-1", json.dumps(status).encode()).online is True
    assert decode_status("rack-red-1", json.dumps(will).encode()).online is False
    assert command["cmd"] == "feedback"
    assert set(alarm) >= {"id", "type", "severity", "state", "tool", "tag", "station", "ts", "text"}
    decoded_cycle = decode_cycle("dis-1", json.dumps(cycle).encode())
    verdict = judge_cycle(decoded_cycle, "cabinet", DEFAULT_DISINFECT["cabinet"])
    assert verdict.passed and verdict.hold_seconds == 600  # eleven samples at or above 120 °C, a minute apart


def test_the_alarm_example_is_what_the_engine_publishes(tmp_path):
    from workshop_sim import Sim

    alarm = [json.loads(b) for b in blocks("protocol.md", "json")][4]
    sim = Sim(tmp_path).all_online()
    sim.at(10).event("rack-red-1", "KN-R-01", "removed")
    out = sim.at(20).event("rack-white-1", "KN-R-01", "placed")
    published = json.loads(next(m.payload for m in out.messages if m.topic.endswith("/alarm")))
    assert published["text"] == alarm["text"]
    assert set(published) == set(alarm)
