"""hardware_docs/mount-*.svg, the mounting drawings: well-formed, bilingual (Chinese first), colour with its name and
shape, dimensions that hardware_docs/mounting.md quotes, numbers that agree with the firmware and the rules, linked
from mounting.md and the installer's guide, and exactly what scripts/mounting_drawings.py draws."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from edge_gateway.model.disinfection import DEFAULT_DISINFECT
from sebiao_common.domain import COLOR_CLASSES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "hardware_docs"
NS = "{http://www.w3.org/2000/svg}"
CJK = re.compile(r"[\u4e00-\u9fff]")
DRAWINGS = {"mount-rack.svg": {"read_area", "tag_gap", "tag_spacing", "neighbour", "standoff", "enclosure", "height"},
            "mount-sink.svg": {"splash", "above_rim", "sticker", "rcd"},
            "mount-cabinet.svg": {"probe", "cable_rating", "cable_length", "reader_distance"}}
MOUNTING = (DOCS / "mounting.md").read_text("utf-8")
ZH, EN = MOUNTING[MOUNTING.index("## 中文"):MOUNTING.index("## English")], MOUNTING[MOUNTING.index("## English"):]
ZONES = {c.key: c for c in COLOR_CLASSES}


def _root(name: str) -> ET.Element:
    return ET.parse(DOCS / name).getroot()  # a ParseError fails the test: not well-formed


def _texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{NS}text")]


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == cls]


def _firmware_defaults() -> dict:
    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        from sebiao_station import config
    finally:
        sys.path.remove(str(ROOT / "firmware"))
    return config.DEFAULTS


def _chinese_first(text: str) -> bool:
    """'中文 / English': the Chinese before the slash, none after it."""
    zh, sep, en = text.partition(" / ")
    return not sep or (bool(CJK.search(zh)) and not CJK.search(en))


@pytest.mark.parametrize("name", DRAWINGS)
def test_each_drawing_has_a_bilingual_title_and_chinese_first_labels(name):
    root = _root(name)
    title = root.find(f"{NS}title")
    assert title is not None and CJK.search(title.text) and _chinese_first(title.text), f"{name}: <title>"
    for text in _texts(root):
        assert _chinese_first(text), f"{name}: {text!r}: Chinese first, then English"
    labels = _groups(root, "label")
    assert len(labels) > 10
    for label in labels:
        lines = _texts(label)
        assert len(lines) == 2 and CJK.search(lines[0]) and not CJK.search(lines[1]), f"{name}: label {lines}"


@pytest.mark.parametrize("name", DRAWINGS)
def test_every_zone_colour_is_drawn_with_its_name_and_shape(name):
    root = _root(name)
    zones = _groups(root, "zone")
    assert zones, f"{name}: no zone colour drawn"
    text = "\n".join(_texts(root))
    for zone in zones:
        c = ZONES[zone.get("data-color")]
        assert zone.get("data-shape") == c.shape
        shape = next(iter(zone))
        assert (shape.tag == f"{NS}circle") == (c.shape == "circle") and shape.get("fill") == c.hex, name
        assert f"{c.zh} {c.symbol} {c.shape_zh}" in text and f"{c.en} {c.symbol} {c.shape}" in text, (name, c.key)


@pytest.mark.parametrize("name", DRAWINGS)
def test_the_dimensions_are_the_ones_mounting_md_quotes(name):
    dims = {g.get("data-key"): g for g in _groups(_root(name), "dim")}
    assert set(dims) == DRAWINGS[name], f"{name}: dimensions {sorted(dims)}"
    for key, g in dims.items():
        value = g.get("data-value")
        assert value in " ".join(_texts(g)), f"{name}: {key}: the drawing does not show {value!r}"
        assert value in ZH and value in EN, f"{name}: {key}: mounting.md does not quote {value!r} in both languages"
        assert len(_groups(g, "label")) == 1, f"{name}: {key}: what it measures"


def test_the_key_numbers_agree_with_mounting_md_the_firmware_and_the_rules():
    rack = {g.get("data-key"): g.get("data-value") for g in _groups(_root("mount-rack.svg"), "dim")}
    # the reader's range (mounting.md, "读卡距离" / "Read distances") and the neighbour rule, in both languages
    assert rack["tag_gap"] == "0.5–2 cm" and "**0.5–2 cm**" in ZH and "**0.5–2 cm**" in EN
    assert rack["read_area"] == "5×5 cm" and "约 5×5 cm" in ZH and "about 5×5 cm" in EN
    assert rack["neighbour"] == "≥ 10 cm" and "≥ 10 cm（MFRC522）" in ZH and "≥ 10 cm apart (MFRC522)" in EN
    assert rack["standoff"] == "15–20 mm" and "≥ 15–20 mm" in ZH and "≥ 15–20 mm" in EN
    # one rule of tools per station: the firmware's reader.max_tags, as mounting.md and example-workshop.md say
    limit = _firmware_defaults()["reader"]["max_tags"]
    (fact,) = [g for g in _groups(_root("mount-rack.svg"), "fact") if g.get("data-key") == "max_tags"]
    assert fact.get("data-value") == f"≤ {limit}" and f"默认 {limit}" in ZH and f"default {limit}" in EN
    assert f"`reader.max_tags` 默认 {limit}" in (DOCS / "example-workshop.md").read_text("utf-8")
    # the enclosure of the worked example's parts list
    assert rack["enclosure"] == "115×90×55 mm" and "115×90×55 mm" in (DOCS / "example-workshop.md").read_text()
    # the probe: its pin, and the cabinet's threshold, as the firmware and the rules have them
    cabinet = "\n".join(_texts(_root("mount-cabinet.svg")))
    pin = json.loads((ROOT / "firmware" / "defaults.json").read_text())["probe"]["pin"]
    assert f"GPIO{pin}" in cabinet and f"GPIO{pin}" in (DOCS / "probe.md").read_text("utf-8")
    threshold = DEFAULT_DISINFECT["cabinet"]
    assert f"{threshold.temp_c:g} °C 保持 {threshold.hold_seconds} s" in cabinet
    probe = {g.get("data-key"): g.get("data-value") for g in _groups(_root("mount-cabinet.svg"), "dim")}
    probe_md = (DOCS / "probe.md").read_text("utf-8")
    assert probe["probe"] in probe_md and probe["cable_rating"] in probe_md


def test_the_drawings_are_linked_from_mounting_md_and_the_guide():
    guide = (ROOT / "docs" / "installer-guide.md").read_text("utf-8")
    for name in DRAWINGS:
        assert f"]({name})" in ZH and f"]({name})" in EN, f"mounting.md: no link to {name} in both languages"
        assert f"](../hardware_docs/{name})" in guide, f"installer-guide.md: no link to {name}"
    assert all(name in (DOCS / "README.md").read_text("utf-8") for name in DRAWINGS)


def test_the_files_are_what_the_script_draws():
    spec = importlib.util.spec_from_file_location("mounting_drawings", ROOT / "scripts" / "mounting_drawings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.render()
    assert set(drawn) == set(DRAWINGS)
    for name, text in drawn.items():
        assert (DOCS / name).read_text("utf-8") == text, f"{name} is stale: run scripts/mounting_drawings.py"
    assert module.PROBE_PIN == json.loads((ROOT / "firmware" / "defaults.json").read_text())["probe"]["pin"]
    assert module.CABINET == (DEFAULT_DISINFECT["cabinet"].temp_c, DEFAULT_DISINFECT["cabinet"].hold_seconds)
