"""hardware_docs/: the wiring diagrams match the firmware's pins, and the guide is complete.

The SVGs mark every wire as <g class="wire" data-signal="<pins key>" data-gpio="N">
with a visible <text class="esp-pin">GPION</text>; both are compared with
firmware/defaults.json and the firmware's own config defaults.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from edge_gateway.model.disinfection import DEFAULT_DISINFECT
from sebiao.cli import SUBCOMMANDS, build_parser
from sebiao_common.domain import COLOR_CLASSES, TOOL_KIND_TABLE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "hardware_docs"
SVG_NS = "{http://www.w3.org/2000/svg}"
PINS = json.loads((ROOT / "firmware" / "defaults.json").read_text())["pins"]
MARKDOWN = sorted(DOCS.glob("*.md"))
# the module pin each signal goes to, per reader (datasheet / board silk-screen names)
MODULE_PINS = {
    "mfrc522": {"spi_sck": "SCK", "spi_mosi": "MOSI", "spi_miso": "MISO", "reader_cs": "SDA (SS)",
                "reader_rst": "RST", "reader_irq": "IRQ"},
    "pn532": {"spi_sck": "SCK", "spi_mosi": "MOSI", "spi_miso": "MISO", "reader_cs": "SS (NSS)",
              "reader_rst": "RSTPDN", "reader_irq": "IRQ"},
}
# sebiao subcommands the guide may name before they are registered (issue 4's device tooling)
PLANNED = {"firmware": {"build", "flash", "deploy", "provision"}, "label": {"write"}}


def _firmware_defaults() -> dict:
    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        from sebiao_station import config
    finally:
        sys.path.remove(str(ROOT / "firmware"))
    return config.DEFAULTS


def _wires(reader: str) -> list[ET.Element]:
    path = DOCS / f"wiring-{reader}.svg"
    root = ET.parse(path).getroot()
    assert root.get("data-reader") == reader, f"{path.name}: data-reader"
    return [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "wire"]


def test_firmware_defaults_are_defaults_json():
    defaults = _firmware_defaults()
    assert defaults["pins"] == PINS, "firmware/sebiao_station/config.py DEFAULTS['pins'] != firmware/defaults.json"
    assert defaults["reader"]["gain"] == 4  # the guide documents mid-range gain 4 (33 dB) as the default


@pytest.mark.parametrize("reader", ["mfrc522", "pn532"])
def test_wiring_svg_pins_match_the_firmware(reader):
    fw_pins = _firmware_defaults()["pins"]
    wires = _wires(reader)
    signals = [w.get("data-signal") for w in wires if w.get("data-gpio") is not None]
    assert sorted(signals) == sorted(PINS), f"wiring-{reader}.svg: each pin exactly once"
    for wire in wires:
        signal, gpio = wire.get("data-signal"), wire.get("data-gpio")
        shown = [t.text for t in wire.iter(f"{SVG_NS}text") if t.get("class") == "esp-pin"]
        if gpio is None:  # power: 3V3 / GND
            assert signal in ("3v3", "gnd") and shown == [signal.upper()], f"{reader}: {signal}"
            continue
        where = f"wiring-{reader}.svg: {signal}"
        assert int(gpio) == PINS[signal] == fw_pins[signal], f"{where}: GPIO{gpio}, firmware says {PINS[signal]}"
        assert shown == [f"GPIO{PINS[signal]}"], f"{where}: the label reads {shown}"
        if signal in MODULE_PINS[reader]:
            assert wire.get("data-module-pin") == MODULE_PINS[reader][signal], where
            labels = [t.text for t in wire.iter(f"{SVG_NS}text") if t.get("class") == "module-pin"]
            assert labels == [MODULE_PINS[reader][signal]], where
    power = {w.get("data-signal") for w in wires if w.get("data-gpio") is None}
    assert power == {"3v3", "gnd"}


def test_wiring_table_matches_the_firmware():
    rows = re.findall(r"^\| `(\w+)` \| GPIO(\d+) \|", (DOCS / "wiring.md").read_text(), re.M)
    assert len(rows) == 2 * len(PINS)  # Chinese and English tables
    for signal, gpio in rows:
        assert PINS[signal] == int(gpio), f"wiring.md: {signal} is GPIO{gpio}, firmware says {PINS[signal]}"


def _sections(path: Path) -> tuple[str, str]:
    text = path.read_text()
    zh, en = text.find("## 中文"), text.find("## English")
    assert 0 <= zh < en, f"{path.name}: a '## 中文' section first, then '## English'"
    return text[zh:en], text[en:]


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("path", [p for p in MARKDOWN if p.name != "README.md"], ids=lambda p: p.name)
def test_every_page_is_chinese_first_then_english(path):
    zh, en = _sections(path)
    assert len(CJK.findall(zh)) > 0.2 * len(zh.split()), f"{path.name}: the 中文 section is not Chinese"
    prose = CJK.sub("", en)
    assert len(CJK.findall(en)) < 0.15 * len(prose.split()), f"{path.name}: the English section is mostly Chinese"
    # both halves carry the same tables: same number of table rows
    assert zh.count("\n|") == en.count("\n|"), f"{path.name}: the two languages' tables differ"


def _all() -> str:
    return "\n".join(p.read_text() for p in MARKDOWN)


def test_every_colour_class_is_documented_with_its_shape():
    zh, en = _sections(DOCS / "tags.md")
    for c in COLOR_CLASSES:
        assert f"| {c.zh} | {c.purpose_zh} | {c.shape_zh} {c.symbol} |" in zh, c.key
        assert f"| {c.en} | {c.purpose_en} | {c.shape} {c.symbol} |" in en, c.key


def test_every_tool_kind_has_its_seed_label_position():
    zh, en = _sections(DOCS / "tags.md")
    for k in TOOL_KIND_TABLE:
        assert re.search(rf"^\| {k.number} \| {re.escape(k.zh)} \| {re.escape(k.label_position_zh)} \|", zh, re.M), k.key
        assert re.search(rf"^\| {k.number} \| {re.escape(k.en)} \| {re.escape(k.label_position_en)}", en, re.M), k.key


def test_bom_names_the_tag_type_of_every_tool_kind():
    zh, en = _sections(DOCS / "bom.md")
    want = {"knife": ("抗金属", "on-metal"), "scissors": ("抗金属", "on-metal"),
            "cutting_board": ("密封防水耐高温", "sealed waterproof high-temperature"),
            "brush": ("密封防水耐高温", "sealed waterproof high-temperature"),
            "container": ("密封防水耐高温", "sealed waterproof high-temperature"),
            "cloth": ("洗衣标签", "laundry tag")}
    # every tool is disinfected (六(三)): its tag outlasts the hottest default disinfection method
    hottest = max(t.temp_c for t in DEFAULT_DISINFECT.values())
    for k in TOOL_KIND_TABLE:
        if k.key == "sink":
            continue
        zh_word, en_word = want[k.key]
        zh_row = re.search(rf"^\| {re.escape(k.zh)}.*$", zh, re.M)
        en_row = re.search(rf"^\| {re.escape(k.en)}\b.*$", en, re.M)
        assert zh_row and zh_word in zh_row.group(0), f"bom.md 中文: {k.zh}"
        assert en_row and en_word in en_row.group(0), f"bom.md English: {k.en}"
        for row in (zh_row.group(0), en_row.group(0)):
            rated = re.search(r"≥ (\d+) °C", row)
            assert rated and int(rated.group(1)) > hottest, f"bom.md: {k.en}'s tag is not rated above {hottest} °C"
    for words in (("ESP32-WROOM-32E", "MFRC522", "PN532", "NTAG213", "IP65", "PoE", "5 V", "格兰头", "铁氧体"),
                  ("ESP32-WROOM-32E", "MFRC522", "PN532", "NTAG213", "IP65", "PoE", "5 V", "cable gland", "ferrite")):
        section = zh if "格兰头" in words else en
        for w in words:
            assert w in section, f"bom.md: {w} missing"
    assert re.search(r"¥\d", zh) and re.search(r"\$\d", en), "bom.md: prices"


def test_both_readers_are_covered_everywhere_it_matters():
    for name in ("bom.md", "wiring.md", "mounting.md"):
        text = (DOCS / name).read_text()
        for reader in ("MFRC522", "PN532"):
            assert text.count(reader) >= 2, f"{name}: {reader} in both languages"
    assert "20×20 mm" in (DOCS / "tags.md").read_text()
    mounting = (DOCS / "mounting.md").read_text()
    for topic in ("铁氧体", "ferrite", "抗金属", "on-metal", "reader.gain", "standoffs", "饱和", "saturates"):
        assert topic in mounting, f"mounting.md: {topic}"


COMMAND = re.compile(r"`(sebiao [^`]+)`|^(sebiao [^\n#]+)", re.M)


def test_the_commands_in_the_guide_exist_and_parse():
    parser = build_parser()
    seen = set()
    for path in MARKDOWN:
        for m in COMMAND.finditer(path.read_text()):
            line = (m.group(1) or m.group(2)).strip()
            argv = shlex.split(line.replace("<", "").replace(">", ""))[1:]
            if not argv or argv[0].startswith("-"):
                continue
            seen.add(argv[0])
            if argv[0] in SUBCOMMANDS:
                if len(argv) == 1 or argv[1] == "..." or not any(a.startswith("-") for a in argv):
                    continue  # a mention of the command (e.g. `sebiao firmware provision`), not an invocation
                parser.parse_args(argv)  # SystemExit on an unknown option: the guide is out of date
            else:
                assert argv[0] in PLANNED, f"{path.name}: `{line}`: no such sebiao command"
                assert len(argv) > 1 and argv[1] in PLANNED[argv[0]], f"{path.name}: `{line}`"
    assert {"broker-config", "gateway", "labels", "firmware", "label"} <= seen
    install = (DOCS / "install.md").read_text()
    for sub in ("build", "flash", "deploy", "provision"):
        assert f"sebiao firmware {sub}" in install


def test_the_checklist_ends_with_every_station_and_every_tool():
    zh, en = _sections(DOCS / "install.md")
    for section, station, tool in ((zh, "逐个读卡站", "逐件器具"), (en, "every station", "every tool")):
        headings = re.findall(r"^### \d+\. (.+)$", section, re.M)
        assert station in headings[-3] and tool in headings[-2], headings  # the last is the handover
        assert "cross_zone_wash" in section and "unwashed_return" in section


def test_probe_wiring_svg_matches_the_firmware():
    defaults = json.loads((ROOT / "firmware" / "defaults.json").read_text())
    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        from sebiao_station import config
    finally:
        sys.path.remove(str(ROOT / "firmware"))
    pin = defaults["probe"]["pin"]
    assert config.PROBE_DEFAULTS["pin"] == pin, "config.py PROBE_DEFAULTS['pin'] != firmware/defaults.json"
    assert pin not in PINS.values() and pin not in config.PROBE_INPUT_ONLY
    root = ET.parse(DOCS / "wiring-ds18b20.svg").getroot()
    assert root.get("data-probe") == "ds18b20"
    wires = {g.get("data-signal"): g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "wire"}
    assert set(wires) == {"3v3", "gnd", "probe"}
    assert wires["probe"].get("data-gpio") == str(pin)
    shown = [t.text for t in wires["probe"].iter(f"{SVG_NS}text") if t.get("class") == "esp-pin"]
    assert shown == [f"GPIO{pin}"]
    assert wires["probe"].get("data-module-pin").startswith("DQ") and wires["3v3"].get("data-module-pin").startswith("VDD")
    (pull_up,) = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "pull-up"]
    assert pull_up.get("data-ohms") == "4700" and pull_up.get("data-between") == "3v3 probe"


def test_the_probe_page_covers_rating_pull_up_pin_mounting_and_hot_tags():
    zh, en = _sections(DOCS / "probe.md")
    pin = json.loads((ROOT / "firmware" / "defaults.json").read_text())["probe"]["pin"]
    for section in (zh, en):
        for word in ("DS18B20", "-55", "125 °C", "4.7 kΩ", f"GPIO{pin}", "3.3 V", "PPS", "150 °C", "PET",
                     "PT100", "MAX31865", "probe.pin", "start_c"):
            assert word in section, f"probe.md: {word!r} missing"
    for zh_word, en_word in (("消毒柜", "cabinet"), ("煮沸", "boiling"), ("洗碗机", "dishwasher"),
                             ("清洗池", "sink"), ("陶瓷", "ceramic"), ("寄生供电", "parasite power")):
        assert zh_word in zh and en_word in en, (zh_word, en_word)
    bom_zh, bom_en = _sections(DOCS / "bom.md")
    for section, hot_tag in ((bom_zh, "NTAG213，额定 ≥ 150 °C"), (bom_en, "NTAG213 rated ≥ 150 °C")):
        for word in ("DS18B20+", "MFR-25FBF52-4K7", "PG7", hot_tag):
            assert word in section, f"bom.md: {word!r} missing"
    assert "wiring-ds18b20.svg" in (DOCS / "probe.md").read_text() and "probe.md" in (DOCS / "README.md").read_text()


def _table(section: str, head: str) -> list[list[str]]:
    """The rows of the table whose header row starts with ``head``."""
    start = section.index(f"| {head} |")
    rows = []
    for line in section[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_the_worked_workshop_adds_up_and_keeps_to_the_readers_limit():
    """The example's stations hold at most what a reader follows, its tools add up, and its total is its lines'."""
    zh, en = _sections(DOCS / "example-workshop.md")
    limit = _firmware_defaults()["reader"]["max_tags"]
    for section, head, total in ((zh, "读卡站", r"合计：¥([\d,]+)"), (en, "station", r"Total: ¥([\d,]+)")):
        stations = _table(section, head)
        assert len(stations) == 10 and sum(int(r[-1]) for r in stations) == 30
        assert all(int(r[-1]) <= limit for r in stations), f"a station holds more than the {limit} tags a reader follows"
        parts = _table(section, "物料" if section is zh else "part")
        for name, qty, unit, line in parts:
            assert float(qty) * float(unit) == float(line), f"example-workshop.md: {name}"
        stated = int(re.search(total, section).group(1).replace(",", ""))
        assert stated == sum(float(r[3]) for r in parts)
    for doc in ("bom.md", "mounting.md"):  # one rule for tools per station across the guide
        text = (DOCS / doc).read_text()
        assert f"默认 {limit}" in text or f"默认 **{limit}**" in text, doc
        assert "一个**标签" not in text and "one** tag per reader" not in text, doc
